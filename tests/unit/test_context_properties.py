"""Property-based tests of context deserialization (hypothesis).

Whatever JSON-like value arrives as a context, the server either builds a
:class:`tacker_rpc.context.RequestContext` or gets a clear
:class:`~tacker_rpc.exceptions.InvalidContext`; nothing else escapes.
"""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import serializer

KNOWN_KEYS = (
    "user_id", "project_id", "domain_id", "user_domain_id",
    "project_domain_id", "request_id", "global_request_id", "auth_token",
    "resource_uuid", "user_name", "project_name", "domain_name",
    "user_domain_name", "project_domain_name", "system_scope", "is_admin",
    "read_only", "show_deleted", "is_admin_project", "roles", "user",
    "tenant", "tenant_id", "tenant_name", "project", "domain",
    "user_domain", "project_domain",
    "timestamp", "service_catalog", "remote_address",
)

json_scalars = (st.none() | st.booleans() | st.integers()
                | st.floats(allow_nan=False) | st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.text(max_size=10), inner,
                                     max_size=4)),
    max_leaves=10)
context_dicts = st.dictionaries(
    st.sampled_from(KNOWN_KEYS) | st.text(max_size=15), json_values,
    max_size=12)


def _rebuild(values):
    try:
        ctxt = serializer.RequestContextSerializer().deserialize_context(
            values)
    except exceptions.InvalidContext as exc:
        assert str(exc)
        return None
    assert isinstance(ctxt, context.RequestContext)
    return ctxt


@settings(max_examples=400, deadline=None)
@given(context_dicts)
def test_any_json_dict_gives_a_context_or_invalid_context(values):
    _rebuild(values)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_json_value_gives_a_context_or_invalid_context(value):
    _rebuild(value)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({}, optional={
    "user_id": st.text(max_size=10), "project_id": st.text(max_size=10),
    "roles": st.lists(st.text(max_size=8), max_size=3),
    "is_admin": st.booleans(), "request_id": st.text(min_size=1,
                                                     max_size=40),
}))
def test_well_typed_fields_survive_a_round_trip(values):
    ctxt = _rebuild(values)
    assert ctxt is not None
    again = _rebuild(ctxt.to_dict())
    for name, value in values.items():
        assert getattr(again, name) == value
