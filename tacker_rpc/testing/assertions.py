"""Assertions on what a server sent back."""

from tacker_rpc import exceptions

_UNSET = object()


def assert_action_error(exc, code=_UNSET, field=_UNSET, message=_UNSET):
    """Assert that ``exc`` is an ``ActionError`` (as raised, or as a caller
    received it) with an Error matching every criterion given.

    ``field=None`` asks for an Error about the request as a whole.

    :returns: the first matching :class:`~tacker_rpc.exceptions.Error`.
    :raises AssertionError: naming the errors ``exc`` has instead.
    """
    if not isinstance(exc, exceptions.ActionError):
        raise AssertionError("expected an ActionError, got %s: %s"
                             % (type(exc).__name__, exc))
    wanted = {name: value for name, value in (
        ("code", code), ("field", field), ("message", message))
        if value is not _UNSET}
    for error in exc.errors:
        if all(getattr(error, name) == value
               for name, value in wanted.items()):
            return error
    raise AssertionError("no Error with %s in the ActionError; it has: %s"
                         % (", ".join("%s=%r" % item
                                      for item in sorted(wanted.items())),
                            [error.to_dict() for error in exc.errors]))
