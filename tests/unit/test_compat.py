"""What tacker_rpc.compat does for the older oslo releases."""

import statistics
import subprocess
import sys
import textwrap
import time

import oslo_messaging
import pytest

from tacker_rpc import deadline
from tacker_rpc import rpc

#: How often oslo.messaging before 18.2 looks for a reply.
POLL_INTERVAL = 0.5


def test_a_caller_wakes_when_its_reply_arrives_not_at_the_next_poll(
        init_rpc, memory_server):
    init_rpc()
    memory_server("prompt")
    client = rpc.get_client(oslo_messaging.Target(topic="prompt"))
    client.call({}, "echo", value=0)  # opens the reply queue
    durations = []
    for value in range(1, 6):
        started = time.monotonic()
        assert client.call({}, "echo", value=value) == value
        durations.append(time.monotonic() - started)
    # Polling makes every call last at least POLL_INTERVAL; the median
    # leaves room for one call delayed by a busy machine.
    assert statistics.median(durations) < POLL_INTERVAL, durations


def test_a_conf_holding_the_service_options_can_be_launched():
    # In a process of its own: the launcher installs signal handlers. The
    # threading launcher, as in a daemon that built a Service.
    code = textwrap.dedent("""
        from tacker_rpc import backend
        backend.select_threading()
        from oslo_config import cfg
        from oslo_service import service
        from tacker_rpc import compat
        conf = cfg.ConfigOpts()
        conf([])
        for group, options in compat.service_option_groups():
            conf.register_opts(options, group=group)
        conf.set_override("graceful_shutdown_timeout", 7)
        service.launch(conf, service.Service())
        print(conf.graceful_shutdown_timeout)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "7"


def test_a_deadline_passed_while_publishing_ends_the_send_as_itself(
        init_rpc):
    # Through oslo.messaging's own Connection.ensure, which before 18.3.1
    # turned it into MessageDeliveryFailure ("Unable to connect").
    init_rpc()
    target = oslo_messaging.Target(topic="expired")
    transport = rpc.get_client(target).transport
    deadline.begin(0.001)
    try:
        time.sleep(0.01)
        with pytest.raises(deadline._Expired):
            transport._send(target, {}, {"method": "m", "args": {}})
    finally:
        deadline.end()
