"""The request context that travels with every RPC message."""

from oslo_context import context as oslo_context

from tacker_rpc import exceptions

# Keys older peers send, mapped to the keyword of RequestContext.__init__;
# the current key wins when both are sent.
_LEGACY_KEYS = {
    "user": "user_id",
    "tenant": "project_id",
    "tenant_id": "project_id",
    "tenant_name": "project_name",
    "project": "project_id",
    "domain": "domain_id",
    "user_domain": "user_domain_id",
    "project_domain": "project_domain_id",
}

_STRING_FIELDS = (
    "auth_token", "user_id", "project_id", "domain_id", "user_domain_id",
    "project_domain_id", "request_id", "global_request_id", "resource_uuid",
    "user_name", "project_name", "domain_name", "user_domain_name",
    "project_domain_name", "system_scope",
)
_BOOL_FIELDS = ("is_admin", "read_only", "show_deleted", "is_admin_project")
_FIELDS = _STRING_FIELDS + _BOOL_FIELDS + ("roles",)
# What each field may hold, and how an error says it. oslo.context takes
# anything; refused is only what breaks a server: a container as an id
# (it would be logged and compared as one), a string as a flag ("false" is
# true), roles that are not strings (oslo.policy lower-cases each role).
_FIELD_TYPES = dict.fromkeys(
    _STRING_FIELDS, ((str, int, float, bool), "a string or a number"))
_FIELD_TYPES.update(dict.fromkeys(_BOOL_FIELDS, (bool, "true or false")))
_FIELD_TYPES["roles"] = ((list, tuple), "a list of strings")


class RequestContext(oslo_context.RequestContext):
    """An ``oslo_context`` request context that survives the broker.

    :meth:`from_dict` accepts what any OpenStack peer sends: current keys
    (``user_id``, ``project_id``), legacy ones (``user``, ``tenant``,
    ``tenant_id``, ``tenant_name``, ``project``: older neutron and tacker
    senders), unknown keys (ignored) and missing ids (a new
    ``request_id`` is generated). Like oslo.context it keeps an id or name
    that is a number (``user_id=42``) as it came.
    """

    @classmethod
    def from_dict(cls, values, **kwargs):
        """Build a context from a serialized one.

        :raises InvalidContext: when ``values`` is not a dict, or a field
            holds what would break the server, naming the key as sent: an
            id, name or token that is not a string or number, a flag
            (``is_admin``...) that is not true or false (the string
            ``"false"`` would count as true), ``roles`` that is not a list
            of strings (oslo.policy lower-cases each role).
        """
        require_dict(values)
        fields = {}
        sent_as = {}
        for legacy, current in _LEGACY_KEYS.items():
            value = values.get(legacy)
            if value is not None:
                fields[current] = value
                sent_as[current] = legacy
        for name in _FIELDS:
            value = values.get(name)
            if value is not None:
                fields[name] = value
                sent_as[name] = name
        fields.update(kwargs)
        sent_as.update((name, name) for name in kwargs)
        _check_types(fields, sent_as)
        return cls(**fields)


def require_dict(values):
    """Raise :class:`InvalidContext` naming the type of ``values`` unless
    it is a dict, the only shape a serialized context has."""
    if not isinstance(values, dict):
        raise exceptions.InvalidContext(
            "a request context must be a dict, got %s"
            % type(values).__name__)


def _check_types(fields, sent_as):
    # Every message received goes through here: one pass over the fields
    # present rather than one lookup per known field.
    for name, value in fields.items():
        kind = _FIELD_TYPES.get(name)
        if kind is None or value is None:
            continue
        types, expected = kind
        if isinstance(value, types) and (name != "roles" or all(
                isinstance(role, str) for role in value)):
            continue
        raise exceptions.InvalidContext(
            "request context field %r must be %s, got %s"
            % (sent_as.get(name, name), expected,
               type(value).__name__ if name != "roles" else repr(value)))


def to_dict(ctxt):
    """Serialize ``ctxt``: anything with ``to_dict()``, or a plain dict.

    :raises InvalidContext: for anything else, naming its type.
    """
    if isinstance(ctxt, dict):
        return ctxt
    to_dict_method = getattr(ctxt, "to_dict", None)
    if to_dict_method is None:
        raise exceptions.InvalidContext(
            "a request context must be a dict or have to_dict(), got %s"
            % type(ctxt).__name__)
    return to_dict_method()
