"""Exceptions a test allows with rpc.add_extra_exmods, apart from
tacker_rpc.exceptions and from managers.NotAllowedError's module."""

from tacker_rpc import exceptions


class VnfNotFound(Exception):
    """Raised remotely; rebuilt as itself once this module is allowed."""


class VnfRefused(exceptions.ActionError):
    """An ActionError subclass; rebuilt as itself once this module is
    allowed."""
