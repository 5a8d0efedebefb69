"""Connection, VoidConnection and Service on the in-memory transport."""

import logging

import oslo_messaging
import pytest

from tacker_rpc import dispatcher
from tacker_rpc import messaging
from tacker_rpc import rpc
from tests.unit.test_serializer import Point
from tests.unit.test_serializer import PointSerializer


class Manager:
    def __init__(self):
        self.hooked = None
        self.received = []

    def initialize_service_hook(self, service):
        self.hooked = service

    def shift(self, ctxt, point):
        self.received.append(point)
        return Point(point.x + 1, point.y + 1)

    def host_of(self, ctxt):
        return "answered"


@pytest.fixture
def server_targets(monkeypatch):
    """The targets of the servers made by rpc.get_server, in order."""
    targets = []
    real_get_server = messaging.get_server

    def get_server(target, endpoints, serializer=None, **kwargs):
        targets.append(target)
        return real_get_server(target, endpoints, serializer, **kwargs)

    monkeypatch.setattr(messaging, "get_server", get_server)
    return targets


@pytest.fixture
def service(init_rpc):
    """``service(**kwargs)``: a started rpc.Service, stopped after."""
    started = []

    def start(host="svc-host", topic="svc", **kwargs):
        svc = rpc.Service(host, topic, **kwargs)
        svc.start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()


def test_service_serves_topic_and_topic_host_and_calls_the_hook(
        init_rpc, service, server_targets):
    init_rpc(host="not-the-service-host")
    manager = Manager()
    svc = service(host="svc-host", manager=manager)
    assert manager.hooked is svc
    for target in (oslo_messaging.Target(topic="svc"),
                   oslo_messaging.Target(topic="svc", server="svc-host")):
        assert rpc.get_client(target).call({}, "host_of") == "answered"
    [target] = server_targets
    assert (target.topic, target.server) == ("svc", "svc-host")


def test_service_honours_its_serializer(init_rpc, service):
    init_rpc()
    manager = Manager()
    service(manager=manager, serializer=PointSerializer())
    client = rpc.get_client(oslo_messaging.Target(topic="svc"),
                            serializer=PointSerializer())
    answer = client.call({}, "shift", point=Point(1, 2))
    assert isinstance(manager.received[0], Point)
    assert (answer.x, answer.y) == (2, 3)


def test_service_with_rpc_disabled_consumes_nothing(init_rpc, service,
                                                    monkeypatch):
    init_rpc()
    monkeypatch.setattr(rpc, "RPC_DISABLED", True)
    manager = Manager()
    svc = service(manager=manager)
    assert type(svc.conn) is rpc.VoidConnection
    assert manager.hooked is svc


def test_service_stop_logs_a_failing_close_and_still_stops(
        init_rpc, caplog, monkeypatch):
    init_rpc()
    svc = rpc.Service("svc-host", "svc", manager=Manager())
    svc.start()
    [server] = svc.conn.servers
    real_stop = server.stop

    def broken_stop():
        real_stop()
        raise RuntimeError("listener already gone")

    monkeypatch.setattr(server, "stop", broken_stop)
    with caplog.at_level(logging.ERROR, logger="tacker_rpc.service"):
        svc.stop()
    assert svc.conn is None
    assert "listener already gone" in caplog.text
    assert "svc" in caplog.text


def test_connection_defaults_to_the_configured_host(init_rpc,
                                                    server_targets):
    init_rpc(host="conf-host")
    connection = rpc.create_connection()
    connection.create_consumer("conn", [Manager()])
    connection.create_consumer("conn", [Manager()], host="other",
                               exchange="mine", fanout=True)
    first, second = server_targets
    assert (first.server, first.exchange, first.fanout) == ("conf-host",
                                                            None, False)
    assert (second.server, second.exchange, second.fanout) == (
        "other", "mine", True)


def test_connection_consumes_in_threads_and_closes_everything(init_rpc):
    init_rpc()
    connection = rpc.create_connection()
    connection.create_consumer("conn-a", [Manager()], host="h")
    connection.create_consumer("conn-b", [Manager()], host="h")
    servers = connection.consume_in_threads()
    assert servers == connection.servers and len(servers) == 2
    for topic in ("conn-a", "conn-b"):
        client = rpc.get_client(oslo_messaging.Target(topic=topic))
        assert client.call({}, "host_of") == "answered"
    connection.close()
    assert connection.servers == []


