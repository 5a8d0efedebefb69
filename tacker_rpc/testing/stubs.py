"""stub_service: answer a topic's calls and casts in this process."""

import functools
import logging
import threading
import types
import typing

import fixtures
import oslo_messaging

from tacker_rpc.testing import dispatch
from tacker_rpc.testing import sends

LOG = logging.getLogger(__name__)


class StubCall(typing.NamedTuple):
    """One message a stub received.

    ``kind`` is ``"call"`` or ``"cast"``; ``context`` and ``kwargs`` are
    what a server's method would have received (the context rebuilt as a
    ``tacker_rpc.context.RequestContext``, the arguments through JSON);
    ``exception`` is what the stub raised, None when it answered.
    """

    kind: str
    method: str
    context: typing.Any
    kwargs: dict
    exception: typing.Optional[BaseException]


class UnstubbedMethodError(AssertionError):
    """A stubbed topic received a method it has no stub for."""


class StubbedService(fixtures.Fixture):
    """What :func:`stub_service` returns; see there."""

    def __init__(self, topic, namespace, methods):
        super().__init__()
        if not isinstance(topic, str) or not topic:
            raise TypeError("stub_service needs a topic name, got %r"
                            % (topic,))
        if not methods:
            raise TypeError("stub_service(%r) needs at least one method=..."
                            % topic)
        self.topic = topic
        self.namespace = namespace
        self.methods = dict(methods)
        self.calls = []
        self._lock = threading.Lock()
        self._unstubbed = []
        self._exiting_with_error = False

    def _setUp(self):
        self.calls = []
        self._unstubbed = []
        self._exiting_with_error = False
        self.addCleanup(self._check_unstubbed)
        self.addCleanup(sends.intercept(self._handle))

    def __exit__(self, exc_type, exc, tb):
        self._exiting_with_error = exc_type is not None
        return super().__exit__(exc_type, exc, tb)

    def __call__(self, function):
        """Use as a decorator: the stub is active while ``function`` runs."""
        @functools.wraps(function)
        def with_stub(*args, **kwargs):
            with self:
                return function(*args, **kwargs)
        return with_stub

    def call_count(self, method):
        """How many calls and casts of ``method`` the stub received."""
        return sum(1 for call in self.calls if call.method == method)

    def assert_called_with(self, method, **kwargs):
        """Assert that the last call or cast of ``method`` had exactly
        these arguments.

        :raises AssertionError: naming what was received instead.
        """
        received = [call.kwargs for call in self.calls
                    if call.method == method]
        if not received:
            raise AssertionError(
                "%s was not called; calls received: %s"
                % (self._name(method),
                   [call.method for call in self.calls] or "none"))
        expected = dispatch.wire(kwargs)
        if received[-1] != expected:
            raise AssertionError("%s was last called with %r, not %r"
                                 % (self._name(method), received[-1],
                                    expected))

    def _name(self, method):
        if self.namespace:
            return "%s:%s.%s" % (self.topic, self.namespace, method)
        return "%s:%s" % (self.topic, method)

    def _handle(self, send, forward):
        if (send.target.topic != self.topic
                or send.message.get("namespace") != self.namespace):
            return forward(send)
        method = send.message.get("method")
        if method not in self.methods:
            error = UnstubbedMethodError(
                "%s was %s but has no stub; the stub of topic %r answers %s"
                % (self._name(method), "called" if send.kind == "call"
                   else "cast", self.topic, sorted(self.methods)))
            with self._lock:
                self._unstubbed.append(error)
            raise error
        endpoint = types.SimpleNamespace(target=oslo_messaging.Target(
            namespace=self.namespace, version=send.message.get("version")))
        setattr(endpoint, method, self._answer(send.kind, method))
        try:
            return dispatch.dispatch([endpoint], dispatch.wire(send.ctxt),
                                     dispatch.wire(send.message))
        except Exception as exc:
            if send.kind == "cast":
                LOG.info("stubbed cast %s raised %r", self._name(method), exc)
                return None
            if isinstance(exc, oslo_messaging.MessagingTimeout):
                raise  # no answer: the caller's own error, not a remote one
            raise dispatch.as_caller_receives(exc) from None

    def _answer(self, kind, method):
        stub = self.methods[method]

        def answer(context, **kwargs):
            exception = None
            try:
                if isinstance(stub, BaseException) or (
                        isinstance(stub, type)
                        and issubclass(stub, BaseException)):
                    raise stub
                if callable(stub):
                    return stub(context, **kwargs)
                return stub
            except BaseException as exc:
                exception = exc
                raise
            finally:
                with self._lock:
                    self.calls.append(StubCall(kind, method, context, kwargs,
                                               exception))
        return answer

    def _check_unstubbed(self):
        if self._unstubbed and not self._exiting_with_error:
            raise UnstubbedMethodError(
                "; ".join(str(error) for error in self._unstubbed))


def stub_service(topic, /, namespace=None, **methods):
    """Answer calls and casts to ``topic`` in this process, with no broker.

    Each keyword names a method and gives its stub: an exception (class or
    instance) to raise (``oslo_messaging.MessagingTimeout`` is raised as
    the transport raises it when no answer comes, so the caller's backoff
    learns from it), a callable taking ``(context, **kwargs)`` like a
    server method (its result is the answer), or any other value to return.
    Messages go through what production uses: the client's serializer,
    JSON, the server's dispatcher, and for an exception oslo.messaging's
    encoding, so a caller gets the class a real server's exception would
    arrive as (its own for ``tacker_rpc.exceptions``, builtins and modules
    added with ``rpc.add_extra_exmods``, ``RemoteError`` otherwise), and an
    argument that cannot be sent fails as it would in production. A stubbed
    cast runs before ``cast()`` returns; what it raises is logged, never
    seen by the caster, as with a real cast.

    Only messages to ``topic`` in ``namespace`` are answered, whichever
    server or fanout they are sent to; the rest go to the transport as
    usual. A message for a method with no stub raises
    :class:`UnstubbedMethodError` (an ``AssertionError``) naming the stubbed
    methods, in the caller and again when the stub ends, so a caller that
    swallows it still fails the test.

    The result is a ``fixtures.Fixture`` (``self.useFixture(...)``), a
    context manager and a decorator. It records what it received in
    ``.calls`` (:class:`StubCall`), ``.call_count(method)`` and
    ``.assert_called_with(method, **kwargs)``. Clients still need
    ``rpc.init`` (an :class:`RPCFixture`).
    """
    return StubbedService(topic, namespace, methods)
