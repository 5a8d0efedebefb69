"""The status endpoint's logic, on the in-memory transport."""

import os
import threading

import oslo_messaging
import pytest

import tacker_rpc
from tacker_rpc import rpc
from tacker_rpc import status


class Manager:
    target = oslo_messaging.Target(namespace="conductor", version="1.3")

    def build(self, ctxt, name, size=1, *extra, flavor=None, **options):
        """Build something.

        More text that describe does not return.
        """

    def undocumented(self, ctxt):
        pass

    def _hidden(self, ctxt):
        """Never listed: not callable remotely."""

    @staticmethod
    def helper(value):
        """A static helper: not an endpoint method."""


class FakeService:
    host, topic = "h1", "conductor"

    def __init__(self, manager):
        self.manager = manager


def test_describe_lists_public_methods_without_the_context():
    described = status.StatusEndpoint(FakeService(Manager())).describe({})
    assert described == {
        "host": "h1", "topic": "conductor",
        "manager": __name__ + ".Manager",
        "namespace": "conductor", "version": "1.3",
        "methods": [
            {"name": "build",
             "signature": "(name, size=1, *extra, flavor=None, **options)",
             "doc": "Build something."},
            {"name": "undocumented", "signature": "()", "doc": ""},
        ],
        "apis": [], "requests": []}


def test_describe_without_manager():
    described = status.StatusEndpoint(FakeService(None)).describe({})
    assert (described["manager"], described["methods"]) == (None, [])


def test_ping_reports_identity_and_counts_others_in_flight():
    endpoint = status.StatusEndpoint(FakeService(None))
    counting = status._CountingDispatcher(_PingDispatcher(endpoint),
                                          endpoint._in_flight)
    answer = counting.dispatch(None)
    assert answer["in_flight"] == 0
    assert {key: answer[key] for key in ("host", "topic", "pid", "version")
            } == {"host": "h1", "topic": "conductor", "pid": os.getpid(),
                  "version": tacker_rpc.__version__}
    assert answer["uptime"] >= 0
    with endpoint._in_flight, endpoint._in_flight:
        assert counting.dispatch(None)["in_flight"] == 2
    assert endpoint._in_flight.value == 0


class _PingDispatcher:
    def __init__(self, endpoint):
        self.endpoint = endpoint

    def dispatch(self, incoming):
        return self.endpoint.ping({})


def test_counter_is_exact_with_many_threads():
    counter = status.InFlightCounter()
    inside = threading.Barrier(16)
    seen = []

    def request():
        for _ in range(2000):
            with counter:
                pass
        with counter:
            inside.wait()
            seen.append(counter.value)
            inside.wait()

    threads = [threading.Thread(target=request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [16] * 16
    assert counter.value == 0


def test_counter_counts_down_when_dispatch_raises():
    counter = status.InFlightCounter()

    class Failing:
        def dispatch(self, incoming):
            raise KeyError("boom")

    with pytest.raises(KeyError):
        status._CountingDispatcher(Failing(), counter).dispatch(None)
    assert counter.value == 0


class Echo:
    def echo(self, ctxt, value):
        return value


def start_service(init_rpc, **overrides):
    init_rpc(**overrides)
    service = rpc.Service("h1", "unit-status", manager=Echo())
    service.start()
    return service


def status_client(**kwargs):
    return rpc.get_client(oslo_messaging.Target(
        topic="unit-status", namespace=status.NAMESPACE),
        timeout=5, **kwargs)


def test_service_serves_status_beside_its_manager(init_rpc):
    service = start_service(init_rpc)
    try:
        assert status_client().call({}, "ping")["host"] == "h1"
        assert rpc.get_client(oslo_messaging.Target(
            topic="unit-status"), timeout=5).call({}, "echo", value=3) == 3
    finally:
        service.stop()


def test_option_off_serves_no_status(init_rpc):
    service = start_service(init_rpc, rpc_status_endpoint=False)
    try:
        with pytest.raises(oslo_messaging.RemoteError) as error:
            status_client().call({}, "ping")
        assert error.value.exc_type == "UnsupportedVersion"
    finally:
        service.stop()


def test_service_with_rpc_disabled_needs_no_init(monkeypatch):
    monkeypatch.setattr(rpc, "RPC_DISABLED", True)
    service = rpc.Service("h1", "unit-status", manager=Echo())
    service.start()
    service.stop()
    assert service.conn is None
