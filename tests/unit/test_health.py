"""Health checks, the ping that reports them, oslo.messaging's ping."""

import os

import oslo_messaging
from oslo_messaging.rpc import dispatcher as om_dispatcher
import pytest

from tacker_rpc import dispatcher
from tacker_rpc import health
from tacker_rpc import rpc
from tacker_rpc import status
from tacker_rpc import testing


class Manager:
    def __init__(self, database=health.OK):
        self.database_status = database

    @health.check
    def database(self):
        return self.database_status, "3 connections"

    @health.check(name="queue-depth")
    def depth(self):
        return health.WARNING

    @health.check
    def quiet(self):
        return None

    @health.check
    def broken(self):
        raise OSError("disk gone")

    @health.check
    def confused(self):
        return 42

    def not_a_check(self):
        raise AssertionError("never run")


class Healthy:
    @health.check
    def fine(self):
        return health.Result(health.OK, "all good")


def test_checks_run_in_name_order_and_report_each():
    report = health.run_checks(Manager())
    assert [(c["name"], c["status"], c["detail"]) for c in report["checks"]
            ] == [
        ("broken", "error", "check raised OSError: disk gone"),
        ("confused", "error", "check returned 42; expected ok, warning or "
                              "error, optionally with a detail"),
        ("database", "ok", "3 connections"),
        ("queue-depth", "warning", ""),
        ("quiet", "ok", ""),
    ]
    assert report["verdict"] == "error"
    assert all(c["seconds"] >= 0 for c in report["checks"])


def test_the_verdict_is_the_worst_status():
    assert health.run_checks(None) == {"verdict": "ok", "checks": []}
    assert health.run_checks(object())["verdict"] == "ok"
    assert health.run_checks(Healthy())["verdict"] == "ok"
    assert health.verdict(["ok", "warning"]) == "warning"


class FakeService:
    host, topic = "h1", "conductor"
    launcher_pid = 4242

    def __init__(self, manager):
        self.manager = manager


def test_ping_reports_health_and_the_launcher():
    answer = status.StatusEndpoint(FakeService(Healthy())).ping({})
    assert answer["launcher_pid"] == 4242
    assert answer["pid"] == os.getpid()
    assert answer["health"] == {"verdict": "ok", "checks": [
        {"name": "fine", "status": "ok", "detail": "all good",
         "seconds": answer["health"]["checks"][0]["seconds"]}]}


def test_describe_leaves_checks_out():
    described = status.StatusEndpoint(FakeService(Manager())).describe({})
    assert [m["name"] for m in described["methods"]] == ["not_a_check"]


def test_a_service_started_where_it_was_built_has_no_launcher(init_rpc):
    init_rpc()
    service = rpc.Service("h1", "no-launcher", manager=Healthy())
    assert service.launcher_pid is None
    service._built_in = -1  # as in a worker forked by the launcher
    assert service.launcher_pid == os.getppid()


@pytest.mark.parametrize("enabled", [True, False])
def test_oslo_rpc_server_ping_answers_when_enabled(init_rpc, enabled):
    """Uses oslo.messaging's PingEndpoint: this fails naming it when an
    upgrade removes it."""
    assert hasattr(om_dispatcher, "PingEndpoint"), (
        "oslo_messaging.rpc.dispatcher.PingEndpoint is gone; "
        "tacker_rpc.messaging._answer_oslo_ping adds it")
    init_rpc(rpc_ping_enabled=enabled)
    server = rpc.get_server(oslo_messaging.Target(topic="oslo-ping",
                                                  server="unit-host"),
                            [Healthy()])
    server.start()
    try:
        client = rpc.get_client(oslo_messaging.Target(topic="oslo-ping"))
        if enabled:
            assert client.call({}, "oslo_rpc_server_ping") == "pong"
        else:
            with pytest.raises(oslo_messaging.RemoteError,
                               match="NoSuchMethod"):
                client.call({}, "oslo_rpc_server_ping")
    finally:
        server.stop()
        server.wait()


def test_checks_are_not_callable_remotely():
    manager = Manager()
    assert not dispatcher.callable_remotely("database", manager)
    assert dispatcher.callable_remotely("not_a_check", manager)
    with pytest.raises(oslo_messaging.rpc.NoSuchMethod):
        testing.run_method(manager, "database")
