"""The status endpoint every Service answers, beside its manager.

A :class:`tacker_rpc.service.Service` serves, unless the option
``rpc_status_endpoint`` is off, a :class:`StatusEndpoint` in the RPC
namespace :data:`NAMESPACE`, so its methods never collide with the
manager's::

    client = rpc.get_client(oslo_messaging.Target(
        topic="conductor", namespace=status.NAMESPACE))
    client.call({}, "ping")      # {"host": ..., "in_flight": 0, ...}
    client.call({}, "describe")  # the manager's public methods

Managers need no code for it. Only ``ping`` and ``describe`` are callable
remotely: everything else here starts with ``_`` or is not an attribute of
the endpoint, and the server's access policy refuses such names.
``describe`` lists what that policy lets through
(:func:`tacker_rpc.dispatcher.callable_remotely`): no private method, no
lifecycle hook such as ``initialize_service_hook``.
"""

import inspect
import os
import threading
import time

import oslo_messaging

import tacker_rpc
from tacker_rpc import declaration
from tacker_rpc import dispatcher
from tacker_rpc import health
from tacker_rpc import implementation
from tacker_rpc import messaging

#: RPC namespace of the status endpoint.
NAMESPACE = "tacker_rpc.status"
#: Version of the status endpoint's interface.
VERSION = "1.0"
#: Method a server casts to the ``reply_topic`` given to ``ping``.
REPLY_METHOD = "status_reply"


class InFlightCounter:
    """How many requests a server is dispatching right now.

    Used as a context manager around each dispatch. A lock makes the count
    exact with any number of dispatching threads; uncontended, it costs
    well under a microsecond per request.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._count = 0

    def __enter__(self):
        with self._lock:
            self._count += 1

    def __exit__(self, *exc_info):
        with self._lock:
            self._count -= 1

    @property
    def value(self):
        return self._count


class _CountingDispatcher:
    """An RPC dispatcher that counts the requests it is dispatching."""

    def __init__(self, dispatcher, counter):
        self._dispatcher = dispatcher
        self._counter = counter

    def dispatch(self, incoming):
        with self._counter:
            return self._dispatcher.dispatch(incoming)

    def __getattr__(self, name):
        return getattr(self._dispatcher, name)


class StatusEndpoint:
    """Answers ``ping`` and ``describe`` for a Service.

    :param service: the :class:`tacker_rpc.service.Service` described; its
        ``host``, ``topic`` and ``manager`` are read at each request.
    """

    target = oslo_messaging.Target(namespace=NAMESPACE, version=VERSION)

    def __init__(self, service):
        self._service = service
        self._started = time.monotonic()
        self._in_flight = InFlightCounter()

    def ping(self, ctxt, reply_topic=None):
        """Who answers, since when, and how busy it is.

        Returns ``host``, ``topic``, ``pid`` (of the worker process
        serving), ``launcher_pid`` (of oslo.service's launcher, the process
        to signal to stop the service: a worker killed alone is replaced;
        None when the service was started in the process that built it),
        ``version`` (of tacker_rpc), ``uptime`` (seconds since the service
        started), ``in_flight`` (requests the server is dispatching besides
        this ping) and ``health``: the ``verdict`` and ``checks`` of the
        manager's health checks (:mod:`tacker_rpc.health`). When
        ``reply_topic`` is given, the same answer is also cast to that topic
        as ``status_reply(status=...)``: a client fanning out one ping learns
        every server of a topic that way.
        """
        status = {
            "host": self._service.host,
            "topic": self._service.topic,
            "pid": os.getpid(),
            "launcher_pid": getattr(self._service, "launcher_pid", None),
            "version": tacker_rpc.__version__,
            "uptime": round(time.monotonic() - self._started, 3),
            "in_flight": max(self._in_flight.value - 1, 0),
            "health": health.run_checks(self._service.manager),
        }
        if reply_topic:
            messaging.get_client(oslo_messaging.Target(
                topic=reply_topic)).cast({}, REPLY_METHOD, status=status)
        return status

    def describe(self, ctxt):
        """The manager's remotely callable methods.

        Returns ``host``, ``topic``, ``manager`` (its class path),
        ``namespace`` and ``version`` (of the manager's ``target``, None
        without one) and ``methods``: a list of ``name``, ``signature``
        (arguments after the request context) and ``doc`` (first docstring
        line, "" without one), sorted by name; ``apis``: each declared API
        the manager implements (:func:`tacker_rpc.declaration.describe`:
        its methods with kind, version, arguments, types and
        descriptions), an empty list for a plain manager; ``requests``:
        the long-running requests (:mod:`tacker_rpc.reqresp`) the
        service's components answer or send, each with ``kind``, ``role``
        (``answers`` or ``sends``), ``topic`` (the responder's),
        ``fields`` and ``response`` (their fields, as ``apis`` lists
        arguments).
        """
        manager = self._service.manager
        target = getattr(manager, "target", None)
        return {
            "host": self._service.host,
            "topic": self._service.topic,
            "manager": (None if manager is None else "%s.%s" % (
                type(manager).__module__, type(manager).__qualname__)),
            "namespace": getattr(target, "namespace", None),
            "version": getattr(target, "version", None),
            "methods": [] if manager is None else _public_methods(manager),
            "apis": [declaration.describe(api) for api
                     in implementation.implemented_apis(manager)],
            "requests": _long_running_requests(self._service),
        }


def _long_running_requests(service):
    requests = []
    for component in getattr(service, "components", ()):
        describe = getattr(component, "describe_requests", None)
        if callable(describe):
            requests.extend(describe())
    return requests


def _public_methods(manager):
    served = implementation.served_names(manager)
    methods = []
    for name, member in inspect.getmembers(manager, inspect.ismethod):
        if not dispatcher.callable_remotely(name, manager) or (
                served is not None and name not in served):
            continue
        doc = inspect.getdoc(member) or ""
        methods.append({"name": name, "signature": _arguments(member),
                        "doc": doc.splitlines()[0] if doc else ""})
    return methods


def _arguments(method):
    """The signature of a bound endpoint method without its context."""
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return "(...)"
    parameters = list(signature.parameters.values())[1:]
    return str(signature.replace(parameters=parameters))


def endpoint_for(service, connection):
    """A :class:`StatusEndpoint` for ``service``, or None when
    ``connection`` serves nothing (RPC disabled for the process) or the
    ``rpc_status_endpoint`` option of the configuration given to
    ``rpc.init`` is off."""
    if not hasattr(connection, "servers"):
        return None
    if not messaging.current_conf().rpc_status_endpoint:
        return None
    return StatusEndpoint(service)


def count_in_flight(endpoint, connection):
    """Make ``endpoint`` count the requests of every server of
    ``connection`` (a ``Connection`` whose consumers are created, not yet
    started)."""
    for server in getattr(connection, "servers", ()):
        server.dispatcher = _CountingDispatcher(server.dispatcher,
                                                endpoint._in_flight)
