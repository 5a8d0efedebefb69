"""Declared RPC APIs on the in-memory transport: declarations, the client's
checks and what it sends, the server's start-up and argument checks."""

import logging

import oslo_messaging
import pytest

from tacker_rpc import api
from tacker_rpc import exceptions
from tacker_rpc import rpc
from tacker_rpc import status


class ConductorAPI(api.RPCAPI):
    """The conductor's API."""

    topic = "conductor"
    version = "1.3"

    @api.call(since="1.0")
    def get_vnf(self, ctxt, vnf_id: api.Field(str, "the VNF's id"),
                detail: bool = False) -> dict:
        """One VNF by id.

        Not in describe.
        """

    @api.cast(since="1.2")
    def refresh(self, ctxt, vnf_id: str):
        """Refresh a VNF."""

    @api.cast(since="1.1", fanout=True)
    def flush(self, ctxt):
        """Every server drops its caches."""

    @api.call(since="1.3", namespace="admin")
    def reset(self, ctxt, hard: bool | None = None):
        """Reset (admin namespace)."""


@api.implements(ConductorAPI)
class Conductor:
    def __init__(self):
        self.calls = []

    def get_vnf(self, ctxt, vnf_id, detail=False):
        self.calls.append(("get_vnf", vnf_id, detail))
        return {"id": vnf_id, "detail": detail}

    def refresh(self, ctxt, vnf_id):
        self.calls.append(("refresh", vnf_id))

    def flush(self, ctxt):
        self.calls.append(("flush",))

    def reset(self, ctxt, hard=None):
        self.calls.append(("reset", hard))
        return "reset"

    def undeclared(self, ctxt):
        return "must not be reachable"


class RecordingSend:
    """Stands in for ``transport._send``: keeps target, message and
    whether a reply was awaited."""

    def __init__(self):
        self.sent = []

    def __call__(self, target, ctxt, message, wait_for_reply=None,
                 **kwargs):
        self.sent.append((target, message, bool(wait_for_reply)))
        return {"answered": message["method"]}


@pytest.fixture
def recorded(init_rpc, monkeypatch):
    """``recorded(**client_options)``: (ConductorAPI client, sends)."""
    def make(**options):
        init_rpc()
        conductor = ConductorAPI(**options)
        send = RecordingSend()
        monkeypatch.setattr(conductor.client.transport, "_send", send)
        return conductor, send.sent
    return make


@pytest.fixture
def conductor_service(init_rpc):
    """A Service of Conductor on the in-memory transport: (manager,
    ConductorAPI client)."""
    init_rpc(rpc_response_timeout=5)
    manager = Conductor()
    service = rpc.Service("c-host", "conductor", manager=manager)
    service.start()
    yield manager, ConductorAPI()
    service.stop()


# -- the declaration ---------------------------------------------------------

def test_methods_are_sent_with_their_version_kind_namespace_and_fanout(
        recorded):
    conductor, sent = recorded()
    assert conductor.get_vnf({}, vnf_id="v1") == {"answered": "get_vnf"}
    conductor.refresh({}, "v1")
    conductor.flush({})
    conductor.reset({}, hard=True)
    assert [(t.topic, t.version, t.namespace, t.fanout, reply)
            for t, _, reply in sent] == [
        ("conductor", "1.0", None, False, True),
        ("conductor", "1.2", None, False, False),
        ("conductor", "1.1", None, True, False),
        ("conductor", "1.3", "admin", False, True)]
    assert [message["args"] for _, message, _ in sent] == [
        {"vnf_id": "v1"}, {"vnf_id": "v1"}, {}, {"hard": True}]
    assert [message["version"] for _, message, _ in sent] == [
        "1.0", "1.2", "1.1", "1.3"]


def test_prepare_sends_to_one_server_and_keeps_the_declaration(recorded):
    conductor, sent = recorded()
    conductor.prepare(server="node1").refresh({}, "v1")
    target = sent[0][0]
    assert (target.server, target.version) == ("node1", "1.2")


