"""Process-wide messaging state: transports, notifier and factories.

:mod:`tacker_rpc.rpc` re-exports these functions; services use them from
there.
"""

import logging
import os
import sys
import typing

from oslo_config import cfg
import oslo_messaging
from oslo_messaging.rpc import dispatcher as om_dispatcher

from tacker_rpc import backoff
from tacker_rpc import client
from tacker_rpc import compat
from tacker_rpc import dispatcher
from tacker_rpc import exceptions
from tacker_rpc import executor
from tacker_rpc import metrics
from tacker_rpc import middleware as rpc_middleware
from tacker_rpc import opts
from tacker_rpc import redact
from tacker_rpc import stopping
from tacker_rpc.serializer import RequestContextSerializer

LOG = logging.getLogger(__name__)

_DEFAULT_EXMODS = [exceptions.__name__]
_extra_exmods = []

#: What ``tacker_rpc.rpc.TRANSPORT``, ``NOTIFICATION_TRANSPORT`` and
#: ``NOTIFIER`` are: made by :func:`init`, or assigned (a test's mock), and
#: what every factory here uses. A name deleted (``mock.patch``'s exit
#: deletes before it assigns back) is absent until assigned again.
STATE_NAMES = ("TRANSPORT", "NOTIFICATION_TRANSPORT", "NOTIFIER")
published = dict.fromkeys(STATE_NAMES)

_conf = None
_context_class = None
# What init was given: the servers' default entity serializer and the
# service's own exception modules (kept by clear_extra_exmods).
_serializer = None
_service_exmods = []
# Transports a later init replaced; cleanup() closes them.
_superseded = []


def add_extra_exmods(*args):
    """Allow exceptions of the modules named in ``args`` to be rebuilt as
    their own class on the caller. Takes effect at the next :func:`init`."""
    _extra_exmods.extend(args)


def clear_extra_exmods():
    """Forget every module added by :func:`add_extra_exmods`; those given
    to :func:`init` as ``allowed_exmods`` stay."""
    del _extra_exmods[:]


def get_allowed_exmods():
    """The modules whose remote exceptions are rebuilt as their own class:
    ``tacker_rpc.exceptions`` first, then the ``allowed_exmods`` given to
    :func:`init` (until :func:`cleanup`), then the extras in the order
    added. Exceptions of any other module reach the caller as
    ``RemoteError``."""
    return _DEFAULT_EXMODS + _service_exmods + _extra_exmods


def init(conf, context_class=None, *, serializer=None, allowed_exmods=(),
         client_middleware=None, server_middleware=None):
    """Create the RPC transport, the notification transport and a notifier.

    ``conf`` may be any ``oslo_config.cfg.ConfigOpts``, not only the global
    ``CONF``; the options the toolkit and oslo.messaging read are registered
    on it, reusing those it has already (a service's own ``host``).

    ``context_class`` is the class into which every serializer the toolkit
    builds until :func:`cleanup` (those of :func:`get_client`,
    :func:`get_server`, ``Service`` and the notifier) rebuilds the request
    contexts it receives: a class with a ``from_dict(values)`` class
    method, such as tacker's ``tacker.context.Context``. None means
    :class:`tacker_rpc.context.RequestContext`.

    ``serializer`` is the service's default entity serializer: the base
    serializer of every server the toolkit builds until :func:`cleanup`
    when it is given none (:func:`get_server`,
    ``Connection.create_consumer``, ``Service``), as tacker's
    ``create_consumer`` used ``TackerObjectSerializer``. Clients and the
    notifier use only the serializer they are given.

    ``allowed_exmods`` names the service's own exception modules (tacker's
    ``ALLOWED_EXMODS``): their exceptions reach a caller as their own class,
    and :func:`clear_extra_exmods` does not remove them. They are the
    service's until :func:`cleanup`; :func:`add_extra_exmods` adds others.

    ``client_middleware`` and ``server_middleware`` (lists) are the
    process's middleware (:mod:`tacker_rpc.middleware`); when not given,
    the options ``rpc_client_middleware`` and ``rpc_server_middleware``
    name them.

    Calling ``init`` again without :func:`cleanup` replaces what the first
    made, as tacker's did: from then on the factories and
    ``rpc.TRANSPORT``... are the new ones. The previous transports are not
    closed, so the clients and servers made from them keep working on them,
    until :func:`cleanup` closes them together with the new ones.

    :raises InvalidTransportURL: when ``transport_url`` is malformed or its
        scheme names no installed driver.
    :raises InvalidConfiguration: when TLS is on and a certificate file
        option names a file that does not exist, or ``conf`` defines one of
        oslo.messaging's options otherwise than oslo.messaging does, or a
        middleware cannot be loaded.
    :raises TypeError: when ``context_class`` has no ``from_dict``,
        ``serializer`` lacks a method of ``oslo_messaging.Serializer``, or
        ``allowed_exmods`` holds anything but module names.
    """
    notifier_serializer = RequestContextSerializer(
        context_class=context_class)
    service_exmods = _check_init_options(serializer, allowed_exmods)
    opts.register_opts(conf)
    _configure_middleware(conf, client_middleware, server_middleware)
    exmods = _DEFAULT_EXMODS + service_exmods + _extra_exmods
    rpc_transport = _make_transport(oslo_messaging.get_rpc_transport, conf,
                                    _rpc_url, exmods)
    try:
        notification_transport = _make_transport(
            oslo_messaging.get_notification_transport, conf,
            _notification_url, exmods)
    except Exception:
        rpc_transport.cleanup()
        raise
    _replace(conf, context_class, serializer, service_exmods,
             TRANSPORT=rpc_transport,
             NOTIFICATION_TRANSPORT=notification_transport,
             NOTIFIER=oslo_messaging.Notifier(
                 notification_transport, serializer=notifier_serializer))


