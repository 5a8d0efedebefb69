"""lean-rabbit is a drop-in on errors: what a caller written for
oslo.messaging catches, on a real RabbitMQ, for both drivers.

Each scenario runs on ``rabbit://`` (oslo.messaging's driver) and
``lean-rabbit://`` and asserts the same exception class where code may
catch it; where lean-rabbit deliberately does more (a server that starts
while a call to its topic waits answers it) the test says so.
"""

import socket
import threading
import time
import uuid

import amqp
import kombu.exceptions
import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tacker_rpc.driver import calls
from tests.config import lean_url
from tests.config import make_conf
from tests.functional.conftest import ServerProcess
from tests.functional.faults import traffic

#: Time a blocked process may take to be scheduled again: the slack of
#: the timing assertions beyond what the drivers promise.
SCHEDULING_SLACK = 1.0
#: rabbit_retry_interval of the fail-fast test: how long a topic whose
#: request was returned is not asked again.
RETRY_INTERVAL = 1
#: How long the fail-fast test calls in a loop.
LOOP_SECONDS = 3


@pytest.fixture(params=["rabbit", "lean-rabbit"])
def driver(request):
    return request.param


def driver_url(url, driver):
    return lean_url(url) if driver == "lean-rabbit" else url


@pytest.fixture
def init(driver):
    """``init(url, **overrides)``: rpc.init on ``url`` for the driver of
    the test; cleaned up after."""
    made = []

    def start(url, **overrides):
        conf = make_conf(driver_url(url, driver), **overrides)
        rpc.init(conf)
        made.append(conf)
        return conf

    yield start
    if made:
        rpc.cleanup()


def unused_port():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


def test_call_to_a_topic_nobody_consumes_times_out(broker_url, init, topic):
    init(broker_url)
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    started = time.monotonic()
    with pytest.raises(oslo_messaging.MessagingTimeout) as raised:
        client.prepare(timeout=2).call({}, "echo", value=1)
    elapsed = time.monotonic() - started
    assert not isinstance(raised.value, exceptions.NoConsumer)
    # After its timeout, as oslo.messaging, not at once.
    assert 2 <= elapsed + 0.01 and elapsed < 2 + SCHEDULING_SLACK


def test_server_started_during_the_call_answers_it(broker_url, topic):
    """On lean-rabbit the returned request is published again until the
    deadline, so a server that binds the topic's queue meanwhile answers.
    (oslo.messaging's driver drops a request no queue takes: the call
    times out whatever starts after it.)"""
    rpc.init(make_conf(lean_url(broker_url)))
    server = None
    try:
        client = rpc.get_client(oslo_messaging.Target(topic=topic))
        outcome = {}

        def call():
            try:
                outcome["answer"] = client.prepare(timeout=60).call(
                    {}, "echo", value="late")
            except Exception as exc:
                outcome["error"] = exc

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)
        assert caller.is_alive()
        server = ServerProcess(lean_url(broker_url), topic, "late")
        caller.join(70)
        assert outcome == {"answer": "late"}, server.log()
    finally:
        if server is not None:
            server.stop()
        rpc.cleanup()


@pytest.fixture
def publishes(monkeypatch):
    """Routing keys of every message this process publishes, through py-amqp
    to the real broker."""
    sent = []
    real = amqp.Channel.basic_publish

    def counting(self, msg, exchange="", routing_key="", *args, **kwargs):
        sent.append(routing_key)
        return real(self, msg, exchange, routing_key, *args, **kwargs)

    monkeypatch.setattr(amqp.Channel, "basic_publish", counting)
    return sent


