"""A server's side of one RPC message, run in this process.

:func:`run_method` unit-tests an endpoint through the dispatcher every
toolkit server uses; stubs answer through the same :func:`dispatch`.
"""

import oslo_messaging
from oslo_messaging._drivers import common as om_common
from oslo_serialization import jsonutils

from tacker_rpc import context as rpc_context
from tacker_rpc import dispatcher
from tacker_rpc import messaging
from tacker_rpc import serializer as rpc_serializer


def wire(value):
    """``value`` as it comes out of the broker: through JSON as the
    oslo.messaging drivers encode it (tuples become lists, keys strings)."""
    return jsonutils.loads(jsonutils.dumps(value))


class _Incoming:
    """The part of an oslo.messaging incoming message that
    ``RPCDispatcher.dispatch`` reads: ``ctxt``, ``message`` and
    ``client_timeout`` (None: no call-monitor heartbeats). The unit test
    ``test_testing_hooks`` fails naming it when an upgrade reads more."""

    client_timeout = None

    def __init__(self, ctxt, message):
        self.ctxt = ctxt
        self.message = message


def dispatch(endpoints, ctxt, message):
    """Dispatch a received ``message`` with its ``ctxt`` (both decoded, as
    a server receives them) to ``endpoints``, as a toolkit server would.

    :returns: the result as the caller receives it.
    :raises: what the endpoint raised, as the server sees it (an
        ``ActionError`` too, not the ``ExpectedException`` the dispatcher
        wraps it in), or the dispatcher's own errors (``NoSuchMethod`` for
        an unknown or ``_private`` method, ``InvalidMessage``...).
    """
    server_dispatcher = dispatcher.make_dispatcher(
        endpoints, messaging.server_serializer_for(None))
    try:
        result = server_dispatcher.dispatch(_Incoming(ctxt, message))
    except oslo_messaging.ExpectedException as expected:
        raise expected.exc_info[1].with_traceback(
            expected.exc_info[2]) from None
    return wire(result)


def as_caller_receives(exc):
    """The exception a caller gets when a server endpoint raised ``exc``.

    oslo.messaging's drivers encode a server's exception with
    ``serialize_remote_exception`` and the caller rebuilds it with
    ``deserialize_remote_exception`` and the allowed modules (its own class
    for ``tacker_rpc.exceptions``, builtins and modules added with
    ``rpc.add_extra_exmods``; ``RemoteError`` otherwise). Both are
    internals of ``oslo_messaging._drivers.common``; the unit test
    ``test_testing_hooks`` fails naming them when an upgrade removes them.
    """
    data = om_common.serialize_remote_exception(
        (type(exc), exc, exc.__traceback__))
    return om_common.deserialize_remote_exception(
        data, messaging.get_allowed_exmods())


def run_method(manager, method, /, context=None, **kwargs):
    """Call ``manager.method(context, **kwargs)`` as a server would.

    The arguments and the context go through JSON and the toolkit's
    serializer, then the server's dispatcher and access policy, and the
    result comes back through JSON: an argument or a result that cannot be
    sent fails with ``SerializationError``, ``_private`` methods are refused
    with ``NoSuchMethod``, a tuple comes back as a list. The message is sent
    to the namespace and version of ``manager.target`` when it has one. No
    transport and no ``rpc.init`` are needed.

    :param context: the request context (default: a new
        ``tacker_rpc.context.RequestContext``); the method receives it as a
        server would, rebuilt from its dict.
    :returns: the result, as a caller would receive it.
    :raises: what the method raised, as the server sees it.
    """
    serializer = rpc_serializer.RequestContextSerializer()
    if context is None:
        context = rpc_context.RequestContext()
    for name, value in kwargs.items():
        rpc_serializer.check_sendable(value, "argument %s" % name)
    message = {"method": method, "args": kwargs}
    target = getattr(manager, "target", None)
    if target is not None:
        for field in ("namespace", "version"):
            if getattr(target, field) is not None:
                message[field] = getattr(target, field)
    return dispatch([manager], wire(serializer.serialize_context(context)),
                    wire(message))
