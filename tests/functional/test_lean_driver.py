"""The lean-rabbit driver on a real RabbitMQ, in a mixed fleet.

One topic is served by two daemons in their own processes: ``plain`` on
oslo.messaging's ``rabbit://`` driver and ``lean`` on ``lean-rabbit://``.
The test process calls, casts and fans out to both through either driver,
so every pair (plain→lean, lean→plain, lean→lean) crosses the wire.
"""

import json
import socket
import threading
import time
import types
import uuid

import oslo_messaging
import pytest

from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import rpc
from tests.config import lean_url
from tests.config import make_conf
from tests.functional.conftest import ServerProcess

#: Long enough never to expire in a test that expects an answer.
PATIENT = 30
#: Heartbeat timeout of the heartbeat test, seconds (RabbitMQ closes a
#: connection that sends nothing for about two of them).
HEARTBEAT = 2
#: Time a blocked process may take to be scheduled again: the slack of
#: the deadline tests beyond what the driver promises.
SCHEDULING_SLACK = 1.0


def url_for(broker_url, driver):
    return lean_url(broker_url) if driver == "lean" else broker_url


@pytest.fixture(scope="module")
def fleet(broker_url):
    """A ``plain`` and a ``lean`` daemon consuming one topic."""
    topic = "mixed-" + uuid.uuid4().hex[:12]
    servers = {driver: ServerProcess(url_for(broker_url, driver), topic,
                                     driver)
               for driver in ("plain", "lean")}
    try:
        rpc.init(make_conf(broker_url))
        try:
            for server in servers.values():
                server.wait_ready()
        finally:
            rpc.cleanup()
        yield types.SimpleNamespace(topic=topic, servers=servers)
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(params=["lean", "plain"])
def client_driver(request, broker_url):
    """``rpc.init`` with the client on one driver or the other."""
    conf = make_conf(url_for(broker_url, request.param),
                     rpc_response_timeout=5)
    rpc.init(conf)
    yield request.param
    rpc.cleanup()


@pytest.fixture
def lean_client(broker_url):
    """``rpc.init`` with the client on the lean driver."""
    conf = make_conf(lean_url(broker_url), rpc_response_timeout=5)
    rpc.init(conf)
    yield conf
    rpc.cleanup()


def client_for(topic, **target):
    return rpc.get_client(oslo_messaging.Target(topic=topic, **target))


def wait_until(condition, what):
    end = time.monotonic() + PATIENT
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("%s not met within %ss" % (what, PATIENT))
        time.sleep(0.1)


@pytest.mark.parametrize("server", ["plain", "lean"])
def test_call_crosses_drivers_with_its_context(fleet, client_driver, server):
    client = client_for(fleet.topic, server=server).prepare(timeout=PATIENT)
    value = {"vnf": "v1", "hosts": ["a", "b"], "count": 2, "ok": None}
    assert client.call({}, "echo", value=value) == value
    ctxt = context.RequestContext(user_id="u1", project_id="p1",
                                  request_id="req-lean-1")
    answer = client.call(ctxt, "whoami")
    assert answer["host"] == server
    assert answer["context"]["user_id"] == "u1"
    assert answer["context"]["request_id"] == "req-lean-1"


@pytest.mark.parametrize("server", ["plain", "lean"])
def test_remote_exception_crosses_drivers_as_its_class(fleet, client_driver,
                                                       server):
    client = client_for(fleet.topic, server=server).prepare(timeout=PATIENT)
    with pytest.raises(exceptions.InvalidContext, match="bad ctx"):
        client.call({}, "fail_allowed", message="bad ctx")


@pytest.mark.parametrize("server", ["plain", "lean"])
def test_cast_crosses_drivers(fleet, client_driver, server):
    token = uuid.uuid4().hex
    client_for(fleet.topic, server=server).cast({}, "record", token=token)
    recorder = client_for(fleet.topic, server=server).prepare(
        timeout=PATIENT)
    wait_until(lambda: token in recorder.call({}, "get_recorded"),
               "cast recorded by %s" % server)


def test_fanout_reaches_plain_and_lean_servers(fleet, client_driver):
    token = uuid.uuid4().hex
    client_for(fleet.topic, fanout=True).cast({}, "record", token=token)
    for server in fleet.servers:
        recorder = client_for(fleet.topic, server=server).prepare(
            timeout=PATIENT)
        wait_until(lambda recorder=recorder: token in recorder.call(
            {}, "get_recorded"), "fanout recorded by %s" % server)