def init_action_rpc(conf, context_class=None, *, serializer=None,
                    allowed_exmods=(), client_middleware=None,
                    server_middleware=None):
    """Create the RPC transport only, for short-lived action processes.

    Same rules as :func:`init`; it replaces only the RPC transport, so
    :func:`get_notifier` works only after an :func:`init`.
    """
    # Refuses a context_class without from_dict before anything is made.
    RequestContextSerializer(context_class=context_class)
    service_exmods = _check_init_options(serializer, allowed_exmods)
    opts.register_opts(conf)
    _configure_middleware(conf, client_middleware, server_middleware)
    _replace(conf, context_class, serializer, service_exmods,
             TRANSPORT=_make_transport(
                 oslo_messaging.get_rpc_transport, conf, _rpc_url,
                 _DEFAULT_EXMODS + service_exmods + _extra_exmods))


def _check_init_options(serializer, allowed_exmods):
    """``allowed_exmods`` as a list, after refusing what init cannot use."""
    # Refuses a serializer without the Serializer methods.
    RequestContextSerializer(serializer)
    if isinstance(allowed_exmods, str):
        allowed_exmods = [allowed_exmods]
    allowed_exmods = list(allowed_exmods)
    for module in allowed_exmods:
        if not isinstance(module, str):
            raise TypeError(
                "allowed_exmods takes names of modules (such as "
                "exceptions.__name__), got %s" % type(module).__name__)
    return allowed_exmods


def _replace(conf, context_class, serializer, service_exmods, **made):
    """Make ``made`` (names of :data:`published`) and the rest the current
    state; transports they replace go to :data:`_superseded`."""
    global _conf, _context_class, _serializer
    for name, value in made.items():
        previous = published.get(name)
        if name != "NOTIFIER" and previous is not None:
            LOG.debug("rpc.init again without cleanup: %s %r stays open for "
                      "what was made from it until cleanup()", name, previous)
            _superseded.append(previous)
        published[name] = value
    _conf, _context_class, _serializer = conf, context_class, serializer
    _service_exmods[:] = service_exmods


def cleanup():
    """Close the transports (those a second :func:`init` replaced too) and
    forget every learned timeout and what :func:`init` was given.

    What it closes are the transports in ``rpc.TRANSPORT`` and
    ``rpc.NOTIFICATION_TRANSPORT`` at the time, made by init or assigned.

    :raises NotInitializedError: when :func:`init` was not called.
    """
    global _conf, _context_class, _serializer
    if published.get("TRANSPORT") is None:
        raise exceptions.NotInitializedError(
            "tacker_rpc.rpc.cleanup() called before init(conf)")
    transports = [published.get("TRANSPORT"),
                  published.get("NOTIFICATION_TRANSPORT")] + _superseded
    published.update(dict.fromkeys(STATE_NAMES))
    del _superseded[:], _service_exmods[:]
    _conf = _context_class = _serializer = None
    backoff.TIMEOUTS.reset()
    rpc_middleware.reset()
    for transport in transports:
        if transport is not None:
            transport.cleanup()


def get_client(target, version_cap=None, serializer=None, *, timeout=None,
               retry=None, call_monitor_timeout=None, transport_options=None,
               middleware=None):
    """A :class:`BackingOffClient` for ``target`` on the RPC transport.

    Entities go through ``RequestContextSerializer(serializer)`` (with the
    ``context_class`` given to :func:`init`). Giving
    ``timeout`` here turns the backoff off for this client's calls. The
    client is made on ``rpc.TRANSPORT`` (what :func:`init` made, or what
    was assigned to it).
    ``middleware`` (a list) runs after the process's client middleware.
    """
    return oslo_messaging.get_rpc_client(
        _require_transport(), target, client_cls=client.BackingOffClient,
        version_cap=version_cap,
        serializer=serializer_for(serializer), timeout=timeout,
        retry=retry, call_monitor_timeout=call_monitor_timeout,
        transport_options=transport_options, middleware=middleware)


