"""RequestContextSerializer, the context class, and what may be sent."""

import oslo_context.context
import oslo_messaging
import pytest

from tacker_rpc import backoff
from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import rpc


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


class PointSerializer(oslo_messaging.Serializer):
    """A base serializer: Points travel as {"point": [x, y]}."""

    def serialize_entity(self, ctxt, entity):
        if isinstance(entity, Point):
            return {"point": [entity.x, entity.y]}
        return entity

    def deserialize_entity(self, ctxt, entity):
        if isinstance(entity, dict) and "point" in entity:
            return Point(*entity["point"])
        return entity

    def serialize_context(self, ctxt):
        raise AssertionError("contexts are RequestContextSerializer's job")

    def deserialize_context(self, ctxt):
        raise AssertionError("contexts are RequestContextSerializer's job")


class HasToDict:
    def to_dict(self):
        return {"user_id": "u1", "project_id": "p1"}


def full_context():
    return context.RequestContext(
        user_id="u1", project_id="p1", roles=["reader", "member"],
        is_admin=True, request_id="req-0001",
        global_request_id="req-global-0001")


def test_serialize_context_uses_to_dict():
    ctxt = full_context()
    serializer = rpc.RequestContextSerializer()
    assert serializer.serialize_context(ctxt) == ctxt.to_dict()
    assert serializer.serialize_context(HasToDict()) == HasToDict().to_dict()


def test_serialize_context_passes_a_dict_through():
    values = {"user_id": "u1", "anything": [1, 2]}
    assert rpc.RequestContextSerializer().serialize_context(values) == values


@pytest.mark.parametrize("bad", ["req-1", 42, None, ["user_id", "u1"],
                                 object()])
def test_serialize_context_refuses_other_types_naming_them(bad):
    with pytest.raises(exceptions.InvalidContext) as info:
        rpc.RequestContextSerializer().serialize_context(bad)
    assert type(bad).__name__ in str(info.value)


def test_context_round_trip_keeps_its_fields():
    serializer = rpc.RequestContextSerializer()
    sent = full_context()
    received = serializer.deserialize_context(
        serializer.serialize_context(sent))
    assert isinstance(received, context.RequestContext)
    assert isinstance(received, oslo_context.context.RequestContext)
    for field in ("user_id", "project_id", "roles", "is_admin",
                  "request_id", "global_request_id"):
        assert getattr(received, field) == getattr(sent, field), field


def test_deserialize_context_ignores_unknown_keys():
    received = rpc.RequestContextSerializer().deserialize_context(
        {"user_id": "u1", "flavour": "vanilla", "msg_id": "m",
         "nested": {"a": 1}})
    assert received.user_id == "u1"
    assert not hasattr(received, "flavour")


def test_deserialize_context_understands_legacy_keys():
    received = rpc.RequestContextSerializer().deserialize_context(
        {"user": "u1", "tenant": "p1"})
    assert (received.user_id, received.project_id) == ("u1", "p1")


def test_deserialize_context_fills_missing_ids():
    received = rpc.RequestContextSerializer().deserialize_context({})
    assert received.request_id.startswith("req-")
    assert received.user_id is None and received.project_id is None
    assert received.roles == []
    assert received.is_admin is False


@pytest.mark.parametrize("values, field", [
    ({"roles": "admin"}, "roles"),
    ({"roles": ["admin", 7]}, "roles"),
    ({"is_admin": "yes"}, "is_admin"),
    ({"is_admin": "false"}, "is_admin"),
    ({"user_id": {"id": 42}}, "user_id"),
    ({"user": ["u1"]}, "user"),
    ({"tenant": ["p1"]}, "tenant"),
    ({"project_id": {"p": 1}}, "project_id"),
    ({"user_name": ["alice"]}, "user_name"),
])
def test_deserialize_context_names_the_key_that_would_break_a_server(
        values, field):
    with pytest.raises(exceptions.InvalidContext,
                       match="field %r must be" % field):
        rpc.RequestContextSerializer().deserialize_context(values)


@pytest.mark.parametrize("sent, field, value", [
    ({"user_id": 42}, "user_id", 42),
    ({"user": 42}, "user_id", 42),
    ({"project_id": 7}, "project_id", 7),
    ({"tenant": 7}, "project_id", 7),
    ({"user_name": 3.5}, "user_name", 3.5),
    ({"domain": 1, "user_domain": 2}, "user_domain_id", 2),
    ({"request_id": 12345}, "request_id", 12345),
])
def test_deserialize_context_keeps_a_number_where_a_string_is_usual(
        sent, field, value):
    # oslo.context's RequestContext keeps such a value; so do we.
    received = rpc.RequestContextSerializer().deserialize_context(sent)
    assert getattr(received, field) == value
    oslo_ctxt = oslo_context.context.RequestContext(**{field: value})
    assert getattr(oslo_ctxt, field) == value


def test_deserialize_context_takes_roles_as_a_tuple():
    received = rpc.RequestContextSerializer().deserialize_context(
        {"roles": ("reader", "member")})
    assert list(received.roles) == ["reader", "member"]


@pytest.mark.parametrize("bad", ["ctxt", ["user_id", "u1"], 3])
def test_deserialize_context_refuses_what_is_not_a_dict(bad):
    with pytest.raises(exceptions.InvalidContext,
                       match=type(bad).__name__):
        rpc.RequestContextSerializer().deserialize_context(bad)


