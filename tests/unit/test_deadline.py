"""The whole-call deadline of backed-off calls, on the in-memory transport
(the rabbit driver over kombu's memory transport)."""

import contextvars
import socket
import threading
import time

import oslo_messaging
from oslo_messaging._drivers import common as rpc_common
from oslo_messaging._drivers import impl_rabbit
import pytest

from tacker_rpc import deadline
from tacker_rpc import rpc

PUBLISH_DELAY = 1.0
HANDLER_DELAY = 1.5
TIMEOUT = 2


class SlowEndpoint:
    def __init__(self):
        self.received = threading.Event()

    def slow(self, ctxt):
        self.received.set()
        time.sleep(HANDLER_DELAY)
        return "late"


@pytest.fixture
def slow_server(init_rpc):
    init_rpc(rpc_response_timeout=TIMEOUT, rpc_backoff_max_splay=0)
    endpoint = SlowEndpoint()
    server = rpc.get_server(
        oslo_messaging.Target(topic="deadline", server="unit-host"),
        [endpoint])
    server.start()
    yield endpoint
    server.stop()
    server.wait()


@pytest.fixture
def slow_publishing(monkeypatch):
    """Publishing a request (not the server's replies) takes
    PUBLISH_DELAY."""
    original = impl_rabbit.Connection._publish

    def publish(self, exchange, msg, routing_key=None, *args, **kwargs):
        if not str(routing_key).startswith("reply_"):
            time.sleep(PUBLISH_DELAY)
        return original(self, exchange, msg, routing_key, *args, **kwargs)

    monkeypatch.setattr(impl_rabbit.Connection, "_publish", publish)


def test_time_spent_publishing_counts_against_the_timeout(slow_server,
                                                          slow_publishing):
    # Publishing takes 1 s and the answer 1.5 s more: oslo.messaging alone
    # answers, giving the reply wait a fresh 2 s; the deadline leaves 1 s.
    client = rpc.get_client(oslo_messaging.Target(topic="deadline"))
    started = time.monotonic()
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client.call({}, "slow")
    assert slow_server.received.is_set()
    assert time.monotonic() - started < PUBLISH_DELAY + HANDLER_DELAY


def test_explicit_timeout_keeps_oslo_messaging_behaviour(slow_server,
                                                         slow_publishing):
    client = rpc.get_client(oslo_messaging.Target(topic="deadline"))
    assert client.prepare(timeout=TIMEOUT).call({}, "slow") == "late"


def test_call_within_deadline_answers(slow_server):
    client = rpc.get_client(oslo_messaging.Target(topic="deadline"))
    assert client.call({}, "slow") == "late"


def test_nothing_is_published_once_the_deadline_passed():
    connection = object.__new__(deadline._DeadlineConnection)
    deadline.begin(0.001)
    try:
        time.sleep(0.01)
        with pytest.raises(deadline._Expired):
            connection._publish("exchange", {}, "topic")
    finally:
        deadline.end()


def test_reconnection_stops_at_the_first_attempt_after_the_deadline(
        monkeypatch):
    callbacks = []

    def ensure(self, method, retry=None, recoverable_error_callback=None,
               error_callback=None, timeout_is_error=True):
        callbacks.append(recoverable_error_callback)

    monkeypatch.setattr(impl_rabbit.Connection, "ensure", ensure)
    connection = object.__new__(deadline._DeadlineConnection)
    deadline.begin(60)
    try:
        connection.ensure(lambda: None)
        callbacks[-1](ConnectionError("refused"))  # before: carries on
        deadline.begin(0.001)
        time.sleep(0.01)
        connection.ensure(lambda: None)
        with pytest.raises(deadline._Expired):
            callbacks[-1](ConnectionError("refused"))
    finally:
        deadline.end()
    connection.ensure(lambda: None)
    assert callbacks[-1] is None  # no deadline: oslo.messaging's own call


def test_driver_expiry_reaches_the_caller_as_messaging_timeout():
    passed = deadline.expired_as_timeout(deadline._Expired(info="x"))
    assert isinstance(passed, oslo_messaging.MessagingTimeout)
    assert deadline.expired_as_timeout(ValueError("other")) is None


def test_zero_timeout_sets_no_deadline():
    deadline.begin(0)
    assert deadline._remaining() is None


def test_install_leaves_other_drivers_alone(init_rpc):
    init_rpc(transport_url="fake:/")
    client = rpc.get_client(oslo_messaging.Target(topic="t"))
    assert not isinstance(client.transport._driver,
                          deadline._DeadlineDriverMixin)


def test_install_leaves_the_lean_driver_to_its_own_deadline(init_rpc):
    init_rpc(transport_url="lean-rabbit://guest:guest@127.0.0.1:1/")
    client = rpc.get_client(oslo_messaging.Target(topic="t"))
    driver = client.transport._driver
    assert driver.enforces_call_deadline
    assert not isinstance(driver, deadline._DeadlineDriverMixin)


