"""Configuration options of tacker_rpc.

All options live in the ``[DEFAULT]`` group, beside oslo.messaging's own
``transport_url`` and ``rpc_response_timeout``.  :func:`list_opts` is the
``oslo.config.opts`` entry point ``tacker_rpc`` used by
``oslo-config-generator``.
"""

import copy
import logging
import socket

from oslo_config import cfg
from oslo_messaging import opts as _om_opts

from tacker_rpc import backoff
from tacker_rpc import compat
from tacker_rpc import exceptions
from tacker_rpc import executor
from tacker_rpc import redact

LOG = logging.getLogger(__name__)

_GLOBAL_ONLY_GROUPS = compat.global_only_option_groups()

#: How many times ``rpc_response_timeout`` the backoff ceiling is when
#: ``rpc_response_max_timeout`` is not set.
DEFAULT_CEILING_FACTOR = 10

core_opts = [
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<hostname>",
        help="Name of this node. A Service listens on the queue "
             "'<topic>.<host>' and notifications carry it in their "
             "publisher_id."),
    cfg.IntOpt(
        "rpc_response_max_timeout",
        min=1,
        mutable=True,
        help="Ceiling, in seconds, of the per-method call timeout that "
             "grows after each MessagingTimeout. Unset means ten times "
             "rpc_response_timeout."),
]

server_opts = [
    cfg.FloatOpt(
        "rpc_executor_grow_after",
        default=executor.DEFAULT_GROW_AFTER,
        min=0,
        help="Seconds a received message may wait for a free handler "
             "thread before an RPC server adds one, up to "
             "executor_thread_pool_size. Quick handlers then share few "
             "threads, which costs the server less CPU per message; slow "
             "handlers still run side by side, each new one waiting at most "
             "about this long for its thread. 0 uses oslo.messaging's "
             "executor, which adds a thread for every message until the "
             "pool is full."),
]

backoff_opts = [
    cfg.BoolOpt(
        "rpc_backoff_recovery",
        mutable=True,
        default=True,
        help="Let a timeout that grew after MessagingTimeout come back "
             "down once the method answers again: each answer divides it "
             "by up to 4, toward rpc_backoff_latency_multiple times the "
             "method's learned latency and never below "
             "rpc_response_timeout. False keeps the behaviour of tacker "
             "and neutron: timeouts only grow until the process restarts."),
    cfg.FloatOpt(
        "rpc_backoff_max_splay",
        mutable=True,
        min=0,
        help="Upper bound, in seconds, of the random pause a caller takes "
             "after a MessagingTimeout before the error reaches it, so that "
             "many callers do not retry in step. The pause is also never "
             "longer than rpc_response_timeout. Unset means "
             "rpc_response_timeout; 0 disables the pause for callers that "
             "must fail fast."),
    cfg.FloatOpt(
        "rpc_backoff_latency_multiple",
        mutable=True,
        default=2.0,
        min=1.0,
        help="Safety margin of recovery: a grown timeout comes down no "
             "lower than this multiple of the method's learned latency "
             "(smoothed latency plus four times its variation, as TCP "
             "computes its retransmission timer in RFC 6298). With 2, a "
             "method that steadily needs 40 s keeps about 80 s."),
]


status_opts = [
    cfg.BoolOpt(
        "rpc_status_endpoint",
        default=True,
        help="Serve, in every Service, the status endpoint (RPC namespace "
             "'tacker_rpc.status': ping and describe) that 'tacker-rpc "
             "ping' and 'tacker-rpc doctor' use. False leaves only the "
             "manager's methods on the topic."),
]

observability_opts = [
    cfg.ListOpt(
        "rpc_client_middleware",
        default=[],
        help="Middleware every RPC client of the process runs around each "
             "call and cast, in order: names of entry points of the group "
             "'tacker_rpc.middleware' (built in: logging, metrics) or "
             "module:callable, called with the configuration."),
    cfg.ListOpt(
        "rpc_server_middleware",
        default=[],
        help="Middleware every RPC server of the process runs around each "
             "request it dispatches, in order; named as for "
             "rpc_client_middleware."),
    cfg.ListOpt(
        "rpc_log_censored_keys",
        default=list(redact.SENSITIVE_KEYS),
        help="The logging middleware prints '***' for the value of every "
             "argument key containing one of these words "
             "(case-insensitive), at any depth."),
    cfg.PortOpt(
        "rpc_metrics_port",
        help="Port on which a Service serves its metrics in Prometheus "
             "form at /metrics; also installs the metrics middleware on "
             "clients and servers. Unset means no metrics endpoint."),
    cfg.HostAddressOpt(
        "rpc_metrics_host",
        default="0.0.0.0",
        help="Address the metrics endpoint listens on."),
]