def test_entities_go_through_the_base_serializer():
    serializer = rpc.RequestContextSerializer(PointSerializer())
    sent = serializer.serialize_entity({}, Point(1, 2))
    assert sent == {"point": [1, 2]}
    received = serializer.deserialize_entity({}, sent)
    assert (received.x, received.y) == (1, 2)


def test_without_base_entities_are_unchanged():
    serializer = rpc.RequestContextSerializer()
    entity = {"a": [1, "b", None, 2.5]}
    assert serializer.serialize_entity({}, entity) is entity
    assert serializer.deserialize_entity({}, entity) is entity


class DuckSerializer:
    """Has oslo.messaging's Serializer methods without subclassing it."""

    serialize_entity = PointSerializer.serialize_entity
    deserialize_entity = PointSerializer.deserialize_entity
    serialize_context = PointSerializer.serialize_context
    deserialize_context = PointSerializer.deserialize_context


def test_base_may_be_any_object_with_the_serializer_methods():
    serializer = rpc.RequestContextSerializer(DuckSerializer())
    sent = serializer.serialize_entity({}, Point(1, 2))
    assert sent == {"point": [1, 2]}
    assert serializer.deserialize_entity({}, sent).y == 2


class EntitiesOnly:
    def serialize_entity(self, ctxt, entity):
        return entity

    def deserialize_entity(self, ctxt, entity):
        return entity

    deserialize_context = "not a method"


def test_base_without_the_serializer_methods_is_refused_naming_them():
    with pytest.raises(TypeError) as info:
        rpc.RequestContextSerializer(EntitiesOnly())
    message = str(info.value)
    assert "EntitiesOnly" in message
    assert "serialize_context, deserialize_context" in message
    assert "serialize_entity," not in message
    with pytest.raises(TypeError, match="Point has no serialize_entity, "
                                        "deserialize_entity, "):
        rpc.RequestContextSerializer(Point(1, 2))


class ServiceContext:
    """A service's own context class (as tacker's Context), not a subclass
    of oslo.context's."""

    def __init__(self, user_id=None, session=None):
        self.user_id = user_id
        self.session = session

    @classmethod
    def from_dict(cls, values):
        if "refuse" in values:
            raise ValueError("cannot use %r" % values["refuse"])
        return cls(user_id=values.get("user_id"), session="db-session")

    def to_dict(self):
        return {"user_id": self.user_id}


def test_context_class_builds_the_services_own_context():
    serializer = rpc.RequestContextSerializer(context_class=ServiceContext)
    assert serializer.context_class is ServiceContext
    received = serializer.deserialize_context({"user_id": "u1", "x": 1})
    assert isinstance(received, ServiceContext)
    assert (received.user_id, received.session) == ("u1", "db-session")
    assert serializer.serialize_context(received) == {"user_id": "u1"}


def test_default_context_class_is_the_toolkits():
    serializer = rpc.RequestContextSerializer()
    assert serializer.context_class is context.RequestContext


def test_a_context_class_refusal_is_an_invalid_context_naming_it():
    serializer = rpc.RequestContextSerializer(context_class=ServiceContext)
    with pytest.raises(exceptions.InvalidContext,
                       match="ServiceContext.from_dict refused .*ValueError"):
        serializer.deserialize_context({"refuse": "this"})
    with pytest.raises(exceptions.InvalidContext, match="got list"):
        serializer.deserialize_context(["user_id", "u1"])


def test_context_class_without_from_dict_is_refused():
    with pytest.raises(TypeError, match="context_class .*Point.* from_dict"):
        rpc.RequestContextSerializer(context_class=Point)


def test_get_client_sends_through_the_base_serializer(rpc_fixture, rpc_stub):
    stub = rpc_stub("ser", move={"point": [3, 4]})
    client = rpc.get_client(oslo_messaging.Target(topic="ser"),
                            serializer=PointSerializer())
    answer = client.call(full_context(), "move", to=Point(1, 2))
    [received] = stub.calls
    assert received.kwargs == {"to": {"point": [1, 2]}}
    assert received.context.to_dict() == full_context().to_dict()
    assert (answer.x, answer.y) == (3, 4)


@pytest.mark.parametrize("how", ["call", "cast", "prepared-call"])
def test_unsendable_argument_fails_on_the_caller_with_nothing_sent(
        rpc_fixture, rpc_stub, how):
    stub = rpc_stub("ser", create_vnf=None)
    client = rpc.get_client(oslo_messaging.Target(topic="ser"))
    sender = client.prepare(timeout=5) if how == "prepared-call" else client
    send_it = sender.cast if how == "cast" else sender.call
    with pytest.raises(exceptions.SerializationError) as info:
        send_it({}, "create_vnf", name="vnf-1",
                spec={"hosts": ["a", object()]})
    message = str(info.value)
    assert "'create_vnf'" in message
    assert "argument spec['hosts'][1]" in message
    assert "object" in message
    assert stub.calls == []
    assert all((entry.calls, entry.timeouts) == (0, 0)
               for entry in backoff.TIMEOUTS.snapshot())


def test_unsendable_context_value_fails_on_the_caller(rpc_fixture, rpc_stub):
    stub = rpc_stub("ser", create_vnf=None)
    client = rpc.get_client(oslo_messaging.Target(topic="ser"))
    with pytest.raises(exceptions.SerializationError, match="context"):
        client.call({"user_id": object()}, "create_vnf")
    assert stub.calls == []
