"""The request context that travels with every RPC message."""

from oslo_context import context as oslo_context

from tacker_rpc import exceptions

# Keys older peers send, mapped to the keyword of RequestContext.__init__.
_LEGACY_KEYS = {
    "user": "user_id",
    "tenant": "project_id",
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
_FIELD_TYPES = dict.fromkeys(_STRING_FIELDS, str)
_FIELD_TYPES.update(dict.fromkeys(_BOOL_FIELDS, bool))
_FIELD_TYPES["roles"] = list


class RequestContext(oslo_context.RequestContext):
    """An ``oslo_context`` request context that survives the broker.

    :meth:`from_dict` accepts what any OpenStack peer sends: current keys
    (``user_id``, ``project_id``), legacy ones (``user``, ``tenant``,
    ``project``), unknown keys (ignored) and missing ids (a new
    ``request_id`` is generated).
    """

    @classmethod
    def from_dict(cls, values, **kwargs):
        """Build a context from a serialized one.

        :raises InvalidContext: when ``values`` is not a dict, or a known
            field has the wrong type (for example ``roles`` not a list of
            strings); the message names the field.
        """
        if not isinstance(values, dict):
            raise exceptions.InvalidContext(
                "a request context must be a dict, got %s"
                % type(values).__name__)
        fields = {}
        for legacy, current in _LEGACY_KEYS.items():
            value = values.get(legacy)
            if value is not None:
                fields[current] = value
        for name in _FIELDS:
            value = values.get(name)
            if value is not None:
                fields[name] = value
        fields.update(kwargs)
        _check_types(fields)
        return cls(**fields)


def _check_types(fields):
    # Every message received goes through here: one pass over the fields
    # present rather than one lookup per known field.
    for name, value in fields.items():
        kind = _FIELD_TYPES.get(name)
        if kind is None or value is None:
            continue
        if kind is list:
            if not (isinstance(value, list)
                    and all(isinstance(role, str) for role in value)):
                raise exceptions.InvalidContext(
                    "request context field 'roles' must be a list of "
                    "strings, got %r" % (value,))
        elif not isinstance(value, kind):
            raise exceptions.InvalidContext(
                "request context field %r must be %s, got %s"
                % (name, "a string" if kind is str else "true or false",
                   type(value).__name__))


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
