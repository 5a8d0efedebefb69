"""The whole-call deadline of backed-off calls, on the in-memory transport
(the rabbit driver over kombu's memory transport)."""

import threading
import time

import oslo_messaging
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