def get_server(target, endpoints, serializer=None, *, middleware=None):
    """An RPC server for ``target`` dispatching to ``endpoints``.

    Its handlers run on up to ``executor_thread_pool_size`` threads, on a
    :class:`tacker_rpc.executor.StallGrowingExecutor` unless the
    ``rpc_executor_grow_after`` option is 0 (then on oslo.messaging's
    threading executor). Its access policy refuses methods whose name
    starts with ``_`` and the lifecycle hooks of
    :data:`tacker_rpc.dispatcher.NEVER_CALLABLE`
    (``initialize_service_hook``...). A message without a method name or
    with arguments that are not a dict is refused with
    :class:`~tacker_rpc.exceptions.InvalidMessage` (logged; sent back to a
    caller). A manager marked with ``api.implements`` is checked against
    its declared APIs (:mod:`tacker_rpc.implementation`) and served
    through argument checks. Each request is handled with its context
    current (:mod:`tacker_rpc.correlation`) and inside the process's server
    middleware, then ``middleware`` (a list). With the ``rpc_ping_enabled``
    option on, it answers oslo.messaging's ``oslo_rpc_server_ping``. Call
    ``start()`` on it. ``serializer`` None means the one given to
    :func:`init`, if any.
    """
    client.check_target(target)
    if not isinstance(endpoints, (list, tuple)):
        raise TypeError("endpoints must be a list of objects, got %s"
                        % type(endpoints).__name__)
    transport = _require_transport()
    conf = current_conf()
    rpc_dispatcher = dispatcher.make_dispatcher(
        endpoints, server_serializer_for(serializer),
        middleware=rpc_middleware.chain(rpc_middleware.SERVER, middleware),
        target=target)
    server = stopping.RPCServer(transport, target, rpc_dispatcher,
                                "threading")
    _answer_oslo_ping(rpc_dispatcher, conf)
    if conf.rpc_executor_grow_after > 0:
        executor.install(server, conf.rpc_executor_grow_after)
    return server


def _configure_middleware(conf, client, server):
    rpc_middleware.configure(conf, client=client, server=server)
    if conf.rpc_metrics_port is not None:
        metrics.install()


def _answer_oslo_ping(rpc_dispatcher, conf):
    """Add oslo.messaging's ``PingEndpoint`` (``oslo_rpc_server_ping``
    answers ``'pong'``) to ``rpc_dispatcher`` when ``conf`` has
    ``rpc_ping_enabled`` on.

    oslo.messaging's ``RPCDispatcher`` adds it only when the global
    ``cfg.CONF`` has the option on, and ``conf`` may be another
    ConfigOpts. It is added after the dispatcher is built, since the
    dispatcher warns about endpoints it is given that have the method.
    tests/unit/test_private_hooks.py fails naming ``PingEndpoint`` if an
    upgrade removes it.
    """
    if not conf.rpc_ping_enabled or any(
            hasattr(endpoint, "oslo_rpc_server_ping")
            for endpoint in rpc_dispatcher.endpoints):
        return
    rpc_dispatcher.endpoints.append(om_dispatcher.PingEndpoint())


def get_notifier(service=None, host=None, publisher_id=None):
    """A notifier whose publisher_id is ``service.host``.

    ``service`` defaults to the ``project`` the configuration was loaded
    for (``conf(project="tacker")``), else the program's name; ``host`` to
    the ``host`` option. ``publisher_id``, when given, is used as it is.
    Notifications carry the request context. The notifier is
    ``rpc.NOTIFIER`` (what :func:`init` made, or what was assigned to it).
    """
    notifier = published.get("NOTIFIER")
    if notifier is None:
        raise exceptions.NotInitializedError(
            "tacker_rpc.rpc.get_notifier() needs init(conf) first "
            "(init_action_rpc does not create a notifier)")
    if not publisher_id:
        publisher_id = "%s.%s" % (service or _default_service(),
                                   host or _conf.host)
    return notifier.prepare(publisher_id=publisher_id)


def current_conf():
    """The configuration given to :func:`init`.

    :raises NotInitializedError: when :func:`init` was not called.
    """
    if _conf is None:
        raise exceptions.NotInitializedError(
            "tacker_rpc.rpc.init(conf) has not been called")
    return _conf


def configured_host():
    """The ``host`` option of the configuration given to :func:`init`."""
    return current_conf().host


