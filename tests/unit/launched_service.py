"""A daemon as doc/migrating.rst runs one, on the in-memory transport.

    python -m tests.unit.launched_service WORKERS

rpc.init, then ``oslo_service.service.launch(conf, rpc.Service(...),
workers=WORKERS).wait()``. Each worker process has its own in-memory
broker, so nothing can call it from outside: the process structure and
its signals are what tests/unit/test_launch_signals.py looks at.
"""

import sys

from oslo_service import service as oslo_service

from tacker_rpc import compat
from tacker_rpc import rpc
from tests.config import MEMORY_URL
from tests.config import make_conf

#: ``graceful_shutdown_timeout`` of the daemon, in seconds.
GRACEFUL_SHUTDOWN_TIMEOUT = 10


class EchoManager:
    def echo(self, ctxt, value):
        return value


def main(workers):
    conf = make_conf(MEMORY_URL)
    for group, options in compat.service_option_groups():
        conf.register_opts(options, group=group)
    conf.set_override("graceful_shutdown_timeout", GRACEFUL_SHUTDOWN_TIMEOUT)
    rpc.init(conf)
    server = rpc.Service("launched-host", "launched", manager=EchoManager())
    return oslo_service.launch(conf, server, workers=workers).wait()


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