def test_fail_fast_raises_a_timeout_at_once_without_flooding(
        broker_url, topic, publishes):
    conf = make_conf(lean_url(broker_url), rpc_response_timeout=5,
                     oslo_messaging_rabbit__rabbit_retry_interval=(
                         RETRY_INTERVAL),
                     oslo_messaging_rabbit__lean_rabbit_fail_fast_no_consumer=(
                         True))
    rpc.init(conf)
    try:
        client = rpc.get_client(oslo_messaging.Target(topic=topic))
        started = time.monotonic()
        with pytest.raises(oslo_messaging.MessagingTimeout) as raised:
            client.call({}, "echo", value=1)
        assert isinstance(raised.value, exceptions.NoConsumer)
        assert topic in str(raised.value)
        assert time.monotonic() - started < conf.rpc_response_timeout / 2
        # A caller's retry loop with no pause of its own.
        attempts = 1
        end = time.monotonic() + LOOP_SECONDS
        while time.monotonic() < end:
            with pytest.raises(oslo_messaging.MessagingTimeout):
                client.call({}, "echo", value=1)
            attempts += 1
        sent = publishes.count(topic)
        # One request per topic per retry interval reaches the broker.
        assert sent <= LOOP_SECONDS / RETRY_INTERVAL + 2, (sent, attempts)
        assert attempts > 10 * sent
        # Not a timeout of the method: the backoff learns nothing.
        assert rpc.get_backoff_snapshot() == []
    finally:
        rpc.cleanup()


def test_fail_fast_default_keeps_publishing_at_a_pace(broker_url, topic,
                                                      publishes):
    """Waiting for a server costs the broker one publish per pause (at
    most rabbit_retry_interval apart once it has grown)."""
    rpc.init(make_conf(lean_url(broker_url),
                       oslo_messaging_rabbit__rabbit_retry_interval=(
                           RETRY_INTERVAL)))
    try:
        client = rpc.get_client(oslo_messaging.Target(topic=topic))
        with pytest.raises(oslo_messaging.MessagingTimeout):
            client.prepare(timeout=LOOP_SECONDS).call({}, "echo", value=1)
    finally:
        rpc.cleanup()
    first = calls.FIRST_UNROUTED_PAUSE
    # Pauses first, 2 * first... up to the interval, then the interval.
    pauses, pause, waited = 0, first, 0.0
    while waited < LOOP_SECONDS:
        waited += pause
        pauses += 1
        pause = min(2 * pause, RETRY_INTERVAL)
    assert 2 <= publishes.count(topic) <= pauses + 1


def test_call_that_cannot_connect_within_its_retry(init):
    init("rabbit://guest:guest@127.0.0.1:%d/" % unused_port(),
         oslo_messaging_rabbit__rabbit_retry_interval=RETRY_INTERVAL)
    client = rpc.get_client(oslo_messaging.Target(topic="anywhere"), retry=1)
    with pytest.raises(oslo_messaging.MessageDeliveryFailure,
                       match="Connection refused|ConnectionRefused"):
        traffic.bounded(lambda: client.call({}, "echo", value=1), 60)


def test_cast_that_cannot_connect_within_its_retry(init, driver):
    init("rabbit://guest:guest@127.0.0.1:%d/" % unused_port(),
         oslo_messaging_rabbit__rabbit_retry_interval=RETRY_INTERVAL)
    client = rpc.get_client(oslo_messaging.Target(topic="anywhere"), retry=1)
    # oslo.messaging's driver lets kombu's error through for casts; code
    # written for it catches that, and lean-rabbit's is one.
    with pytest.raises(kombu.exceptions.OperationalError,
                       match="Connection refused|ConnectionRefused") as raised:
        traffic.bounded(lambda: client.cast({}, "echo", value=1), 60)
    if driver == "lean-rabbit":
        assert isinstance(raised.value, oslo_messaging.MessageDeliveryFailure)


def test_bad_credentials_within_the_retry(broker_url, init, driver):
    scheme, _, rest = broker_url.partition("://")
    host = rest.rpartition("@")[2]
    bad = "%s://guest:wrong-%s@%s" % (scheme, uuid.uuid4().hex[:8], host)
    init(bad)
    client = rpc.get_client(oslo_messaging.Target(topic="anywhere"), retry=1)
    with pytest.raises(oslo_messaging.MessageDeliveryFailure,
                       match="ACCESS_REFUSED"):
        traffic.bounded(lambda: client.call({}, "echo", value=1), 60)
    # oslo.messaging's driver lets py-amqp's error through for a cast;
    # lean-rabbit raises the call's MessageDeliveryFailure.
    expected = (amqp.exceptions.AccessRefused if driver == "rabbit"
                else oslo_messaging.MessageDeliveryFailure)
    with pytest.raises(expected, match="ACCESS_REFUSED") as raised:
        traffic.bounded(lambda: client.cast({}, "echo", value=1), 60)
    assert "wrong-" not in str(raised.value)
