"""Intercepting what RPC clients send, in this process.

:func:`intercept` puts a handler in front of every RPC message any client
of the process sends (calls and casts alike), after the client has built
and serialized it, exactly where it would leave for the transport. Stubs
answer messages for their topic there, and ``cast_as_call`` turns casts
into calls there.
"""

import threading
import typing

from oslo_messaging import transport as om_transport


class Send(typing.NamedTuple):
    """One message a client is sending.

    ``ctxt`` and ``message`` are as the client serialized them (a dict, and
    ``{"method", "args", "namespace"?, "version"?}``). ``kind`` is what the
    client asked for, ``"call"`` or ``"cast"``, whatever a handler changes
    ``wait_for_reply`` to.
    """

    transport: typing.Any
    target: typing.Any
    ctxt: dict
    message: dict
    kind: str
    wait_for_reply: bool
    timeout: typing.Optional[float]
    call_monitor_timeout: typing.Optional[float]
    retry: typing.Optional[int]
    transport_options: typing.Any


_lock = threading.Lock()
_handlers = []
_original_send = None


def intercept(handler):
    """Call ``handler(send, forward)`` for every RPC message sent.

    ``send`` is a :class:`Send`; ``forward(send)`` passes it (changed with
    ``send._replace(...)`` if need be) to the handlers installed before this
    one and finally to the transport. What the handler returns or raises is
    what the client's call gets. Handlers may be removed in any order.

    :returns: a function that removes the handler.
    """
    with _lock:
        if not _handlers:
            _install()
        _handlers.append(handler)

    def remove():
        with _lock:
            _handlers.remove(handler)
            if not _handlers:
                _uninstall()
    return remove


def _install():
    """Replace ``oslo_messaging.transport.Transport._send``.

    oslo.messaging's RPC client hands every serialized call and cast to its
    transport's ``_send`` method, an internal one: it is the one point
    where a message is complete and has not yet reached a driver. The unit
    test ``test_testing_hooks`` fails naming it when an upgrade changes it.
    """
    global _original_send
    _original_send = om_transport.Transport._send

    def _send(transport, target, ctxt, message, wait_for_reply=None,
              timeout=None, call_monitor_timeout=None, retry=None,
              transport_options=None):
        send = Send(transport, target, ctxt, message,
                    "call" if wait_for_reply else "cast",
                    bool(wait_for_reply), timeout, call_monitor_timeout, retry,
                    transport_options)
        with _lock:
            handlers = list(_handlers)
        return _chain(handlers, send)

    om_transport.Transport._send = _send


def _uninstall():
    om_transport.Transport._send = _original_send


def _chain(handlers, send):
    if not handlers:
        return _original_send(
            send.transport, send.target, send.ctxt, send.message,
            wait_for_reply=send.wait_for_reply, timeout=send.timeout,
            call_monitor_timeout=send.call_monitor_timeout, retry=send.retry,
            transport_options=send.transport_options)
    *earlier, handler = handlers
    return handler(send, lambda forwarded: _chain(earlier, forwarded))
