"""tacker_rpc.testing: what the kit promises its users."""

import logging
import threading

import fixtures
import oslo_messaging
import pytest

from tacker_rpc import api
from tacker_rpc import backoff
from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import messaging
from tacker_rpc import rpc
from tacker_rpc import testing
from tests.config import MEMORY_URL
from tests.config import make_conf
from tests.unit import action_errors


class Recorder:
    def __init__(self):
        self.seen = []
        self.handled = threading.Event()

    def echo(self, ctxt, value):
        return value

    def record(self, ctxt, token):
        self.seen.append(token)
        self.handled.set()

    def fail(self, ctxt):
        raise KeyError("from the server")

    def notify(self, ctxt, event_type):
        rpc.get_notifier("recorder").info(ctxt, event_type, {"n": (1,)})

    def _private(self, ctxt):
        return "must never be reachable"


def serve(topic, endpoint, host="h"):
    server = rpc.get_server(oslo_messaging.Target(topic=topic, server=host),
                            [endpoint])
    server.start()
    return server


def stop(server):
    server.stop()
    server.wait()


def current_state():
    state = messaging.swap_state()
    messaging.swap_state(state)
    return state


def client(topic, **prepare):
    return rpc.get_client(oslo_messaging.Target(topic=topic)).prepare(
        **prepare)


# RPCFixture ---------------------------------------------------------------

def test_fixture_runs_a_server_and_a_client_without_a_broker(rpc_fixture):
    assert rpc_fixture.conf.transport_url == MEMORY_URL
    server = serve("t", Recorder())
    try:
        assert client("t").call({}, "echo", value=(1, 2)) == [1, 2]
    finally:
        stop(server)


class OuterContext(context.RequestContext):
    """The context class of the process around a fixture."""


def test_fixture_gives_back_everything_the_test_changed():
    outer = make_conf(MEMORY_URL)
    rpc.init(outer, context_class=OuterContext)
    outer_transport = current_state().transport
    observer_before = lambda change: None  # noqa: E731
    rpc.add_backoff_observer(observer_before)
    # Others may be there already: the metrics middleware's, process-wide.
    observers_before = backoff.TIMEOUTS.save_state()[2]
    key = backoff.CallKey("t", None, "m")
    settings = backoff.BackoffSettings(1.0, 10.0)
    backoff.TIMEOUTS.record_timeout(key, 1.0, settings)
    before = backoff.TIMEOUTS.snapshot()
    rpc.add_extra_exmods("before.module")
    try:
        with testing.RPCFixture() as fixture:
            assert messaging.current_conf() is fixture.conf
            assert backoff.TIMEOUTS.snapshot() == []
            assert messaging.serializer_for(None).context_class is (
                context.RequestContext)
            rpc.RPC_DISABLED = True
            rpc.add_extra_exmods("during.module")
            rpc.BackingOffClient.set_max_timeout(0.5)
            backoff.TIMEOUTS.record_timeout(key, 0.5, settings)
            rpc.add_backoff_observer(lambda change: None)
        state = current_state()
        assert (state.conf, state.transport) == (outer, outer_transport)
        assert state.notifier is not None
        assert rpc.RPC_DISABLED is False
        assert messaging.serializer_for(None).context_class is OuterContext
        assert rpc.get_allowed_exmods()[1:] == ["before.module"]
        assert backoff.TIMEOUTS.snapshot() == before
        assert backoff.TIMEOUTS.save_state()[1:] == (None, observers_before)
    finally:
        rpc.remove_backoff_observer(observer_before)
        rpc.clear_extra_exmods()
        rpc.cleanup()


def test_fixture_on_a_given_conf_restores_its_overrides():
    conf = make_conf("rabbit://elsewhere:5672/")
    with testing.RPCFixture(conf):
        assert conf.transport_url == MEMORY_URL
        assert conf.oslo_messaging_notifications.transport_url == MEMORY_URL
    assert conf.transport_url == "rabbit://elsewhere:5672/"
    assert conf.oslo_messaging_notifications.transport_url is None
    assert conf.oslo_messaging_notifications.driver == []


def test_a_message_nobody_consumed_never_reaches_the_next_test():
    with testing.RPCFixture():
        client("leftover").cast({}, "record", token="from the first test")
    with testing.RPCFixture():
        recorder = Recorder()
        server = serve("leftover", recorder)
        try:
            client("leftover").cast({}, "record", token="second")
            assert recorder.handled.wait(10)
            assert recorder.seen == ["second"]
        finally:
            stop(server)


def test_the_test_may_clean_up_rpc_itself():
    with testing.RPCFixture():
        rpc.cleanup()
    with pytest.raises(exceptions.NotInitializedError):
        rpc.cleanup()


def test_use_fixture_in_a_unittest_test_case():
    class Case(fixtures.TestWithFixtures):
        def runTest(self):
            self.useFixture(testing.RPCFixture())
            server = serve("t", Recorder())
            self.addCleanup(stop, server)
            self.assertEqual("x", client("t").call({}, "echo", value="x"))

    result = Case().run()
    assert result.wasSuccessful(), result.errors + result.failures
    with pytest.raises(exceptions.NotInitializedError):
        rpc.cleanup()