@pytest.mark.parametrize("call, message", [
    (lambda c: c.get_vnf({}), r"ConductorAPI.get_vnf\(\): argument "
                              r"'vnf_id' is missing"),
    (lambda c: c.get_vnf({}, vnf_id=3),
     r"ConductorAPI.get_vnf\(\): argument 'vnf_id' must be str, got int 3"),
    (lambda c: c.get_vnf({}, "v", detail="yes"),
     r"argument 'detail' must be bool, got str 'yes'"),
    (lambda c: c.get_vnf({}, "v", colour="red"),
     r"ConductorAPI.get_vnf\(\): argument 'colour' is not one of "
     r"\(vnf_id, detail\)"),
    (lambda c: c.get_vnf({}, "v", True, 3),
     r"ConductorAPI.get_vnf\(\) takes 2 argument\(s\) after the context, "
     r"3 given"),
    (lambda c: c.get_vnf({}, "v", vnf_id="w"),
     r"argument 'vnf_id' given twice"),
    (lambda c: c.refresh({}, None), r"argument 'vnf_id' must be str"),
    (lambda c: c.get_vnf.call_async({}, vnf_id=1), r"'vnf_id' must be"),
    (lambda c: c.get_vnf.bind({}, vnf_id=1), r"'vnf_id' must be"),
    (lambda c: c.get_vnf.each_server({}, vnf_id=1, hosts=["h"]),
     r"'vnf_id' must be"),
])
def test_bad_arguments_are_refused_before_sending(recorded, call, message):
    conductor, sent = recorded()
    with pytest.raises(exceptions.InvalidArguments, match=message):
        call(conductor)
    assert sent == []


def test_the_field_and_method_are_on_the_error(recorded):
    conductor, _ = recorded()
    with pytest.raises(exceptions.InvalidArguments) as error:
        conductor.get_vnf({}, vnf_id=3)
    assert (error.value.field, error.value.method) == (
        "vnf_id", "ConductorAPI.get_vnf()")
    assert isinstance(error.value, TypeError)


def test_positional_arguments_go_by_declared_name(recorded):
    conductor, sent = recorded()
    conductor.get_vnf({}, "v2", True)
    assert sent[0][1]["args"] == {"vnf_id": "v2", "detail": True}


def test_method_newer_than_the_cap_is_refused_before_sending(recorded):
    conductor, sent = recorded(version_cap="1.1")
    for call in (lambda: conductor.refresh({}, "v1"),
                 lambda: conductor.reset({}),
                 lambda: conductor.refresh.call_async({}, "v1")):
        with pytest.raises(oslo_messaging.RPCVersionCapError) as error:
            call()
        assert error.value.version_cap == "1.1"
    assert sent == []
    conductor.flush({})
    conductor.get_vnf({}, "v1")
    assert len(sent) == 2
    assert conductor.can_send_version("1.1")
    assert not conductor.can_send_version("1.2")


def test_arguments_are_checked_before_the_version_cap(recorded):
    conductor, _ = recorded(version_cap="1.0")
    with pytest.raises(exceptions.InvalidArguments):
        conductor.refresh({}, 1)


def test_client_options_reach_the_client(recorded):
    conductor, sent = recorded(timeout=7, retry=2)
    assert (conductor.client.timeout, conductor.client.retry) == (7, 2)


def test_call_async_and_bind(recorded):
    conductor, sent = recorded()
    future = conductor.get_vnf.call_async({}, "v1")
    assert future.result(10) == {"answered": "get_vnf"}
    later = conductor.refresh.bind({}, vnf_id="v2")
    assert sent[1:] == []
    later()
    assert sent[1][1]["method"] == "refresh"


