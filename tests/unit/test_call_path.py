"""The payload check, context parsing and option registration on the call
path (made cheaper for benchmarks/overhead.py; behaviour must not change)."""

import collections
import datetime
import uuid

from hypothesis import given
from hypothesis import strategies as st
from oslo_config import cfg
import oslo_messaging
import pytest

from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import opts
from tacker_rpc import serializer

_scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                     st.floats(allow_nan=False), st.text(max_size=5))
_plain = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=4), inner,
                                            max_size=4)),
    max_leaves=20)


class Opaque:
    pass


@given(_plain)
def test_plain_values_are_sendable(value):
    serializer.check_sendable(value)


@given(_plain, st.data())
def test_an_opaque_object_anywhere_is_refused_with_its_location(value, data):
    container = {"outer": [value]}
    path = "value['outer'][0]"
    node = container["outer"]
    index = 0
    while isinstance(node[index], (list, dict)) and node[index]:
        child = node[index]
        if isinstance(child, dict):
            key = data.draw(st.sampled_from(sorted(child)))
            path += "[%r]" % (key,)
        else:
            key = data.draw(st.integers(0, len(child) - 1))
            path += "[%d]" % key
        node, index = child, key
    node[index] = Opaque()
    with pytest.raises(exceptions.SerializationError) as error:
        serializer.check_sendable(container)
    assert str(error.value).startswith(path + " is of type Opaque")


@pytest.mark.parametrize("value", [
    {"when": datetime.datetime(2026, 1, 1), "id": uuid.uuid4()},
    [datetime.date(2026, 1, 1), {"set": {1, 2}}, frozenset(["a"])],
    collections.OrderedDict(a=[1, (2, 3)]),
])
def test_values_jsonutils_converts_are_sendable(value):
    serializer.check_sendable(value)


def test_a_non_string_key_is_refused_in_a_dict_subclass():
    with pytest.raises(exceptions.SerializationError,
                       match=r"context\['a'\] has a key of type tuple"):
        serializer.check_sendable(
            {"a": collections.OrderedDict({(1, 2): 3})}, "context")


def test_context_from_dict_reads_current_and_legacy_keys():
    ctxt = context.RequestContext.from_dict(
        {"user": "u", "tenant": "p", "project_id": "p2", "roles": ["r"],
         "is_admin": True, "unknown": object(), "request_id": None},
        read_only=True)
    assert (ctxt.user_id, ctxt.project_id, ctxt.roles) == ("u", "p2", ["r"])
    assert ctxt.is_admin and ctxt.read_only
    assert ctxt.request_id.startswith("req-")


@pytest.mark.parametrize("values, message", [
    ({"user_id": {"id": 5}},
     "field 'user_id' must be a string or a number, got dict"),
    ({"is_admin": "yes"}, "field 'is_admin' must be true or false, got str"),
    ({"roles": "admin"}, "field 'roles' must be a list of strings"),
    ({"roles": ["a", 1]}, "field 'roles' must be a list of strings"),
])
def test_context_from_dict_names_the_field_of_the_wrong_type(values,
                                                             message):
    with pytest.raises(exceptions.InvalidContext, match=message):
        context.RequestContext.from_dict(values)


def test_context_from_dict_checks_keyword_overrides_too():
    with pytest.raises(exceptions.InvalidContext, match="'project_id'"):
        context.RequestContext.from_dict({}, project_id=[7])


def test_any_oslo_messaging_option_can_be_set_before_init():
    conf = cfg.ConfigOpts()
    conf([])
    opts.register_opts(conf)
    opts.register_opts(conf)
    conf.set_override("executor_thread_pool_size", 3)
    conf.set_override("rabbit_qos_prefetch_count", 5,
                      group="oslo_messaging_rabbit")
    conf.set_override("transport_url", "kombu+memory:////")
    transport = oslo_messaging.get_rpc_transport(conf)
    try:
        oslo_messaging.get_rpc_server(
            transport, oslo_messaging.Target(topic="t", server="h"), [])
        assert conf.executor_thread_pool_size == 3
        assert conf.oslo_messaging_rabbit.rabbit_qos_prefetch_count == 5
    finally:
        transport.cleanup()
