"""Exceptions of tacker_rpc.

This module is always in the list of modules whose exceptions are rebuilt
as their own class on the caller (see ``rpc.get_allowed_exmods``), so a
server endpoint may raise any of these and the caller catches the same
class.

:class:`ActionError` carries structured :class:`Error` objects (code,
message, field, details) from a server that refuses a request to its caller.
"""

import dataclasses
import json
import typing

import oslo_messaging


class TackerRpcError(Exception):
    """Base class of every error raised by tacker_rpc."""


class NotInitializedError(TackerRpcError, RuntimeError):
    """An operation needs ``rpc.init(conf)`` first."""


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


class InvalidDeclaration(TackerRpcError, TypeError):
    """A declared RPC API, method or field cannot be used as written."""


class ImplementationMismatch(TackerRpcError, TypeError):
    """A manager does not implement the API it declares it implements."""


@dataclasses.dataclass(frozen=True)
class Error:
    """One thing wrong with a request, as a server tells its caller.

    :param code: a short machine-readable code, e.g. ``"VNF_NOT_FOUND"``.
    :param message: what a person should read.
    :param field: the argument at fault, e.g. ``"vnf_id"`` or
        ``"spec.flavour"``; None when the request as a whole is refused.
    :param details: anything JSON can carry that helps the caller. It is
        kept in its JSON form (tuples become lists, keys strings), so what
        the caller receives compares equal to what the server raised.
    :raises TypeError: when ``code``, ``message`` or ``field`` is not a
        string, or ``details`` cannot be sent as JSON; the message names
        the argument.
    """

    code: str
    message: str
    field: typing.Optional[str] = None
    details: typing.Any = None

    def __post_init__(self):
        for name in ("code", "message", "field"):
            value = getattr(self, name)
            if not isinstance(value, str) and not (
                    name == "field" and value is None):
                raise TypeError("Error %s must be a string, got %s"
                                % (name, type(value).__name__))
        if not self.code:
            raise TypeError("Error code must not be empty")
        if self.details is not None:
            try:
                text = json.dumps(self.details)
            except (TypeError, ValueError) as exc:
                raise TypeError("Error %r: details cannot be sent as JSON: %s"
                                % (self.code, exc)) from None
            object.__setattr__(self, "details", json.loads(text))

    def __str__(self):
        where = " (field %s)" % self.field if self.field else ""
        return "%s%s: %s" % (self.code, where, self.message)

    def to_dict(self):
        """The JSON form: ``{"code", "message", "field", "details"}``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """An Error from :meth:`to_dict`'s form.

        :raises TypeError: when ``values`` is not a dict with a ``code`` and
            a ``message`` and no other keys than the four of the form.
        """
        if not isinstance(values, dict):
            raise TypeError("an Error must be an Error or a dict, got %s"
                            % type(values).__name__)
        unknown = sorted(set(values) - set(_ERROR_FIELDS))
        if unknown or "code" not in values or "message" not in values:
            raise TypeError("an Error dict has the keys code, message and "
                            "optionally field and details; got %s"
                            % sorted(values))
        return cls(**values)


_ERROR_FIELDS = tuple(field.name for field in dataclasses.fields(Error))


class ActionError(Exception):
    """A server refuses a request: a caller's error, with structure.

    Raise it from an endpoint with one :class:`Error` or a list of them
    (their dict forms are accepted too). What a caller may rely on:

    * It arrives on the caller as ``ActionError`` (a subclass defined in a
      module allowed by ``rpc.add_extra_exmods`` arrives as itself), with
      :attr:`errors` equal, field by field, to what the server raised.
      A subclass that overrides ``__init__`` must accept ``errors`` as its
      first argument: the caller rebuilds it as ``cls(errors)``.
    * It is the caller's error, not the server's: the server logs it as one
      INFO line naming the method and the codes, without a traceback, and
      it never grows the caller's backoff timeout.

    :raises TypeError: when ``errors`` is not an Error, a dict form of one,
        or a list of those.
    :raises ValueError: when ``errors`` is an empty list.
    """

    def __init__(self, errors):
        if isinstance(errors, (Error, dict)):
            errors = [errors]
        if not isinstance(errors, (list, tuple)):
            raise TypeError("ActionError takes an Error or a list of Error, "
                            "got %s" % type(errors).__name__)
        if not errors:
            raise ValueError("ActionError needs at least one Error")
        self.errors = [error if isinstance(error, Error)
                       else Error.from_dict(error) for error in errors]
        # oslo.messaging sends exc.args and rebuilds the exception on the
        # caller as cls(*args): the errors travel in their JSON form.
        super().__init__([error.to_dict() for error in self.errors])

    def __str__(self):
        return "; ".join(str(error) for error in self.errors)


class InvalidArguments(ActionError, TackerRpcError, TypeError):
    """Arguments that do not match what a declared method takes.

    Raised by a declared client before anything is sent, and by a declared
    server, which refuses the request without calling the method. It is an
    :class:`ActionError` with one :class:`Error` of code
    :data:`INVALID_ARGUMENT_CODE` whose ``field`` names the argument at
    fault; :attr:`field` and :attr:`method` are there too, on the caller as
    on the server.
    """

    def __init__(self, message_or_errors, field=None, method=None):
        if isinstance(message_or_errors, str):
            message_or_errors = Error(INVALID_ARGUMENT_CODE,
                                      message_or_errors, field=field)
        super().__init__(message_or_errors)
        self.field = self.errors[0].field
        self.method = method
        self.kwargs = {"method": method}

    def __str__(self):
        return "; ".join(error.message for error in self.errors)


#: The :class:`Error` code of :class:`InvalidArguments`.
INVALID_ARGUMENT_CODE = "INVALID_ARGUMENT"


class NoConsumer(TackerRpcError, oslo_messaging.MessagingTimeout,
                 oslo_messaging.MessageUndeliverable):
    """A call reached no queue: no server consumes its topic.

    Raised at once by the ``lean-rabbit`` driver (the broker returned the
    mandatory request) when ``[oslo_messaging_rabbit]
    lean_rabbit_fail_fast_no_consumer`` is on, instead of the
    ``MessagingTimeout`` after the whole timeout that oslo.messaging
    raises; it is a ``MessagingTimeout`` too, so code written for
    oslo.messaging catches it. The backoff does not grow: it tells
    nothing of how long the method takes.
    """

    def __init__(self, exchange, routing_key, reason):
        oslo_messaging.MessageUndeliverable.__init__(
            self, reason, exchange, routing_key, None)
        self.args = ("no queue is bound to routing key %r on exchange %r "
                     "(%s): no server consumes this topic"
                     % (routing_key, exchange, reason),)

    def __str__(self):
        return self.args[0]


class RequestFailed(TackerRpcError):
    """A long-running request was failed by its responder, or expired.

    ``request_id`` names the request, ``error`` says why.
    """

    def __init__(self, message, request_id=None, error=None):
        super().__init__(message)
        self.request_id = request_id
        self.error = error


class RequestTimeout(TackerRpcError, TimeoutError):
    """No response to a long-running request within the time waited.

    The request stays pending: its response may still come.
    """


class StoreError(TackerRpcError, RuntimeError):
    """The request store cannot be used, for example its schema is newer
    than this version of tacker_rpc knows."""