def register_opts(conf):
    """Register every option the toolkit reads on ``conf``.

    Besides the toolkit's own options this registers oslo.messaging's
    ``[oslo_messaging_tracing]`` (18.3 on) and ``[oslo_messaging_metrics]``
    groups, which oslo.messaging registers only on the global ``cfg.CONF``;
    without them the first call made with a private ``ConfigOpts`` fails
    with ``NoSuchOptError``. It also registers every option oslo.messaging
    lists (``transport_url``, ``executor_thread_pool_size``, the
    ``[oslo_messaging_rabbit]`` group...), and the lean-rabbit driver's
    ``[oslo_messaging_rabbit] lean_rabbit_fail_fast_no_consumer``, so any
    of them can be overridden before :func:`tacker_rpc.rpc.init`.
    Registering twice is harmless. oslo.messaging's options are taken as
    they are at this call, so a default changed with
    ``oslo_messaging.set_transport_defaults`` before it (whether tacker_rpc
    was imported before or after) is the one registered, as oslo.messaging
    registers it.

    An option of the toolkit that ``conf`` already has under the same name
    with another definition (tacker, nova and neutron register their own
    ``host``, neutron its ``rpc_response_max_timeout``) is kept as the
    service defined it and read from there: no ``DuplicateOptError``.

    :raises InvalidConfiguration: naming the option, when ``conf`` has one
        of oslo.messaging's options (``rpc_response_timeout``,
        ``transport_url``...) defined otherwise: oslo.messaging registers
        those itself and would fail later with ``DuplicateOptError``.
    """
    # list_opts() copies oslo.messaging's definitions as they are now
    # (about 1.5 ms), defaults set by set_transport_defaults included.
    for group, options in _om_opts.list_opts():
        for opt in options:
            try:
                conf.register_opt(opt, group=group)
            except cfg.DuplicateOptError:
                raise exceptions.InvalidConfiguration(
                    "[%s] %s is registered with a definition other than "
                    "oslo.messaging's, which oslo.messaging registers "
                    "itself and cannot share; register the one "
                    "oslo_messaging.opts.list_opts() gives, or none (a "
                    "default changed by set_transport_defaults after this "
                    "conf registered the option also differs: call it "
                    "before)"
                    % (group or "DEFAULT", opt.dest)) from None
    for group, options in [
            (None, core_opts + server_opts + backoff_opts + status_opts
                   + observability_opts),
            *_GLOBAL_ONLY_GROUPS, *_lean_driver_groups()]:
        for opt in options:
            try:
                conf.register_opt(opt, group=group)
            except cfg.DuplicateOptError:
                LOG.debug("[%s] %s is the service's own option; using it",
                          group or "DEFAULT", opt.dest)


def backoff_settings(conf):
    """The backoff options of ``conf`` as a :class:`BackoffSettings`, as
    they are now.

    Clients call this on every call, so that ``set_override``,
    ``clear_override``, ``reload_config_files`` and ``mutate_config_files``
    take effect on the next call. The result is kept in ``conf``'s own
    cache of option values (:func:`_option_cache`), which oslo.config
    empties on each of those, so an unchanged configuration costs a
    dictionary lookup instead of five option reads (about 3 us each).

    :raises InvalidConfiguration: naming the option, for a value the
        backoff cannot use (``rpc_response_timeout`` below 0).
    """
    cache = _option_cache(conf)
    settings = cache.get(_SETTINGS_CACHE_KEY)
    if settings is None:
        settings = _read_backoff_settings(conf)
        cache[_SETTINGS_CACHE_KEY] = settings
    return settings


# Never the (group, name) key of an option.
_SETTINGS_CACHE_KEY = (object(), "tacker_rpc backoff settings")


def _option_cache(conf):
    """oslo.config's private cache of option values of ``conf``.

    oslo.config empties it whenever a value may have changed (overrides,
    defaults, registration, reloading and mutating files); it offers no
    public hook for ``set_override``, so derived values stored in it are
    dropped exactly when they must be recomputed.
    """
    return conf._ConfigOpts__cache


def _read_backoff_settings(conf):
    default = float(conf.rpc_response_timeout)
    if default < 0:
        raise exceptions.InvalidConfiguration(
            "[DEFAULT] rpc_response_timeout = %s: must be 0 (calls do not "
            "wait for an answer) or a number of seconds above 0"
            % conf.rpc_response_timeout)
    ceiling = conf.rpc_response_max_timeout
    if ceiling is None:
        ceiling = DEFAULT_CEILING_FACTOR * default
    max_splay = conf.rpc_backoff_max_splay
    if max_splay is None:
        max_splay = default
    return backoff.BackoffSettings(
        default_timeout=default,
        max_timeout=float(ceiling),
        recovery=conf.rpc_backoff_recovery,
        max_splay=max_splay,
        latency_multiple=conf.rpc_backoff_latency_multiple)


def list_opts():
    """The ``oslo.config.opts`` entry point: this toolkit's options, and
    the lean-rabbit driver's."""
    return [(None, copy.deepcopy(core_opts + server_opts + backoff_opts +
                                 status_opts + observability_opts)),
            *copy.deepcopy(_lean_driver_groups())]


def _lean_driver_groups():
    """The lean-rabbit driver's option groups. The driver registers them
    itself when a transport uses it (a plain oslo.messaging process too);
    the module is imported only here, not with the toolkit."""
    from tacker_rpc.driver import driver
    return [("oslo_messaging_rabbit", driver.lean_opts)]