def test_cast_as_call_returns_once_the_cast_is_handled(
        rpc_fixture_cast_as_call):
    recorder = Recorder()
    server = serve("t", recorder)
    try:
        client("t").cast({}, "record", token=1)
        assert recorder.seen == [1]
        client("t", fanout=True).cast({}, "record", token=2)
        assert recorder.seen == [1, 2]
        with pytest.raises(KeyError):
            client("t").cast({}, "fail")
    finally:
        stop(server)


def test_notifications_are_recorded_as_a_consumer_gets_them(rpc_fixture):
    notifier = rpc.get_notifier("svc", host="node1")
    notifier.warn(context.RequestContext(user_id="u1", auth_token="secret"),
                  "vnf.fail", {"why": ("disk",)})
    assert rpc_fixture.notifications == [testing.Notification(
        "vnf.fail", {"why": ["disk"]}, "svc.node1", "WARN",
        rpc_fixture.notifications[0].context)]
    sent = rpc_fixture.notifications[0].context
    assert sent["user"] == "u1" and "secret" not in str(sent)
    with pytest.raises(exceptions.SerializationError):
        notifier.info({}, "vnf.bad", {"obj": object()})


def test_wait_for_notification_from_a_server_thread(rpc_fixture):
    server = serve("t", Recorder())
    try:
        client("t").cast({}, "notify", event_type="vnf.done")
        assert rpc_fixture.wait_for_notification("vnf.done").payload == {
            "n": [1]}
    finally:
        stop(server)
    with pytest.raises(AssertionError,
                       match=r"no notification 'other' within 0.01s; "
                             r"emitted: \['vnf.done'\]"):
        rpc_fixture.wait_for_notification("other", timeout=0.01)


# stub_service --------------------------------------------------------------

def test_stub_answers_with_values_callables_and_exceptions(rpc_fixture):
    stub = testing.stub_service(
        "conductor", get=(1, "a"), add=lambda ctxt, a, b: a + b,
        missing=KeyError("vnf-1"), invalid=exceptions.InvalidContext,
        secret=action_errors.QuotaExceeded({"code": "Q", "message": "m"}))
    with stub:
        conductor = client("conductor")
        assert conductor.call({}, "get") == [1, "a"]
        assert conductor.call({}, "add", a=2, b=3) == 5
        with pytest.raises(KeyError, match="vnf-1"):
            conductor.call({}, "missing")
        with pytest.raises(exceptions.InvalidContext):
            conductor.call({}, "invalid")
        with pytest.raises(oslo_messaging.RemoteError) as not_allowed:
            conductor.call({}, "secret")
    assert not_allowed.value.exc_type == "QuotaExceeded"


def test_stub_records_calls_and_casts(rpc_fixture, rpc_stub, caplog):
    caplog.set_level(logging.INFO)
    stub = rpc_stub("conductor", get=None, refresh=ValueError("ignored"))
    client("conductor").call({"user_id": "u1"}, "get", vnf_id="v1")
    client("conductor").prepare(fanout=True).cast({}, "refresh", ids=(1,))
    client("conductor").prepare(server="h2").call({}, "get", vnf_id="v2")
    assert [(c.kind, c.method, c.kwargs) for c in stub.calls] == [
        ("call", "get", {"vnf_id": "v1"}),
        ("cast", "refresh", {"ids": [1]}),
        ("call", "get", {"vnf_id": "v2"})]
    assert stub.calls[0].context.user_id == "u1"
    assert isinstance(stub.calls[1].exception, ValueError)
    assert "stubbed cast conductor:refresh raised" in caplog.text
    assert (stub.call_count("get"), stub.call_count("nothing")) == (2, 0)
    stub.assert_called_with("get", vnf_id="v2")
    stub.assert_called_with("refresh", ids=(1,))
    with pytest.raises(AssertionError,
                       match=r"conductor:get was last called with "
                             r"\{'vnf_id': 'v2'\}, not \{'vnf_id': 'v1'\}"):
        stub.assert_called_with("get", vnf_id="v1")
    with pytest.raises(AssertionError, match="conductor:other was not "
                                             "called; calls received"):
        stub.assert_called_with("other")


def test_unsendable_argument_or_result_fails_as_in_production(rpc_fixture,
                                                              rpc_stub):
    rpc_stub("conductor", get=None, bad=lambda ctxt: object())
    with pytest.raises(exceptions.SerializationError,
                       match="cannot send 'get'.*argument when is of type "
                             "object"):
        client("conductor").call({}, "get", when=object())
    with pytest.raises(exceptions.SerializationError):
        client("conductor").call({}, "bad")


def test_unstubbed_method_fails_naming_the_stubs(rpc_fixture):
    stub = testing.stub_service("conductor", get=None, put=None)
    stub.setUp()
    message = (r"conductor:delete was called but has no stub; the stub of "
               r"topic 'conductor' answers \['get', 'put'\]")
    with pytest.raises(testing.UnstubbedMethodError, match=message):
        client("conductor").call({}, "delete")
    with pytest.raises(testing.UnstubbedMethodError, match=message):
        stub.cleanUp()  # loud even when the caller swallowed it