def test_connection_close_stops_every_server_when_one_fails(
        init_rpc, monkeypatch):
    init_rpc()
    connection = rpc.create_connection()
    connection.create_consumer("conn-a", [Manager()], host="h")
    connection.create_consumer("conn-b", [Manager()], host="h")
    first, second = connection.consume_in_threads()
    waited = []
    real_stop = first.stop

    def broken_stop():
        real_stop()
        raise RuntimeError("first server broken")

    monkeypatch.setattr(first, "stop", broken_stop)
    real_wait = second.wait
    monkeypatch.setattr(second, "wait",
                        lambda: waited.append(real_wait()))
    with pytest.raises(RuntimeError, match="first server broken"):
        connection.close()
    assert waited == [None]


class OwnManagerService(rpc.Service):
    def hello(self, ctxt, name):
        return "hello %s" % name


def test_service_without_manager_is_its_own_manager(init_rpc):
    init_rpc()
    service = OwnManagerService("unit-host", "own-manager")
    assert service.manager is service
    service.start()
    try:
        client = rpc.get_client(oslo_messaging.Target(topic="own-manager"),
                                timeout=5)
        assert client.call({}, "hello", name="x") == "hello x"
        for lifecycle in ("start", "stop", "wait", "reset", "add_component"):
            with pytest.raises(oslo_messaging.RemoteError,
                               match="NoSuchMethod"):
                client.call({}, lifecycle)
    finally:
        service.stop()


def test_service_methods_are_callable_on_a_plain_manager():
    # A manager (not a Service) may well have a method named start.
    assert dispatcher.callable_remotely("start", object())
    assert not dispatcher.callable_remotely(
        "start", rpc.Service("h", "t"))


class Component:
    """Records, in ``events``, its start and stop and whether the service
    consumed RPC at each."""

    def __init__(self, name, events, service_of, fail=None):
        self.name, self.events, self.service_of = name, events, service_of
        self.fail = fail

    def _consuming(self):
        conn = self.service_of().conn
        return conn is not None and any(
            server.listener is not None for server in conn.servers)

    def start(self):
        if self.fail == "start":
            raise RuntimeError("%s cannot start" % self.name)
        self.events.append(("start", self.name, self._consuming()))

    def stop(self):
        self.events.append(("stop", self.name, self._consuming()))
        if self.fail == "stop":
            raise RuntimeError("%s cannot stop" % self.name)


def test_components_start_before_rpc_flows_and_stop_after_it_in_reverse(
        init_rpc, caplog):
    init_rpc()
    events = []
    manager = Manager()
    svc = rpc.Service("svc-host", "svc", manager=manager, components=[
        Component("first", events, lambda: svc)])
    assert svc.add_component(Component("second", events, lambda: svc,
                                       fail="stop")).name == "second"
    svc.start()
    assert events == [("start", "first", False), ("start", "second", False)]
    assert manager.hooked is svc
    assert rpc.get_client(oslo_messaging.Target(topic="svc")).call(
        {}, "host_of") == "answered"
    conn = svc.conn
    with caplog.at_level(logging.ERROR, logger="tacker_rpc.service"):
        svc.stop()
    # Stopped after the servers answered what they had in flight (their
    # listeners are gone), the last first; a failing stop is logged and
    # the others still stop.
    assert conn.servers == [] and svc.conn is None
    assert events[2:] == [("stop", "second", False),
                          ("stop", "first", False)]
    assert "second cannot stop" in caplog.text


def test_a_component_failing_to_start_stops_those_started(init_rpc):
    init_rpc()
    events = []
    svc = rpc.Service("svc-host", "svc", manager=Manager(), components=[
        Component("first", events, lambda: svc),
        Component("second", events, lambda: svc, fail="start")])
    with pytest.raises(RuntimeError, match="second cannot start"):
        svc.start()
    assert events == [("start", "first", False), ("stop", "first", False)]
    svc.stop()
    assert len(events) == 2
