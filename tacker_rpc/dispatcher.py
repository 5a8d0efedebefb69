"""What a server accepts: the shape of an incoming RPC message.

oslo.messaging's dispatcher trusts the message it is given: a message
without a method name fails with ``TypeError: attribute name must be string``,
arguments that are not a mapping with ``AttributeError: 'str' object has no
attribute 'items'``. :class:`CheckingRPCDispatcher` checks the shape first
and raises :class:`~tacker_rpc.exceptions.InvalidMessage` naming the faulty
field, which the server logs and, for a call, sends back to the caller.

:class:`AccessPolicy` decides which endpoint methods a message may run:
none whose name starts with ``_`` (as oslo.messaging's default policy) and
none of :data:`NEVER_CALLABLE`, the lifecycle hooks a manager commonly has,
which the process calls itself.
"""

import reprlib

from oslo_messaging.rpc import dispatcher as om_dispatcher

from tacker_rpc import exceptions

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


def callable_remotely(name):
    """Whether an endpoint method called ``name`` may be run by a message:
    not private (``_`` first) and not a lifecycle hook
    (:data:`NEVER_CALLABLE`)."""
    return not name.startswith("_") and name not in NEVER_CALLABLE


class AccessPolicy(om_dispatcher.RPCAccessPolicyBase):
    """Refuses what :func:`callable_remotely` refuses; a refused method
    fails as an unknown one (``oslo_messaging.rpc.NoSuchMethod``)."""

    def is_allowed(self, endpoint, method):
        return callable_remotely(method)


class CheckingRPCDispatcher(om_dispatcher.RPCDispatcher):
    """oslo.messaging's RPC dispatcher, checking each message's shape
    (:func:`check_message`) before dispatching it."""

    def dispatch(self, incoming):
        check_message(incoming.message)
        return super().dispatch(incoming)
