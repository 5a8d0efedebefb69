"""Faults that close nothing: a frozen broker, a memory alarm, a silent or
half-open link.

A restarted broker or a killed node closes sockets, and the drivers notice
at once. These faults close nothing, so every wait of a call that has no
bound of its own (creating a pooled connection, the AMQP handshake,
publishing on a blocked connection, waiting for a confirm or for the
reply) shows. Each scenario, on both drivers: a server process answers
the topic; the client (this process) makes one call, then the fault starts
and four calls start at once. Every one of them must return or raise within
the whole-call deadline (doc/differences.rst): its timeout plus the splay,
plus one reconnection pause while the broker is unreachable, plus
:data:`ALLOWANCE`. The fault lasts :data:`FAULT_SECONDS` at least (longer
than a heartbeat timeout, so that the drivers' connections are declared
dead and reconnected while it lasts). After the fault clears, calls answer
again and 30 casts each reach the server exactly once; no call was handled
twice.
"""

import os
import signal
import time
import uuid

import oslo_messaging
import pytest

from tacker_rpc import deadline
from tacker_rpc import opts
from tacker_rpc import rpc
from tests import broker as broker_mod
from tests.functional.faults import relay as relay_mod
from tests.functional.faults import traffic as traffic_mod

RESPONSE_TIMEOUT = 3
SPLAY = 1
INTERVAL_MAX = 2
HEARTBEAT = 6
#: Beyond the promise: what a loaded two-core machine, running the broker,
#: the server and the client, may add to a call that ends at its bound (a
#: timed wait's expiry reaching the waiting thread, the splay's sleep, the
#: raise through the driver's error handling).
ALLOWANCE = 1.5
#: The least time a fault lasts: past a heartbeat timeout.
FAULT_SECONDS = HEARTBEAT + 2
CONCURRENT_CALLS = 4
CASTS_AFTER = 30
RABBIT_SETTINGS = {
    "rpc_response_timeout": RESPONSE_TIMEOUT,
    "rpc_backoff_max_splay": SPLAY,
    "oslo_messaging_rabbit__rabbit_interval_max": INTERVAL_MAX,
    "oslo_messaging_rabbit__heartbeat_timeout_threshold": HEARTBEAT,
}
SERVER_SETTINGS = [
    "oslo_messaging_rabbit.rabbit_interval_max=%d" % INTERVAL_MAX,
    "oslo_messaging_rabbit.heartbeat_timeout_threshold=%d" % HEARTBEAT,
]


@pytest.fixture(scope="module")
def own_broker():
    """A node of this module's own: its faults touch no other test."""
    with broker_mod.RabbitBroker(name="trpcsf") as broker:
        yield broker


def call_bound(conf):
    """How long a call may take while the fault lasts (module docstring)."""
    settings = opts.backoff_settings(conf)
    return (settings.default_timeout + settings.max_splay
            + deadline.reconnect_pause_bound(conf) + ALLOWANCE)


def recovery_bound(conf):
    """How soon after the fault clears a call must answer: a connection
    the fault broke is found dead within a heartbeat timeout, the driver
    reconnects within one reconnection pause, and the call made then
    answers within its bound."""
    return HEARTBEAT + deadline.reconnect_pause_bound(conf) + call_bound(
        conf)


class FrozenBroker:
    """SIGSTOP of the broker's Erlang VM (a paused VM, a stalled node)."""

    name = "broker frozen (SIGSTOP)"

    def __init__(self, broker):
        output = broker.rabbitmqctl("eval", "os:getpid().")
        self.pid = int(output.strip().strip('"'))

    def start(self):
        os.kill(self.pid, signal.SIGSTOP)

    def stop(self):
        os.kill(self.pid, signal.SIGCONT)


class MemoryAlarm:
    """A memory alarm: the broker blocks every publishing connection."""

    name = "memory alarm (publishers blocked)"

    def __init__(self, broker):
        self.broker = broker

    def start(self):
        self.broker.rabbitmqctl("set_vm_memory_high_watermark", "absolute",
                                "1")

    def stop(self):
        # RabbitMQ's default.
        self.broker.rabbitmqctl("set_vm_memory_high_watermark", "0.4")


class SilentLink:
    """The client's link to the broker drops everything, closing nothing
    (a :class:`~tests.functional.faults.relay.SilentRelay`)."""

    name = "silent link (relay stops forwarding)"
    directions = (relay_mod.UP, relay_mod.DOWN)

    def __init__(self, relay):
        self.relay = relay

    def start(self):
        self.relay.silence(self.directions)

    def stop(self):
        self.relay.restore()


