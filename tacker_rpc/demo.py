"""The README's main job: a Service and a client on the in-memory transport.

    python -m tacker_rpc.demo

No broker is needed: oslo.messaging's ``kombu+memory:////`` transport runs
inside this process. The demo starts a Service, calls it, casts to it,
catches a remote exception as its own class, then stalls the server so the
caller's timeout grows (1, 2, 4 s) and lets it answer again so the timeout
comes back down.
"""

import logging
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


class DemoManager:
    """What the demo's Service serves."""

    def __init__(self):
        self.stall_seconds = 0.0
        self.casts = []
        self._cast_received = threading.Event()

    def echo(self, ctxt, value):
        return value

    def whoami(self, ctxt):
        return {"user_id": ctxt.user_id, "project_id": ctxt.project_id,
                "request_id": ctxt.request_id}

    def work(self, ctxt, n):
        time.sleep(self.stall_seconds)
        return n * 2

    def remember(self, ctxt, note):
        self.casts.append(note)
        self._cast_received.set()

    @oslo_messaging.expected_exceptions(exceptions.InvalidContext)
    def refuse(self, ctxt):
        raise exceptions.InvalidContext("the demo refuses this on purpose")

    def wait_for_cast(self, timeout):
        return self._cast_received.wait(timeout)


def make_conf(transport_url="kombu+memory:////", response_timeout=1):
    conf = cfg.ConfigOpts()
    conf([], project="tacker_rpc_demo")
    opts.register_opts(conf)
    conf.set_override("transport_url", transport_url)
    conf.set_override("rpc_response_timeout", response_timeout)
    conf.set_override("rpc_backoff_max_splay", 0.2)
    return conf


def timeout_of(method):
    for entry in backoff.TIMEOUTS.snapshot():
        if entry.key.topic == TOPIC and entry.key.method == method:
            return entry.timeout
    return None


def run(out=print):
    """Run the demo, writing what happens through ``out``."""
    rpc.init(make_conf())
    manager = DemoManager()
    service = rpc.Service(HOST, TOPIC, manager=manager)
    service.start()
    try:
        client = rpc.get_client(oslo_messaging.Target(topic=TOPIC))
        ctxt = context.RequestContext(user_id="alice", project_id="demo")
        out("transport: kombu+memory:////  (in this process, no broker)")
        out("call echo(value='hello')      -> %r"
            % client.call(ctxt, "echo", value="hello"))
        out("call whoami()                 -> %r"
            % client.call(ctxt, "whoami"))
        client.cast(ctxt, "remember", note="cast at %.0f" % time.time())
        manager.wait_for_cast(5)
        out("cast remember(note=...)       -> server got %r" % manager.casts)
        try:
            client.call(ctxt, "refuse")
        except exceptions.InvalidContext as exc:
            out("call refuse()                 -> raised InvalidContext "
                "(rebuilt from the server's): %s" % str(exc).splitlines()[0])

        out("")
        out("The server now stalls 5 s per call; rpc_response_timeout = 1 s.")
        manager.stall_seconds = 5.0
        for attempt in range(3):
            used = timeout_of("work") or 1.0
            started = time.monotonic()
            try:
                client.call(ctxt, "work", n=attempt)
            except oslo_messaging.MessagingTimeout:
                out("  call work -> MessagingTimeout after %.1fs; timeout "
                    "was %gs, now %gs" % (time.monotonic() - started, used,
                                          timeout_of("work")))
        out("The server answers fast again.")
        manager.stall_seconds = 0.0
        for attempt in range(3):
            result = client.call(ctxt, "work", n=attempt)
            out("  call work -> %r; timeout now %gs" % (result,
                                                      timeout_of("work")))
    finally:
        service.stop()
        rpc.cleanup()


def main():
    logging.basicConfig(level=logging.WARNING, format="  log: %(message)s")
    for noisy in ("oslo_messaging", "kombu"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    run()


if __name__ == "__main__":
    main()
