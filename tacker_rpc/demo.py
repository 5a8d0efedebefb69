"""The README's main job: a Service and a client on the in-memory transport.

    tacker-rpc demo            (or: python -m tacker_rpc.demo)

No broker is needed: oslo.messaging's ``kombu+memory:////`` transport runs
inside this process. The demo starts a Service, calls it, casts to it,
catches a remote exception as its own class, then stalls the server so the
caller's timeout grows (1, 2, 4 s) and lets it answer again so the timeout
comes back down. Each step is one row of a table over time.
"""

import threading
import time

from oslo_config import cfg
import oslo_messaging

from tacker_rpc import backoff
from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import opts
from tacker_rpc import rpc

TOPIC = "demo"
HOST = "demo-host"
MEMORY_URL = "kombu+memory:////"
#: How long a stalled call waits at most before answering anyway.
STALL_LIMIT = 30.0

#: Columns of the rows :func:`run` reports, with their widths in a table.
COLUMNS = (("t", 5), ("phase", 9), ("call", 16), ("outcome", 30),
           ("took", 5), ("timeout", 7))


class DemoManager:
    """What the demo's Service serves."""

    def __init__(self):
        self.casts = []
        self._cast_received = threading.Event()
        self._answering = threading.Event()
        self._answering.set()

    def echo(self, ctxt, value):
        """Return ``value``."""
        return value

    def whoami(self, ctxt):
        """The caller's identity, as the request context carried it."""
        return {"user_id": ctxt.user_id, "project_id": ctxt.project_id}

    def work(self, ctxt, n):
        """Return ``n * 2``, late while the server is stalled."""
        self._answering.wait(STALL_LIMIT)
        return n * 2

    def remember(self, ctxt, note):
        """Keep ``note`` (sent as a cast)."""
        self.casts.append(note)
        self._cast_received.set()

    @oslo_messaging.expected_exceptions(exceptions.InvalidContext)
    def refuse(self, ctxt):
        """Always raise InvalidContext."""
        raise exceptions.InvalidContext("the demo refuses this on purpose")

    def _stall(self, stalled):
        if stalled:
            self._answering.clear()
        else:
            self._answering.set()

    def _wait_for_cast(self, timeout):
        return self._cast_received.wait(timeout)


def make_conf(transport_url=MEMORY_URL):
    """A configuration for the demo on ``transport_url``."""
    conf = cfg.ConfigOpts()
    conf([], project="tacker_rpc_demo", default_config_files=[],
         default_config_dirs=[])
    opts.register_opts(conf)
    conf.set_override("transport_url", transport_url)
    return configure(conf)


def configure(conf):
    """Give ``conf`` the demo's timings (1 s timeouts, short splays)."""
    conf.set_override("rpc_response_timeout", 1)
    conf.set_override("rpc_backoff_max_splay", 0.2)
    return conf


def timeout_of(method):
    """The timeout the next call of the demo's ``method`` will use."""
    for entry in backoff.TIMEOUTS.snapshot():
        if entry.key.topic == TOPIC and entry.key.method == method:
            return entry.timeout
    return None


def run(report, conf=None):
    """Run the demo; ``report(row)`` gets one dict per step, keyed by the
    names of :data:`COLUMNS`, as it happens."""
    rpc.init(conf or make_conf())
    manager = DemoManager()
    service = rpc.Service(HOST, TOPIC, manager=manager)
    service.start()
    began = time.monotonic()

    def step(phase, call, action, default_timeout=None):
        started = time.monotonic()
        try:
            outcome = action()
        except oslo_messaging.MessagingTimeout:
            outcome = "MessagingTimeout"
        except exceptions.InvalidContext:
            outcome = "InvalidContext raised, as remote"
        method = call.partition("(")[0]
        report({"t": round(started - began, 1), "phase": phase,
                "call": call, "outcome": outcome,
                "took": round(time.monotonic() - started, 1),
                "timeout": timeout_of(method) or default_timeout})

    try:
        client = rpc.get_client(oslo_messaging.Target(topic=TOPIC))
        ctxt = context.RequestContext(user_id="alice", project_id="demo")
        step("normal", "echo('hello')",
             lambda: repr(client.call(ctxt, "echo", value="hello")))
        step("normal", "whoami()", lambda: "user %(user_id)s, project "
             "%(project_id)s" % client.call(ctxt, "whoami"))

        def cast():
            client.cast(ctxt, "remember", note="hello by cast")
            manager._wait_for_cast(10)
            return "server got %d note(s)" % len(manager.casts)
        step("normal", "cast remember()", cast)
        step("normal", "refuse()", lambda: client.call(ctxt, "refuse"))

        manager._stall(True)
        for n in range(3):
            step("stalled", "work(%d)" % n,
                 lambda n=n: repr(client.call(ctxt, "work", n=n)))
        manager._stall(False)
        for n in range(3, 6):
            step("recovered", "work(%d)" % n,
                 lambda n=n: repr(client.call(ctxt, "work", n=n)))
    finally:
        manager._stall(False)
        service.stop()
        rpc.cleanup()


def main():
    from tacker_rpc.cli import main as cli_main
    cli_main.main(["demo"])


if __name__ == "__main__":
    main()