class HalfOpenLink(SilentLink):
    """The client's requests reach the broker; nothing comes back (the
    replies, the broker's heartbeats and confirms are dropped)."""

    name = "half-open link (broker to client dropped)"
    directions = (relay_mod.DOWN,)


@pytest.fixture
def relay(own_broker):
    link = relay_mod.SilentRelay(own_broker.ports[0])
    yield link
    link.close()


@pytest.fixture(params=["frozen", "memory", "silent", "half-open"])
def fault(request, own_broker):
    """``(fault, client_url)``: the fault and the URL the client uses."""
    links = {"silent": SilentLink, "half-open": HalfOpenLink}
    if request.param in links:
        link = request.getfixturevalue("relay")
        return links[request.param](link), link.url(own_broker.url())
    if request.param == "frozen":
        return FrozenBroker(own_broker), own_broker.url()
    return MemoryAlarm(own_broker), own_broker.url()


def concurrent_calls(client, count, name):
    """Start ``count`` calls at once; the :class:`traffic.Traffic`."""
    return traffic_mod.Traffic(client, threads=count, per_thread=1, pause=0,
                               casts=False, name=name).start()


def first_answer(client, bound, deadline_s):
    """Call until one answers; seconds until it did. Every attempt must
    end within ``bound`` (the promise holds after the fault too)."""
    started = time.monotonic()
    attempts = []
    while time.monotonic() - started < deadline_s:
        begun = time.monotonic()
        try:
            client.call({}, "echo", value="back")
            return time.monotonic() - started, attempts
        except oslo_messaging.MessagingTimeout as exc:
            attempts.append((time.monotonic() - begun, type(exc).__name__))
            assert attempts[-1][0] <= bound, attempts
    raise AssertionError("no call answered within %.1fs of the fault "
                         "clearing: %s" % (deadline_s, attempts))


def wait_journaled(directory, tokens, kind, deadline_s):
    """The journal's counters once every token of ``tokens`` is in it (or
    after ``deadline_s``), read again a moment later to catch repeats."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        received = traffic_mod.read_journals(directory)[kind]
        if all(received[token] for token in tokens):
            break
        time.sleep(0.1)
    time.sleep(0.5)
    return traffic_mod.read_journals(directory)[kind]


def test_fault_that_closes_nothing(own_broker, fault, rpc_on, servers,
                                   journal_dir, topic):
    fault, client_url = fault
    conf = rpc_on(client_url, **RABBIT_SETTINGS)
    servers(own_broker.url(), topic, "silent-0", settings=SERVER_SETTINGS)
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    assert client.call({}, "echo", value="warm") == "warm"
    bound = call_bound(conf)

    fault.start()
    try:
        started = time.monotonic()
        during = concurrent_calls(client, CONCURRENT_CALLS, "f")
        # A call still blocked well past the bound fails the test with its
        # stack rather than hanging it.
        during.join(deadline=bound + 30)
        time.sleep(max(0.0, FAULT_SECONDS - (time.monotonic() - started)))
    finally:
        fault.stop()
    recovery, attempts = first_answer(client, bound, recovery_bound(conf))

    tokens = ["after-%s-%d" % (uuid.uuid4().hex[:6], n)
              for n in range(CASTS_AFTER)]
    for token in tokens:
        client.cast({}, "logged_cast", token=token)
    casts = wait_journaled(journal_dir, tokens, "cast", bound)
    calls = traffic_mod.read_journals(journal_dir)["call"]

    durations = sorted(call.duration for call in during.calls)
    figures = {
        "driver": conf.transport_url.partition(":")[0],
        "calls during the fault": len(during.calls),
        "answered / timed out / failed": "%d / %d / %d" % (
            during.count("answered"), during.count("timed_out"),
            during.count("failed")),
        "each call (s)": " ".join("%.2f" % d for d in durations),
        "bound (s)": "%.2f" % bound,
        "first answer after the fault (s)": "%.2f" % recovery,
        "timed-out calls before it": len(attempts),
        "casts after: received once": sum(casts[t] == 1 for t in tokens),
        "casts after: lost": sum(casts[t] == 0 for t in tokens),
        "casts after: duplicated": sum(casts[t] > 1 for t in tokens),
        "calls handled twice": sum(n > 1 for n in calls.values()),
    }
    traffic_mod.print_figures(fault.name, figures)

    assert len(during.calls) == CONCURRENT_CALLS
    assert during.count("failed") == 0, during.errors()
    for call in during.calls:
        assert call.duration <= bound, (call, bound)
    assert all(casts[token] == 1 for token in tokens), figures
    assert not [token for token, n in calls.items() if n > 1], figures

