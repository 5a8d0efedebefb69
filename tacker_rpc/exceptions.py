"""Exceptions of tacker_rpc.

This module is always in the list of modules whose exceptions are rebuilt
as their own class on the caller (see ``rpc.get_allowed_exmods``), so a
server endpoint may raise any of these and the caller catches the same
class.
"""


class TackerRpcError(Exception):
    """Base class of every error raised by tacker_rpc."""


class NotInitializedError(TackerRpcError, RuntimeError):
    """An operation needs ``rpc.init(conf)`` first."""


class AlreadyInitializedError(TackerRpcError, RuntimeError):
    """``rpc.init`` was called again without ``rpc.cleanup()`` between."""


class InvalidTransportURL(TackerRpcError, ValueError):
    """The configured transport URL is malformed or names no known driver."""


class InvalidConfiguration(TackerRpcError, ValueError):
    """An option names something unusable, for example a missing file."""


class InvalidContext(TackerRpcError, ValueError):
    """A request context cannot be serialized or rebuilt."""


class SerializationError(TackerRpcError, TypeError):
    """An RPC argument or result cannot be sent as JSON."""


class InvalidMessage(TackerRpcError, ValueError):
    """An incoming RPC message does not have the shape of one."""


class InvalidArguments(TackerRpcError, TypeError):
    """Arguments that do not match what a declared method takes.

    Raised by a declared client before anything is sent, and by a declared
    server, which refuses the request without calling the method. ``field``
    names the argument at fault and ``method`` the method; both travel to
    the caller with the exception (oslo.messaging sends ``kwargs``).
    """

    def __init__(self, message, field=None, method=None):
        super().__init__(message)
        self.field = field
        self.method = method
        self.kwargs = {"field": field, "method": method}


class InvalidDeclaration(TackerRpcError, TypeError):
    """A declared RPC API, method or field cannot be used as written."""


class ImplementationMismatch(TackerRpcError, TypeError):
    """A manager does not implement the API it declares it implements."""
