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
            if values.get(legacy) is not None:
                fields[current] = values[legacy]
        for name in _STRING_FIELDS + _BOOL_FIELDS + ("roles",):
            if values.get(name) is not None:
                fields[name] = values[name]
        fields.update(kwargs)
        _check_types(fields)
        return cls(**fields)


def _check_types(fields):
    for name in _STRING_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            raise exceptions.InvalidContext(
                "request context field %r must be a string, got %s"
                % (name, type(value).__name__))
    for name in _BOOL_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, bool):
            raise exceptions.InvalidContext(
                "request context field %r must be true or false, got %s"
                % (name, type(value).__name__))
    roles = fields.get("roles")
    if roles is not None and not (
            isinstance(roles, list)
            and all(isinstance(role, str) for role in roles)):
        raise exceptions.InvalidContext(
            "request context field 'roles' must be a list of strings, got %r"
            % (roles,))


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