def serializer_for(base):
    """``RequestContextSerializer(base)`` with the context class given to
    :func:`init`: the serializer of every client and server the toolkit
    builds."""
    return RequestContextSerializer(base, context_class=_context_class)


def server_serializer_for(base):
    """:func:`serializer_for` ``base``, or the ``serializer`` given to
    :func:`init` when ``base`` is None: the serializer of every server the
    toolkit builds."""
    return serializer_for(_serializer if base is None else base)


def _default_service():
    # project and prog are None until the ConfigOpts is called.
    return (getattr(_conf, "project", None) or getattr(_conf, "prog", None)
            or os.path.basename(sys.argv[0]))


def _require_transport():
    transport = published.get("TRANSPORT")
    if transport is None:
        raise exceptions.NotInitializedError(
            "tacker_rpc.rpc.init(conf) has not been called")
    return transport


def _make_transport(factory, conf, url_of, exmods):
    """``factory(conf)``, with an unusable URL reported as
    InvalidTransportURL naming the option ``url_of(conf)`` returns, as
    ``(option name, url)``, with its password masked."""
    compat.block_on_replies()
    # A malformed host part (a port that is not a number, an unclosed IPv6
    # bracket) reaches us as the ValueError of urllib or oslo.utils.
    try:
        transport = factory(conf, allowed_remote_exmods=exmods)
    except (oslo_messaging.InvalidTransportURL,
            oslo_messaging.DriverLoadFailure, ValueError) as exc:
        option, url = url_of(conf)
        raise exceptions.InvalidTransportURL(
            "%s %s is not usable: %s" % (
                option, redact.mask_url(url), redact.mask_url(exc))) from None
    try:
        _check_tls_files(conf)
    except Exception:
        transport.cleanup()
        raise
    return transport


def _check_tls_files(conf):
    """Refuse TLS files that do not exist, which the driver would only
    report, at every connection attempt, as ``[Errno 2] No such file``."""
    try:
        rabbit = conf.oslo_messaging_rabbit
    except cfg.NoSuchOptError:  # a driver other than rabbit
        return
    if not rabbit.ssl:
        return
    for name in ("ssl_ca_file", "ssl_cert_file", "ssl_key_file"):
        path = rabbit[name]
        if path and not os.path.isfile(path):
            raise exceptions.InvalidConfiguration(
                "[oslo_messaging_rabbit] %s = %s: no such file; TLS to the "
                "broker cannot start without it" % (name, path))
    if not rabbit.ssl_ca_file:
        LOG.warning("TLS to the broker without [oslo_messaging_rabbit] "
                    "ssl_ca_file: the broker's certificate is not verified")


def _rpc_url(conf):
    return "transport_url", conf.transport_url


def _notification_url(conf):
    # get_notification_transport has registered this group by now. Without
    # a URL of their own, notifications use the RPC one.
    url = conf.oslo_messaging_notifications.transport_url
    if url is None:
        return _rpc_url(conf)
    return "[oslo_messaging_notifications] transport_url", url


class SavedState(typing.NamedTuple):
    """What :func:`swap_state` takes and returns: this module's state.

    ``transport``, ``notification_transport`` and ``notifier`` are what
    ``rpc.TRANSPORT``... were, made by init or assigned (None when
    absent)."""

    conf: typing.Any
    transport: typing.Any
    notification_transport: typing.Any
    notifier: typing.Any
    extra_exmods: list
    context_class: typing.Any
    middleware: typing.Any = None
    serializer: typing.Any = None
    service_exmods: tuple = ()
    superseded: tuple = ()


def swap_state(state=None):
    """Put ``state`` in place of this module's state; return the old one.

    For :class:`tacker_rpc.testing.RPCFixture`, which runs a test on
    transports of its own and then gives the process back what it had.
    ``None`` means not initialized, with the current extra exception
    modules. Nothing is closed: the caller owns the transports it swaps out.
    """
    global _conf, _context_class, _serializer
    previous = SavedState(
        _conf, published.get("TRANSPORT"),
        published.get("NOTIFICATION_TRANSPORT"), published.get("NOTIFIER"),
        list(_extra_exmods), _context_class, rpc_middleware.saved(),
        _serializer, tuple(_service_exmods), tuple(_superseded))
    if state is None:
        state = SavedState(None, None, None, None, previous.extra_exmods,
                           None)
    rpc_middleware.restore(state.middleware)
    published.update(TRANSPORT=state.transport,
                     NOTIFICATION_TRANSPORT=state.notification_transport,
                     NOTIFIER=state.notifier)
    _conf, _context_class = state.conf, state.context_class
    _serializer = state.serializer
    _extra_exmods[:] = state.extra_exmods
    _service_exmods[:] = state.service_exmods
    _superseded[:] = state.superseded
    return previous
