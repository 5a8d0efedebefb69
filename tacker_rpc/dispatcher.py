"""What a server accepts: the shape of an incoming RPC message.

oslo.messaging's dispatcher trusts the message it is given: a message
without a method name fails with ``TypeError: attribute name must be string``,
arguments that are not a mapping with ``AttributeError: 'str' object has no
attribute 'items'``. :class:`CheckingRPCDispatcher` checks the shape first
and raises :class:`~tacker_rpc.exceptions.InvalidMessage` naming the faulty
field, which the server logs and, for a call, sends back to the caller.

An :class:`~tacker_rpc.exceptions.ActionError` an endpoint raises is the
caller's error: it is logged as one INFO line, not as an error with its
traceback, and still sent back to the caller.

:class:`AccessPolicy` decides which endpoint methods a message may run:
none whose name starts with ``_`` (as oslo.messaging's default policy) and
none of :data:`NEVER_CALLABLE`, the lifecycle hooks a manager commonly has,
which the process calls itself.
"""

import logging
import reprlib

import oslo_messaging
from oslo_messaging.rpc import dispatcher as om_dispatcher
from oslo_service import service as oslo_service

from tacker_rpc import correlation
from tacker_rpc import exceptions
from tacker_rpc import health
from tacker_rpc import implementation
from tacker_rpc import middleware as rpc_middleware

LOG = logging.getLogger(__name__)

# Bounded reprs: a poison message may be megabytes long.
_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60


def check_message(message):
    """Raise :class:`InvalidMessage` unless ``message`` (a decoded RPC
    message) has a method name, keyword arguments as a dict, and a
    namespace and version that are strings or absent."""
    method = message.get("method")
    if not isinstance(method, str) or not method:
        raise exceptions.InvalidMessage(
            "RPC message has no method name: 'method' is %s"
            % _short.repr(method))
    args = message.get("args", {})
    if not isinstance(args, dict):
        raise exceptions.InvalidMessage(
            "RPC message for method %s: 'args' must be a dict of keyword "
            "arguments, got %s %s"
            % (_short.repr(method), type(args).__name__, _short.repr(args)))
    for field in ("namespace", "version"):
        value = message.get(field)
        if value is not None and not isinstance(value, str):
            raise exceptions.InvalidMessage(
                "RPC message for method %s: %r must be a string, got %s"
                % (_short.repr(method), field, _short.repr(value)))


#: Manager methods the process calls itself (oslo.service's, nova's,
#: neutron's and tacker's lifecycle hooks), never callable remotely.
NEVER_CALLABLE = frozenset((
    "initialize_service_hook", "init_host", "cleanup_host",
    "pre_start_hook", "post_start_hook", "after_start", "periodic_tasks",
    "run_periodic_tasks",
))


#: What an oslo.service Service has (start, stop, wait, reset...), and
#: what :class:`tacker_rpc.service.Service` adds (``add_component``):
#: never callable on an endpoint that is a Service, as a
#: :class:`tacker_rpc.service.Service` built without a manager is.
SERVICE_METHODS = frozenset(
    name for name in dir(oslo_service.Service)
    if not name.startswith("_")) | {"add_component"}


def callable_remotely(name, endpoint=None):
    """Whether the method ``name`` of ``endpoint`` may be run by a
    message: not private (``_`` first), not a lifecycle hook
    (:data:`NEVER_CALLABLE`), not a health check
    (:func:`tacker_rpc.health.check`) and, when ``endpoint`` is an
    oslo.service Service, not one of :data:`SERVICE_METHODS`."""
    if name.startswith("_") or name in NEVER_CALLABLE:
        return False
    if name in SERVICE_METHODS and isinstance(endpoint,
                                              oslo_service.ServiceBase):
        return False
    # Health checks are run by the status endpoint's ping, not by callers.
    return not health.is_check(getattr(endpoint, name, None))


class AccessPolicy(om_dispatcher.RPCAccessPolicyBase):
    """Refuses what :func:`callable_remotely` refuses; a refused method
    fails as an unknown one (``oslo_messaging.rpc.NoSuchMethod``)."""

    def is_allowed(self, endpoint, method):
        return callable_remotely(method, endpoint)


class CheckingRPCDispatcher(om_dispatcher.RPCDispatcher):
    """oslo.messaging's RPC dispatcher, checking each message's shape
    (:func:`check_message`) before dispatching it, passing an
    ``ActionError`` to the caller as an expected exception, and handling
    each request with its context current (:mod:`tacker_rpc.correlation`)
    and inside ``middleware`` (a tuple, see :mod:`tacker_rpc.middleware`)
    for the server of ``target``."""

    def __init__(self, endpoints, serializer, access_policy=None, *,
                 middleware=(), target=None):
        super().__init__(endpoints, serializer, access_policy)
        self.middleware = middleware
        self.server_target = target or oslo_messaging.Target()

    def dispatch(self, incoming):
        check_message(incoming.message)
        try:
            return super().dispatch(incoming)
        except exceptions.ActionError as exc:
            LOG.info("RPC method %s refused the request with %s: %s",
                     incoming.message["method"], type(exc).__name__, exc)
            # oslo.messaging's server replies with the wrapped exception and
            # logs ExpectedException at DEBUG instead of with a traceback.
            raise oslo_messaging.ExpectedException()

    def _do_dispatch(self, endpoint, method, ctxt, args):
        """Deserialize, run and serialize one request, as oslo.messaging's
        does, with the request's context current and inside the middleware.

        oslo.messaging's ``RPCDispatcher.dispatch`` calls this once it has
        chosen the endpoint: the one place where the endpoint, the method
        and the deserialized context are all known.
        tests/unit/test_private_hooks.py fails naming it if an upgrade
        removes or reshapes it.
        """
        with correlation.handling(self.serializer.deserialize_context,
                                  ctxt) as ctxt:
            if not self.middleware:
                return self._call(endpoint, method, ctxt,
                                  self._deserialized(ctxt, args))
            endpoint_target = getattr(endpoint, "target", None)
            request = rpc_middleware.Request(
                rpc_middleware.SERVER, None, ctxt, self.server_target(
                    namespace=getattr(endpoint_target, "namespace", None),
                    version=getattr(endpoint_target, "version", None)),
                method, self._deserialized(ctxt, args), endpoint=endpoint)
            return rpc_middleware.run(
                self.middleware, request,
                lambda r: self._call(endpoint, r.method, r.context, r.args))

    def _deserialized(self, ctxt, args):
        return {name: self.serializer.deserialize_entity(ctxt, value)
                for name, value in args.items()}

    def _call(self, endpoint, method, ctxt, args):
        result = getattr(endpoint, method)(ctxt, **args)
        return self.serializer.serialize_entity(ctxt, result)


def make_dispatcher(endpoints, serializer, middleware=(), target=None):
    """The dispatcher of every server of the toolkit: a
    :class:`CheckingRPCDispatcher` over ``endpoints`` (a manager that
    implements declared APIs replaced by its checking endpoints, see
    :mod:`tacker_rpc.implementation`), with entities and contexts through
    ``serializer`` (a :class:`~tacker_rpc.serializer.RequestContextSerializer`)
    and the :class:`AccessPolicy`, for the server of ``target`` with its
    ``middleware``."""
    return CheckingRPCDispatcher(
        implementation.serving_endpoints(endpoints), serializer,
        AccessPolicy, middleware=middleware, target=target)