PAUSE = 1.0
#: What a loaded machine may add to a timed wait (see
#: tests/functional/faults/traffic.py).
ALLOWANCE = 0.5


@pytest.fixture
def transport(init_rpc):
    """A transport prepared by deadline.install whose reconnection pause
    is PAUSE."""
    conf = init_rpc()
    client = rpc.get_client(oslo_messaging.Target(topic="deadline"))
    conf.set_override("rabbit_interval_max", PAUSE,
                      group="oslo_messaging_rabbit")
    conf.set_override("kombu_reconnect_delay", 0,
                      group="oslo_messaging_rabbit")
    assert deadline.reconnect_pause_bound(conf) == PAUSE
    return client.transport


@pytest.fixture
def workers(monkeypatch):
    """Fresh worker threads for call_within."""
    fresh = deadline._Workers()
    monkeypatch.setattr(deadline, "_WORKERS", fresh)
    return fresh


def test_a_call_stuck_in_the_driver_ends_one_pause_after_its_deadline(
        transport, workers):
    release = threading.Event()
    left_when_released = []

    def stuck():
        release.wait()
        left_when_released.append(deadline._remaining())

    started = time.monotonic()
    with pytest.raises(deadline.DeadlinePassed, match="still connecting"):
        deadline.call_within(transport, stuck, 0.3)
    elapsed = time.monotonic() - started
    assert 0.3 + PAUSE <= elapsed <= 0.3 + PAUSE + ALLOWANCE
    # The abandoned work goes on under the caller's deadline, so the
    # driver publishes nothing for it.
    release.set()
    for _ in range(100):
        if left_when_released:
            break
        time.sleep(0.01)
    assert left_when_released[0] < 0


def test_call_within_returns_raises_and_carries_context_variables(
        transport, workers):
    variable = contextvars.ContextVar("variable")
    variable.set("caller's")
    assert deadline.call_within(transport, variable.get, 1) == "caller's"

    def fail():
        raise KeyError("driver error")

    with pytest.raises(KeyError, match="driver error"):
        deadline.call_within(transport, fail, 1)
    assert deadline._remaining() is None  # the caller's thread has none


def test_a_call_waiting_for_a_worker_past_its_deadline_sends_nothing(
        transport, workers, monkeypatch):
    monkeypatch.setattr(deadline, "MAX_WORKERS", 1)
    release = threading.Event()
    ran = []
    first = threading.Thread(target=lambda: deadline.call_within(
        transport, release.wait, 5))
    first.start()
    try:
        with pytest.raises(deadline.DeadlinePassed):
            deadline.call_within(transport, lambda: ran.append(1), 0.1)
    finally:
        release.set()
        first.join()
    time.sleep(0.1)
    assert not ran
    assert workers._threads == 1


def test_idle_workers_end(transport, workers, monkeypatch):
    monkeypatch.setattr(deadline, "IDLE_SECONDS", 0.05)
    threads = [deadline.call_within(
        transport, lambda: threading.current_thread(), 1) for _ in range(2)]
    assert threads[0] is threads[1]  # an idle worker is reused
    for _ in range(100):
        if not threads[0].is_alive():
            break
        time.sleep(0.01)
    assert not threads[0].is_alive()
    assert workers._threads == 0


def test_explicit_and_zero_timeouts_run_in_the_callers_thread(transport):
    assert deadline.call_within(
        transport, threading.current_thread, 0) is threading.current_thread()


def test_connecting_for_a_call_stops_at_its_deadline(transport, caplog):
    # A broker that accepts TCP connections and never answers, as a frozen
    # one does: the kernel completes the handshake, nothing reads.
    with socket.socket() as frozen:
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(16)
        url = oslo_messaging.TransportURL.parse(
            transport.conf,
            "rabbit://guest:guest@127.0.0.1:%d/" % frozen.getsockname()[1])
        outcome = []

        def connect():
            deadline.begin(1.0)
            try:
                deadline._DeadlineConnection(transport.conf, url,
                                             rpc_common.PURPOSE_SEND)
            except Exception as exc:
                outcome.append(exc)
            finally:
                deadline.end()

        # In a thread, so that a connection that keeps trying fails the
        # test instead of hanging it.
        connecting = threading.Thread(target=connect, daemon=True)
        connecting.start()
        connecting.join(1.0 + ALLOWANCE)
        assert not connecting.is_alive()
    assert isinstance(outcome[0], deadline._Expired)
    warnings = [r for r in caplog.records if r.name == deadline.__name__]
    assert len(warnings) == 1
    assert "Cannot connect to the message broker" in warnings[0].message
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
