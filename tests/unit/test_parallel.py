"""call_async, call_parallel and call_each_server: their logic with
callables, and on the in-memory transport."""

import concurrent.futures
import threading
import time

import oslo_messaging
import pytest

from tacker_rpc import each_server
from tacker_rpc import parallel
from tacker_rpc import rpc
from tests.unit.test_declared_api import Conductor
from tests.unit.test_declared_api import ConductorAPI


class Concurrency:
    """Callables that record how many of them run at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.running = self.most = 0

    def call(self, value, seconds=0.05):
        def run():
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                time.sleep(seconds)
                if isinstance(value, Exception):
                    raise value
                return value
            finally:
                with self._lock:
                    self.running -= 1
        return run


def test_results_in_request_order_failures_in_place_none_cancelled():
    seen = Concurrency()
    failures = {3: KeyError("k"), 7: oslo_messaging.MessagingTimeout("t")}
    calls = [seen.call(failures.get(i, i), seconds=(20 - i) / 1000)
             for i in range(20)]
    results = parallel.call_parallel(calls, max_workers=4)
    assert [r for i, r in enumerate(results) if i not in failures] == [
        i for i in range(20) if i not in failures]
    assert results[3] is failures[3] and results[7] is failures[7]
    assert seen.most == 4


def test_the_pool_is_bounded_and_no_larger_than_needed():
    seen = Concurrency()
    parallel.call_parallel([seen.call(i) for i in range(3)], max_workers=50)
    assert seen.most == 3
    assert parallel.call_parallel([]) == []
    with pytest.raises(ValueError, match="max_workers"):
        parallel.call_parallel([seen.call(1)], max_workers=0)


@pytest.fixture
def conductors(init_rpc):
    """Two Services of the declared Conductor, hosts c1 and c2."""
    init_rpc(rpc_response_timeout=5)
    services = []
    for host in ("c1", "c2"):
        service = rpc.Service(host, "conductor", manager=Conductor())
        service.start()
        services.append(service)
    yield services
    for service in services:
        service.stop()


def test_call_async_returns_a_future(conductors):
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    future = parallel.call_async(client, {}, "get_vnf", vnf_id="a")
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(10) == {"id": "a", "detail": False}
    failing = parallel.call_async(client, {}, "get_vnf", vnf_id=1)
    assert isinstance(failing.exception(10), TypeError)


def test_clients_and_their_contexts_have_call_async(conductors):
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    assert client.call_async({}, "get_vnf", vnf_id="b").result(10) == {
        "id": "b", "detail": False}
    prepared = client.prepare(server="c2", timeout=5)
    assert prepared.call_async({}, "get_vnf", vnf_id="c").result(10) == {
        "id": "c", "detail": False}


def test_call_parallel_mixes_plain_and_declared_calls(conductors):
    conductor = ConductorAPI()
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    results = parallel.call_parallel(
        [conductor.get_vnf.bind({}, str(i)) for i in range(10)]
        + [parallel.Call(client, {}, "no_such_method")])
    assert results[:10] == [{"id": str(i), "detail": False}
                            for i in range(10)]
    assert isinstance(results[10], oslo_messaging.RemoteError)


def test_call_each_server_discovers_the_servers(conductors):
    conductor = ConductorAPI()
    answers = conductor.call_each_server({}, "get_vnf", vnf_id="x",
                                         timeout=4)
    assert answers == {"c1": {"id": "x", "detail": False},
                       "c2": {"id": "x", "detail": False}}
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    assert sorted(each_server.call_each_server(
        client, {}, "get_vnf", vnf_id="y", timeout=4)) == ["c1", "c2"]


def test_a_host_that_does_not_answer_times_out_within_the_deadline(
        conductors):
    conductor = ConductorAPI()
    started = time.monotonic()
    answers = conductor.get_vnf.each_server({}, "x", hosts=["c1", "gone"],
                                            timeout=2)
    took = time.monotonic() - started
    assert answers["c1"] == {"id": "x", "detail": False}
    assert isinstance(answers["gone"], oslo_messaging.MessagingTimeout)
    # One overall timeout: the late host's call times out at the deadline.
    assert 2 <= took < 2 + 1


def test_on_each_server_reports_calls_still_running_as_timeouts():
    release = threading.Event()

    def call(host, seconds):
        if host == "slow":
            release.wait(10)
        return (host, seconds <= 1)

    try:
        answers = each_server.on_each_server(
            "t", call, hosts=["a", "slow", "a"], timeout=1)
    finally:
        release.set()
    assert answers["a"] == ("a", True)
    assert isinstance(answers["slow"], oslo_messaging.MessagingTimeout)
    assert "no answer from t.slow within 1s" in str(answers["slow"])
    assert list(answers) == ["a", "slow"]


def test_each_server_with_no_server_is_empty(init_rpc):
    init_rpc()
    assert each_server.on_each_server("nobody", None, timeout=0.5) == {}
    with pytest.raises(ValueError, match="timeout"):
        each_server.on_each_server("t", None, hosts=["a"], timeout=0)


def test_call_each_server_names_an_undeclared_method(conductors):
    with pytest.raises(TypeError, match="declares no method 'nope'"):
        ConductorAPI().call_each_server({}, "nope")