@pytest.mark.parametrize("source, problem", [
    ("""
class A(api.RPCAPI):
    version = "1.1"
    @api.call(since="1.2")
    def m(self, ctxt): pass
""", r"A.m\(\): since='1.2' is not within the API's version '1.1'"),
    ("""
class A(api.RPCAPI):
    version = "2.0"
    @api.call(since="1.0")
    def m(self, ctxt): pass
""", "not within"),
    ("""
class A(api.RPCAPI):
    version = "1"
""", r"A.version: version must be a string like '1.3', got '1'"),
    ("""
class A(api.RPCAPI):
    @api.call(since=1.0)
    def m(self, ctxt): pass
""", "version must be a string"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0")
    def _m(self, ctxt): pass
""", "names starting with '_'"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0", fanout=True)
    def m(self, ctxt): pass
""", "unexpected keyword|cannot fan out"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0")
    def m(self, ctxt, *items): pass
""", r"\*items cannot be declared"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0")
    def m(self, ctxt, **options): pass
""", r"\*options cannot be declared"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0")
    def m(self): pass
""", r"declare it as \(self, ctxt, arguments...\)"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0")
    def m(self, ctxt, data: tuple): pass
""", "argument 'data': type tuple does not survive JSON"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0")
    def prepare(self, ctxt): pass
""", "prepare would hide RPCAPI's own attributes"),
    ("""
class A(api.RPCAPI):
    @api.call(since="1.0")
    def m(self, ctxt, target): pass
""", "argument name 'target' is reserved"),
])
def test_bad_declarations_fail_when_the_class_is_made(source, problem):
    with pytest.raises((exceptions.InvalidDeclaration, TypeError),
                       match=problem):
        exec(source, {"api": api})


def test_call_with_fanout_is_refused():
    with pytest.raises(exceptions.InvalidDeclaration, match="cannot fan"):
        api.declaration.Method(lambda self, ctxt: None, "call", "1.0",
                               fanout=True)


def test_an_api_without_topic_cannot_make_a_client(init_rpc):
    class NoTopic(api.RPCAPI):
        pass
    init_rpc()
    with pytest.raises(exceptions.InvalidDeclaration, match="no topic"):
        NoTopic()


def test_subclass_extends_and_overrides_its_base():
    class NewerAPI(ConductorAPI):
        version = "1.4"

        @api.call(since="1.4")
        def get_vnf(self, ctxt, vnf_id: str, fields: list[str]):
            """Now with fields."""
        refresh = None

    methods = api.declaration.methods_of(NewerAPI)
    assert sorted(methods) == ["flush", "get_vnf", "reset"]
    assert methods["get_vnf"].since == "1.4"
    assert sorted(api.declaration.methods_of(ConductorAPI)) == [
        "flush", "get_vnf", "refresh", "reset"]


def test_describe_the_declaration():
    described = ConductorAPI.describe()
    assert described["api"] == __name__ + ".ConductorAPI"
    assert (described["topic"], described["version"], described["doc"]) == (
        "conductor", "1.3", "The conductor's API.")
    methods = {m["name"]: m for m in described["methods"]}
    assert methods["get_vnf"] == {
        "name": "get_vnf", "kind": "call", "since": "1.0",
        "namespace": None, "fanout": False, "doc": "One VNF by id.",
        "returns": "dict",
        "arguments": [
            {"name": "vnf_id", "type": "str", "description": "the VNF's id",
             "required": True},
            {"name": "detail", "type": "bool", "description": "",
             "required": False, "default": False}]}
    assert (methods["flush"]["fanout"], methods["reset"]["namespace"]) == (
        True, "admin")


# -- the server --------------------------------------------------------------

def test_declared_client_and_server(conductor_service):
    manager, conductor = conductor_service
    assert conductor.get_vnf({}, "v1", detail=True) == {"id": "v1",
                                                         "detail": True}
    assert conductor.reset({}, hard=False) == "reset"
    assert manager.calls == [("get_vnf", "v1", True), ("reset", False)]


def plain_client(**target):
    return rpc.get_client(oslo_messaging.Target(topic="conductor",
                                                **target), timeout=5)


@pytest.mark.parametrize("method, arguments, field, problem", [
    ("get_vnf", {"vnf_id": 3}, "vnf_id", "must be str, got int 3"),
    ("get_vnf", {}, "vnf_id", "is missing"),
    ("get_vnf", {"vnf_id": "v", "x": 1}, "x", "is not one of"),
    ("get_vnf", {"vnf_id": "v", "detail": None}, "detail", "must be bool"),
])
def test_server_refuses_bad_arguments_naming_the_field(
        conductor_service, caplog, method, arguments, field, problem):
    manager, conductor = conductor_service
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(exceptions.InvalidArguments,
                           match="argument %r %s" % (field, problem)) as error:
            plain_client().call({}, method, **arguments)
    assert (error.value.field, error.value.method) == (
        field, "ConductorAPI.%s()" % method)
    assert manager.calls == []
    # An ActionError: one line by the dispatcher, a caller's error.
    refused = [r for r in caplog.records
               if r.name == "tacker_rpc.dispatcher"]
    assert [r.levelno for r in refused] == [logging.INFO]
    assert not any(r.exc_info for r in caplog.records
                   if r.name.startswith("oslo_messaging"))
    assert conductor.get_vnf({}, "still") == {"id": "still",
                                              "detail": False}


def test_a_bad_cast_is_dropped_and_the_server_keeps_serving(
        conductor_service, caplog):
    manager, conductor = conductor_service
    with caplog.at_level(logging.INFO):
        plain_client(version="1.2").cast({}, "refresh", vnf_id=[1])
        conductor.refresh({}, "good")
        conductor.get_vnf({}, "after")
    assert ("refresh", "good") in manager.calls
    assert ("refresh", [1]) not in manager.calls
    assert any("argument 'vnf_id' must be str" in r.getMessage()
               for r in caplog.records)


def test_undeclared_methods_are_not_served(conductor_service):
    with pytest.raises(oslo_messaging.RemoteError) as error:
        plain_client().call({}, "undeclared")
    assert error.value.exc_type == "NoSuchMethod"


def test_methods_are_served_in_their_namespace_only(conductor_service):
    manager, _ = conductor_service
    with pytest.raises(oslo_messaging.RemoteError) as error:
        plain_client(version="1.3").call({}, "reset")
    assert error.value.exc_type == "NoSuchMethod"
    assert plain_client(namespace="admin", version="1.3").call(
        {}, "reset") == "reset"


def test_versions_newer_than_the_api_are_unsupported(conductor_service):
    with pytest.raises(oslo_messaging.RemoteError) as error:
        plain_client(version="1.4").call({}, "get_vnf", vnf_id="v")
    assert error.value.exc_type == "UnsupportedVersion"


def test_a_plain_client_of_the_right_version_is_served(conductor_service):
    assert plain_client(version="1.0").call({}, "get_vnf", vnf_id="v") == {
        "id": "v", "detail": False}


def test_describe_returns_the_declared_api(conductor_service):
    described = plain_client(namespace=status.NAMESPACE,
                             version=status.VERSION).call({}, "describe")
    assert described["apis"] == [ConductorAPI.describe()]
    assert [m["name"] for m in described["methods"]] == [
        "flush", "get_vnf", "refresh", "reset"]


@api.implements(ConductorAPI)
class Wrong:
    def get_vnf(self, ctxt, vnf_id):
        pass

    def refresh(self, ctxt, vnf_id, when):
        pass

    def flush(self, ctxt, **anything):
        pass

    reset = "not callable"


@pytest.mark.parametrize("manager_class, problems", [
    (Wrong, [
        "Wrong.get_vnf() has no argument 'detail' that "
        "ConductorAPI.get_vnf() declares",
        "Wrong.refresh() requires 'when', which ConductorAPI.refresh() "
        "does not declare",
        "ConductorAPI.reset() (since 1.3) is not implemented by Wrong"]),
    (type("Required", (Conductor,), {
        "get_vnf": lambda self, ctxt, vnf_id, detail: None}),
     ["Required.get_vnf() requires 'detail', optional in "
      "ConductorAPI.get_vnf()"]),
    (type("NoContext", (Conductor,), {
        "flush": lambda self, *, ctxt: None}),
     ["NoContext.flush() does not take the request context first"]),
    (type("OldTarget", (Conductor,), {
        "target": oslo_messaging.Target(version="1.2")}),
     ["its target's version '1.2' is older than ConductorAPI's '1.3'"]),
    (type("OtherNamespace", (Conductor,), {
        "target": oslo_messaging.Target(namespace="x", version="1.3")}),
     ["its target's namespace 'x' is not ConductorAPI's None"]),
])
def test_a_mismatching_manager_fails_at_start_naming_each_mismatch(
        init_rpc, manager_class, problems):
    init_rpc()
    service = rpc.Service("h", "conductor", manager=manager_class())
    with pytest.raises(exceptions.ImplementationMismatch) as error:
        service.start()
    message = str(error.value)
    assert message.startswith("%s does not implement what it declares: "
                              % manager_class.__name__)
    for problem in problems:
        assert problem in message
    assert message.count(";") == len(problems) - 1
    service.stop()


def test_two_apis_with_one_method_name_in_a_namespace_are_refused(
        init_rpc):
    class OtherAPI(api.RPCAPI):
        topic = "conductor"
        version = "1.3"

        @api.call(since="1.0")
        def get_vnf(self, ctxt, vnf_id: str):
            pass

    both = api.implements(ConductorAPI, OtherAPI)(
        type("Both", (Conductor,), {}))
    init_rpc()
    with pytest.raises(exceptions.ImplementationMismatch,
                       match=r"ConductorAPI.get_vnf\(\) and "
                             r"OtherAPI.get_vnf\(\) are both 'get_vnf'"):
        rpc.get_server(oslo_messaging.Target(topic="t", server="h"),
                       [both()])


def test_a_manager_may_take_more_than_declared(init_rpc):
    @api.implements(ConductorAPI)
    class Lenient(Conductor):
        def get_vnf(self, ctxt, vnf_id=None, detail=False, extra=1):
            return "lenient"

        def refresh(self, ctxt, **kwargs):
            pass

    init_rpc()
    service = rpc.Service("h", "conductor", manager=Lenient())
    service.start()
    try:
        assert ConductorAPI().get_vnf({}, "v") == "lenient"
    finally:
        service.stop()


def test_implements_takes_declared_apis_only():
    with pytest.raises(exceptions.InvalidDeclaration, match="RPCAPI"):
        api.implements(object)
    with pytest.raises(exceptions.InvalidDeclaration, match="needs"):
        api.implements()
