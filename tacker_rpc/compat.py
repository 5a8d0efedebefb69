"""Where the supported oslo releases differ, and what the toolkit does.

The toolkit supports the libraries of OpenStack 2025.2 "Flamingo" (the
first release whose oslo.service has the threading backend:
constraints-oldest.txt) up to those of constraints.txt. Each difference
between those releases that the toolkit has to handle is one function here;
tests/unit/test_private_hooks.py checks the internals each one touches.
"""

from importlib import metadata
import queue

from cotyledon import oslo_config_glue
import oslo_messaging
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._metrics import client as om_metrics
from oslo_service import service
from oslo_service.backend._threading import service as threading_service

from tacker_rpc import backend

#: The first oslo.messaging whose reply wait blocks instead of polling.
BLOCKING_REPLY_WAIT = (18, 2)
#: The first oslo.service whose threading launcher registers its own
#: service options rather than cotyledon's.
OWN_SERVICE_OPTIONS = (4, 5)


def global_only_option_groups():
    """oslo.messaging's option groups that it registers on ``cfg.CONF``
    only, as ``[(group, options)]``, taken from its private modules.

    Its client reads them from whatever conf it is given, so a private
    ``ConfigOpts`` needs them too. ``[oslo_messaging_metrics]`` exists on
    every supported release; ``[oslo_messaging_tracing]`` (module
    ``_tracing``) came with oslo.messaging 18.3, and before it nothing
    reads that group.
    """
    groups = [("oslo_messaging_metrics", om_metrics.oslo_messaging_metrics)]
    try:
        from oslo_messaging._tracing import client as om_tracing
    except ImportError:
        return groups
    return groups + [("oslo_messaging_tracing",
                      om_tracing.oslo_messaging_tracing)]


def threading_service_base():
    """oslo.service's ``Service`` of its threading backend, whichever
    backend the process selected: the base of ``rpc.Service``.

    ``oslo_service.service.Service`` is the class of the backend selected
    when that module was first imported, eventlet's in a process that
    imported ``oslo_messaging`` before asking for threads; the toolkit's
    Service always runs on native threads (its thread group is a threading
    one), so it takes the class from the private module that defines it.
    """
    return threading_service.Service


def block_on_replies():
    """Make a caller wake as soon as its reply arrives, on oslo.messaging
    releases before 18.2 when the process runs on native threads (eventlet
    has not monkey-patched it, whatever oslo.service's backend).

    Those releases wait for a reply by polling its queue every 0.5 s (a
    workaround for eventlet, launchpad bug 2035113), so every call takes at
    least half a second and a timeout fires up to 0.5 s late. On native
    threads a blocking wait is right, and it is what oslo.messaging does
    from 18.2 on: this replaces ``amqpdriver.ReplyWaiters.get`` with that
    wait. Nothing changes on 18.2 and later, nor under eventlet.
    """
    if not backend.monkey_patched() and (
            _version("oslo.messaging") < BLOCKING_REPLY_WAIT):
        amqpdriver.ReplyWaiters.get = _blocking_get


def _blocking_get(self, msg_id, timeout):
    try:
        return self._queues[msg_id].get(block=True, timeout=timeout)
    except queue.Empty:
        raise oslo_messaging.MessagingTimeout(
            "Timed out waiting for a reply to message ID %s" % msg_id)


def service_option_groups():
    """oslo.service's options, as ``[(group, options)]``, in the form its
    threading launcher accepts on this release (the one ``launch`` is in a
    process that built a Service or called
    :func:`tacker_rpc.backend.select_threading`): register these, not
    ``oslo_service.service.list_opts()``, on a conf given to ``launch``.

    oslo.service before 4.5 starts threading services through cotyledon's
    ``oslo_config_glue.setup()``, which registers cotyledon's own
    ``log_options`` and ``graceful_shutdown_timeout``, defined unlike
    oslo.service's: a conf that already holds oslo.service's fails
    ``launch()`` with ``DuplicateOptError: duplicate option: log_options``.
    There those two options are cotyledon's, which it then finds in place.
    """
    groups = service.list_opts()
    if _version("oslo.service") >= OWN_SERVICE_OPTIONS:
        return groups
    cotyledons = {opt.name: opt for opt in oslo_config_glue.service_opts}
    return [(group, [cotyledons.get(opt.name, opt) for opt in options])
            for group, options in groups]


def ensure_error_callback(error_callback, passing):
    """An ``error_callback`` for ``impl_rabbit.Connection.ensure`` that ends
    ``ensure`` with an exception of class ``passing`` as it is, and hands
    every other one to ``error_callback`` (which may be None).

    ``ensure`` in oslo.messaging before 18.3.1 calls ``error_callback``,
    logs "Unable to connect to AMQP server" and raises
    ``MessageDeliveryFailure`` for every exception, its own ``Timeout``
    included; from 18.3.1 on it re-raises a ``Timeout`` without calling
    ``error_callback``, so this changes nothing there.
    """
    def on_error(exc):
        if isinstance(exc, passing):
            raise exc
        if error_callback is not None:
            error_callback(exc)
    return on_error


def _version(distribution):
    """The installed ``distribution``'s (major, minor)."""
    major, minor = metadata.version(distribution).split(".")[:2]
    return int(major), int(minor)
