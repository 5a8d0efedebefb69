"""Subclasses of ActionError a unit test allows with add_extra_exmods."""

from tacker_rpc import exceptions


class QuotaExceeded(exceptions.ActionError):
    """Rebuilt as itself on the caller once this module is allowed."""