def test_calls_to_the_shared_topic_reach_both_servers(fleet, client_driver):
    client = client_for(fleet.topic).prepare(timeout=PATIENT)
    hosts = {client.call({}, "whoami")["host"] for _ in range(20)}
    assert hosts == {"plain", "lean"}


def test_concurrent_calls_each_get_their_own_answer(fleet, lean_client):
    client = client_for(fleet.topic, server="lean").prepare(timeout=PATIENT)
    answers, errors = {}, []

    def caller(index):
        try:
            for n in range(20):
                value = "%d-%d" % (index, n)
                answers[value] = client.call({}, "echo", value=value)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(answers) == 160
    assert all(key == value for key, value in answers.items())


@pytest.mark.parametrize("sender,receiver", [("lean", "plain"),
                                             ("plain", "lean")])
def test_notifications_cross_drivers(broker_url, sender, receiver):
    topic = "notify-" + uuid.uuid4().hex[:12]
    conf = make_conf(url_for(broker_url, sender), host="node-9")
    conf.set_override("driver", ["messagingv2"],
                      group="oslo_messaging_notifications")
    conf.set_override("topics", [topic],
                      group="oslo_messaging_notifications")
    rpc.init(conf)
    arrived = threading.Event()
    events = []

    class Recorder:
        def info(self, ctxt, publisher_id, event_type, payload, metadata):
            events.append((ctxt, publisher_id, event_type, payload))
            arrived.set()

    listen_conf = make_conf(url_for(broker_url, receiver))
    transport = oslo_messaging.get_notification_transport(listen_conf)
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic)], [Recorder()],
        executor="threading", serializer=rpc.RequestContextSerializer())
    listener.start()
    try:
        ctxt = context.RequestContext(user_id="u9", project_id="p9")
        rpc.get_notifier("vnfm").info(ctxt, "vnf.update.end", {"n": 9})
        assert arrived.wait(PATIENT)
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
        rpc.cleanup()
    [(received, publisher_id, event_type, payload)] = events
    assert (publisher_id, event_type, payload) == ("vnfm.node-9",
                                                   "vnf.update.end",
                                                   {"n": 9})
    assert received.user_id == "u9"


def test_call_to_a_slow_server_raises_within_its_timeout(fleet,
                                                         lean_client):
    client = client_for(fleet.topic, server="lean").prepare(timeout=1)
    started = time.monotonic()
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client.call({}, "sleep", seconds=3)
    assert time.monotonic() - started < 1 + SCHEDULING_SLACK


def test_call_without_a_broker_raises_within_its_timeout():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    conf = make_conf("lean-rabbit://guest:guest@127.0.0.1:%d/" % port,
                     rpc_response_timeout=2)
    conf.set_override("rabbit_retry_interval", 1,
                      group="oslo_messaging_rabbit")
    rpc.init(conf)
    try:
        started = time.monotonic()
        with pytest.raises(oslo_messaging.MessagingTimeout,
                           match="no connection to the message broker"):
            client_for("anywhere").prepare(timeout=2).call({}, "echo",
                                                            value=1)
        assert time.monotonic() - started < 2 + SCHEDULING_SLACK
    finally:
        rpc.cleanup()


def test_heartbeats_keep_idle_connections_open(broker_url, rabbit_broker,
                                               topic):
    setting = "oslo_messaging_rabbit.heartbeat_timeout_threshold=%d" % (
        HEARTBEAT)
    server = ServerProcess(lean_url(broker_url), topic, "idle-server",
                           settings=[setting])
    conf = make_conf(lean_url(broker_url), rpc_response_timeout=5)
    conf.set_override("heartbeat_timeout_threshold", HEARTBEAT,
                      group="oslo_messaging_rabbit")
    rpc.init(conf)
    try:
        server.wait_ready()
        client = client_for(topic, server="idle-server")
        assert client.call({}, "echo", value="before") == "before"
        before = client_ports(rabbit_broker)
        time.sleep(4 * HEARTBEAT)
        assert client_ports(rabbit_broker) >= before
        assert client.call({}, "echo", value="after") == "after"
        assert client_ports(rabbit_broker) >= before
    finally:
        rpc.cleanup()
        server.stop()


def client_ports(broker):
    """The client-side ports of the broker's open connections."""
    output = broker.rabbitmqctl("list_connections", "peer_port", "-q",
                                "--formatter", "json")
    return {entry["peer_port"] for entry in json.loads(output)}
