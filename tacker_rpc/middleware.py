"""Middleware: code that sees every RPC request a process sends or handles.

A middleware is an object with two hooks, ``before(request)`` and
``after(request)`` (subclass :class:`Middleware` to get both as no-ops).
Client middleware sees every ``call`` and ``cast`` a
:class:`~tacker_rpc.client.BackingOffClient` makes; server middleware sees
every request a server made by :func:`tacker_rpc.rpc.get_server` (so every
:class:`~tacker_rpc.service.Service`) dispatches to an endpoint. What a
middleware may rely on:

* ``request`` is a :class:`Request`: ``side`` (``"client"`` or
  ``"server"``), ``call_type`` (``"call"`` or ``"cast"`` on the client,
  None on the server), ``context``, ``target`` (an
  ``oslo_messaging.Target``: on the server the server's topic, server and
  exchange with the endpoint's namespace and version), ``method``,
  ``args`` (a dict of keyword arguments; deserialized on the server),
  ``endpoint`` (the server's endpoint object, None on the client), then
  after the request ``result`` or ``exception`` and ``duration`` (seconds,
  monotonic clock). A middleware may keep its own notes on the request as
  attributes between its two hooks.
* Middleware are composed in order: the ``before`` hooks run in the order
  installed, the ``after`` hooks in reverse, as nested wrappers would.
  The process's middleware come first, then the client's or server's own.
* ``before`` may replace ``request.context`` or ``request.args``: what is
  left there is what is sent (client) or dispatched (server). Nothing else
  a middleware does changes the request: a hook that raises is logged with
  its traceback and the request goes on as if it had not been there; the
  caller gets the result or exception it would have had.
* Hooks run in the thread of the call (client) or of the handler (server);
  on the server the request context is the current one
  (:mod:`tacker_rpc.correlation`), so their log lines carry its ids.
* With no middleware installed, a call pays one test when the client
  prepares it (``benchmarks.overhead``).

Installing: for the whole process with :func:`tacker_rpc.rpc.init`'s
``client_middleware`` and ``server_middleware`` arguments or the options
``rpc_client_middleware`` and ``rpc_server_middleware`` (names of entry
points in the :data:`ENTRY_POINTS` group, or ``module:callable``; each is
called with the configuration and returns a middleware), and per client or
server with the ``middleware`` argument of ``rpc.get_client``,
``rpc.get_server`` and ``rpc.Service``. A client or server uses the
process's middleware installed when it was built. The built-ins are
``logging`` (:class:`tacker_rpc.request_log.LoggingMiddleware`) and
``metrics`` (:class:`tacker_rpc.metrics.MetricsMiddleware`).
"""

import importlib
from importlib import metadata
import logging
import time

from tacker_rpc import exceptions

LOG = logging.getLogger(__name__)

#: Entry point group of the middleware that options may name.
ENTRY_POINTS = "tacker_rpc.middleware"

CLIENT, SERVER = "client", "server"

_process = {CLIENT: (), SERVER: ()}
_REMOTE = "_Remote"


class Middleware:
    """Base class of middleware: both hooks do nothing."""

    def before(self, request):
        """Called before the request is sent (client) or dispatched
        (server)."""

    def after(self, request):
        """Called after it, with ``result`` or ``exception`` and
        ``duration`` set."""


class Request:
    """One request as middleware see it (see the module's docstring)."""

    def __init__(self, side, call_type, context, target, method, args,
                 endpoint=None):
        self.side = side
        self.call_type = call_type
        self.context = context
        self.target = target
        self.method = method
        self.args = args
        self.endpoint = endpoint
        self.result = None
        self.exception = None
        self.duration = None

    @property
    def exception_name(self):
        """The class name of ``exception`` (None without one), without the
        ``_Remote`` suffix oslo.messaging gives the class of an exception
        rebuilt from a server's."""
        if self.exception is None:
            return None
        name = type(self.exception).__name__
        return name[:-len(_REMOTE)] if name.endswith(_REMOTE) else name

    def __repr__(self):
        return "<%s %s %s %s>" % (self.side, self.call_type or "request",
                                  self.method, self.target)


def run(chain, request, proceed):
    """Run ``proceed(request)`` inside the hooks of ``chain``; return its
    result or raise its exception."""
    for middleware in chain:
        _hook(middleware, "before", request)
    started = time.monotonic()
    try:
        request.result = proceed(request)
        return request.result
    except BaseException as exc:
        request.exception = exc
        raise
    finally:
        request.duration = time.monotonic() - started
        for middleware in reversed(chain):
            _hook(middleware, "after", request)


def _hook(middleware, name, request):
    try:
        getattr(middleware, name)(request)
    except Exception:
        LOG.exception("%s middleware %r failed in %s() of %r; the request "
                      "goes on without it", request.side, middleware, name,
                      request)


def configure(conf, client=None, server=None):
    """Set the process's middleware: ``client`` and ``server`` (lists of
    middleware objects) when given, else those the options
    ``rpc_client_middleware`` and ``rpc_server_middleware`` of ``conf``
    name.

    :raises InvalidConfiguration: naming the option and the entry that
        cannot be loaded.
    """
    chains = {}
    for side, given in ((CLIENT, client), (SERVER, server)):
        option = "rpc_%s_middleware" % side
        if given is None:
            given = [load(name, conf, option) for name in conf[option]]
        chains[side] = _checked(given, "%s_middleware" % side)
    _process.update(chains)


def append(side, item):
    """Add ``item`` at the end of the process's middleware of ``side``."""
    _process[side] = _process[side] + _checked([item], "middleware")


def reset():
    """Forget the process's middleware."""
    _process.update({CLIENT: (), SERVER: ()})


def saved():
    """The process's middleware, for :func:`restore`."""
    return dict(_process)


def restore(saved_middleware):
    """Put back what :func:`saved` returned; None means none."""
    if saved_middleware is None:
        reset()
    else:
        _process.update(saved_middleware)


def chain(side, own=None):
    """The middleware a new client or server of ``side`` uses: the
    process's, then ``own`` (a list; checked)."""
    if not own:
        return _process[side]
    return _process[side] + _checked(own, "middleware")


def installed(side):
    """The process's middleware of ``side``, a tuple."""
    return _process[side]


def _checked(items, argument):
    items = tuple(items)
    for item in items:
        if not (callable(getattr(item, "before", None))
                and callable(getattr(item, "after", None))):
            raise TypeError("%s must hold middleware (objects with before() "
                            "and after()), got %r" % (argument, item))
    return items


def load(name, conf, option="middleware"):
    """The middleware ``name`` designates, built with ``conf``.

    ``name`` is an entry point of the :data:`ENTRY_POINTS` group (for
    example ``logging``) or ``module:callable``; the callable is given
    ``conf``.

    :raises InvalidConfiguration: naming ``option`` when ``name`` cannot be
        loaded.
    """
    try:
        if ":" in name:
            module_name, _, attribute = name.partition(":")
            factory = getattr(importlib.import_module(module_name),
                              attribute)
        else:
            found = metadata.entry_points(group=ENTRY_POINTS, name=name)
            if not found:
                known = sorted(ep.name for ep in metadata.entry_points(
                    group=ENTRY_POINTS))
                raise LookupError("no entry point %r in group %s (known: %s)"
                                  % (name, ENTRY_POINTS, ", ".join(known)))
            factory = next(iter(found)).load()
        return factory(conf)
    except Exception as exc:
        raise exceptions.InvalidConfiguration(
            "%s: cannot load middleware %r: %s: %s"
            % (option, name, type(exc).__name__, exc)) from exc
