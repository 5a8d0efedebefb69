"""The metrics middleware and its registry, on the in-memory transport."""

import urllib.request

import oslo_messaging
from prometheus_client import parser
import pytest

from tacker_rpc import api
from tacker_rpc import exceptions
from tacker_rpc import metrics
from tacker_rpc import middleware
from tacker_rpc import rpc


class Endpoint:
    def echo(self, ctxt, value):
        return value

    def fail(self, ctxt):
        raise exceptions.InvalidContext("no")

    def refuse(self, ctxt):
        raise exceptions.ActionError(exceptions.Error("NOT_FOUND", "no VNF"))

    def check(self, ctxt, size):
        raise exceptions.InvalidArguments("size must be > 0", field="size")


def samples(text=None):
    """{(sample name, frozenset of labels): value} of a scrape."""
    found = {}
    for family in parser.text_string_to_metric_families(
            text if text is not None else metrics.scrape()):
        for sample in family.samples:
            found[sample.name, frozenset(sample.labels.items())] = \
                sample.value
    return found


def value(found, name, **labels):
    """The sum of the samples named ``name`` whose labels include
    ``labels``."""
    wanted = {(key, str(item)) for key, item in labels.items()}
    return sum(v for (n, sample_labels), v in found.items()
               if n == name and wanted <= sample_labels)


@pytest.fixture
def served(init_rpc):
    """rpc.init with the metrics middleware on both sides, an in-memory
    server on a fresh topic."""
    init_rpc(rpc_metrics_port=9, rpc_metrics_host="127.0.0.1")
    server = rpc.get_server(oslo_messaging.Target(topic="metered",
                                                  server="unit-host"),
                            [Endpoint()])
    server.start()
    yield
    server.stop()
    server.wait()


def test_the_metrics_port_installs_the_middleware_on_both_sides(served):
    for side in (middleware.CLIENT, middleware.SERVER):
        assert [type(m) for m in middleware.installed(side)] == [
            metrics.MetricsMiddleware]


def test_requests_are_counted_timed_and_named_as_oslo_messaging_does(
        served):
    before = samples()
    client = rpc.get_client(oslo_messaging.Target(topic="metered"))
    for _ in range(3):
        client.call({}, "echo", value=1)
    with pytest.raises(exceptions.InvalidContext):
        client.call({}, "fail")
    after = samples()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    client_labels = {"topic": "metered", "call_type": "call",
                     "namespace": None}
    server_labels = {"topic": "metered", "server": "unit-host",
                     "endpoint": "Endpoint"}
    assert moved("oslo_messaging_rpc_client_invocation_start_total",
                 method="echo", **client_labels) == 3
    assert moved("oslo_messaging_rpc_client_invocation_end_total",
                 method="echo", outcome="ok", **client_labels) == 3
    assert moved("oslo_messaging_rpc_client_invocation_end_total",
                 method="fail", outcome="error", **client_labels) == 1
    assert moved("oslo_messaging_rpc_client_exception_total", method="fail",
                 exception="InvalidContext", **client_labels) == 1
    assert moved("oslo_messaging_rpc_client_processing_seconds_count",
                 method="echo", **client_labels) == 3
    assert moved("oslo_messaging_rpc_server_invocation_start_total",
                 method="echo", **server_labels) == 3
    assert moved("oslo_messaging_rpc_server_invocation_end_total",
                 method="fail", outcome="error", **server_labels) == 1
    assert moved("oslo_messaging_rpc_server_processing_seconds_count",
                 method="echo", **server_labels) == 3
    assert moved("oslo_messaging_rpc_server_exception_total",
                 method="fail", exception="InvalidContext",
                 **server_labels) == 1
    assert value(after, "tacker_rpc_client_requests_in_flight",
                 topic="metered") == 0
    assert value(after, "tacker_rpc_server_requests_in_flight",
                 topic="metered") == 0


def test_a_refusal_is_its_own_outcome_and_no_exception(served):
    before = samples()
    client = rpc.get_client(oslo_messaging.Target(topic="metered"))
    for _ in range(2):
        with pytest.raises(exceptions.ActionError):
            client.call({}, "refuse")
    with pytest.raises(exceptions.InvalidArguments):
        client.call({}, "check", size=0)
    after = samples()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    for side, labels in (("client", {"call_type": "call"}),
                         ("server", {"endpoint": "Endpoint"})):
        end = "oslo_messaging_rpc_%s_invocation_end_total" % side
        assert moved(end, method="refuse", outcome="refused",
                     topic="metered", **labels) == 2, side
        assert moved(end, topic="metered", outcome="error", **labels) == 0
        assert moved("oslo_messaging_rpc_%s_exception_total" % side,
                     topic="metered") == 0, side
    assert moved("oslo_messaging_rpc_server_invocation_end_total",
                 method="check", outcome="refused", topic="metered") == 1


def test_timeouts_and_the_learned_timeout_are_exported(init_rpc):
    init_rpc(rpc_metrics_port=9, rpc_response_timeout=1,
             rpc_backoff_max_splay=0)
    client = rpc.get_client(oslo_messaging.Target(topic="nobody-home"))
    changes_before = value(samples(),
                           "tacker_rpc_backoff_timeout_changes_total",
                           topic="nobody-home")
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client.call({}, "echo", value=1)
    found = samples()
    assert value(found, "oslo_messaging_rpc_client_invocation_end_total",
                 topic="nobody-home", outcome="timeout") == 1
    assert value(found, "tacker_rpc_backoff_timeout_seconds",
                 topic="nobody-home", method="echo") == 2
    assert value(found, "tacker_rpc_backoff_timeout_changes_total",
                 topic="nobody-home", reason="timeout") - changes_before == 1


def test_the_http_endpoint_serves_the_registry():
    server = metrics.start_http_server(0, "127.0.0.1")
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % port, timeout=10) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert "oslo_messaging_rpc_client_invocation_start_total" in text
    assert "process_cpu_seconds_total" in text


def test_a_declared_manager_is_the_endpoint_label(init_rpc):
    class GreeterAPI(api.RPCAPI):
        topic = "greeted"
        version = "1.0"

        @api.call(since="1.0")
        def greet(self, ctxt, name: str) -> str:
            """Hello."""

    @api.implements(GreeterAPI)
    class Greeter:
        def greet(self, ctxt, name):
            return "hello " + name

    init_rpc(rpc_metrics_port=9)
    service = rpc.Service("greeter-host", "greeted", manager=Greeter())
    service.start()
    try:
        before = samples()
        assert GreeterAPI().greet({}, name="x") == "hello x"
        after = samples()
    finally:
        service.stop()
    name = "oslo_messaging_rpc_server_invocation_start_total"
    assert value(after, name, method="greet", endpoint="Greeter") - value(
        before, name, method="greet", endpoint="Greeter") == 1