def test_a_stub_left_with_an_error_raises_only_that_one(rpc_fixture):
    stub = testing.stub_service("conductor", get=None)
    with pytest.raises(testing.UnstubbedMethodError, match="delete was c"):
        with stub:
            client("conductor").call({}, "delete")
    stub.setUp()  # used again: checked again
    with pytest.raises(testing.UnstubbedMethodError):
        client("conductor").cast({}, "put")
    with pytest.raises(testing.UnstubbedMethodError, match="put was cast"):
        stub.cleanUp()


def test_other_topics_and_namespaces_are_untouched(rpc_fixture):
    server = serve("real", Recorder())
    try:
        with testing.stub_service("real", namespace="ns", echo="stubbed"):
            assert client("real").call({}, "echo", value="x") == "x"
            assert client("real", namespace="ns").call(
                {}, "echo", value="x") == "stubbed"
    finally:
        stop(server)


def test_stub_as_decorator_and_with_nesting_in_any_order(rpc_fixture):
    outer = testing.stub_service("a", get="a")

    @outer
    def run():
        inner = testing.stub_service("b", get="b")
        inner.setUp()
        second = testing.stub_service("c", get="c")
        second.setUp()
        inner.cleanUp()
        try:
            return [client(t).call({}, "get") for t in ("a", "c")]
        finally:
            second.cleanUp()

    assert run() == ["a", "c"]
    assert outer.call_count("get") == 1
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client("a", timeout=0.1).call({}, "get")


def test_stubbed_timeout_reaches_the_backoff(rpc_fixture, rpc_stub):
    rpc_fixture.conf.set_override("rpc_backoff_max_splay", 0)
    rpc_stub("slow", get=oslo_messaging.MessagingTimeout)
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client("slow").call({}, "get")
    [entry] = rpc.get_backoff_snapshot()
    assert entry["timeouts"] == 1 and entry["timeout"] > entry[
        "default_timeout"]


# run_method ---------------------------------------------------------------

class Versioned(Recorder):
    target = oslo_messaging.Target(namespace="ns", version="2.3")

    def whoami(self, ctxt):
        return {"user": ctxt.user_id, "type": type(ctxt).__name__}


def test_run_method_goes_through_the_server_path():
    assert testing.run_method(Recorder(), "echo", value=("a",)) == ["a"]
    assert testing.run_method(Versioned(), "whoami", {"user_id": "u"}) == {
        "user": "u", "type": "RequestContext"}
    with pytest.raises(oslo_messaging.rpc.dispatcher.NoSuchMethod):
        testing.run_method(Recorder(), "_private")
    with pytest.raises(exceptions.SerializationError,
                       match="argument value is of type object"):
        testing.run_method(Recorder(), "echo", value=object())
    with pytest.raises(KeyError, match="from the server"):
        testing.run_method(Recorder(), "fail")


class VnfAPI(api.RPCAPI):
    topic = "vnf"
    version = "1.0"

    @api.call(since="1.0")
    def get(self, ctxt, vnf_id: str) -> dict:
        """One VNF."""


@api.implements(VnfAPI)
class DeclaredManager:
    def get(self, ctxt, vnf_id):
        return {"id": vnf_id}


def test_run_method_checks_a_declared_manager_as_its_server_does():
    assert testing.run_method(DeclaredManager(), "get", vnf_id="v") == {
        "id": "v"}
    with pytest.raises(exceptions.InvalidArguments,
                       match="argument 'vnf_id' must be str"):
        testing.run_method(DeclaredManager(), "get", vnf_id=3)


def test_run_method_raises_an_action_error_as_the_endpoint_did(caplog):
    caplog.set_level(logging.INFO)
    errors = [exceptions.Error("E", "m", field="f")]

    class Refusing:
        def refuse(self, ctxt):
            raise exceptions.ActionError(errors)

    with pytest.raises(exceptions.ActionError) as raised:
        testing.run_method(Refusing(), "refuse")
    assert type(raised.value) is exceptions.ActionError
    assert testing.assert_action_error(raised.value, code="E") == errors[0]
    assert "refused the request" in caplog.text


# assert_action_error ------------------------------------------------------

def test_assert_action_error_names_what_it_found():
    exc = exceptions.ActionError([exceptions.Error("A", "m", field="x"),
                                  exceptions.Error("B", "n")])
    assert testing.assert_action_error(exc, code="B", field=None).code == "B"
    assert testing.assert_action_error(exc, message="m").field == "x"
    with pytest.raises(AssertionError, match="no Error with code='A', "
                                             "field='y' in the ActionError"):
        testing.assert_action_error(exc, code="A", field="y")
    with pytest.raises(AssertionError,
                       match="expected an ActionError, got KeyError"):
        testing.assert_action_error(KeyError("k"), code="A")
