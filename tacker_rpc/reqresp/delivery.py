"""How requests and responses travel: durable notifications on the RPC
broker. (Formerly ``tacker_rpc.reqresp.wire``, a name that still imports
this module.)

An RPC server acknowledges a message when it receives it, before the
handler runs (oslo.messaging's RPC listener does, in its I/O thread): a
process killed while handling loses the message. A notification listener
acknowledges after its endpoint returns and requeues when the endpoint
fails, and publishing a notification declares its queue when missing.
So both directions are sent as notifications, with oslo.messaging's public
``Notifier`` and notification listener, on a transport to the RPC broker
(``transport_url``, not the notification one, which may be elsewhere or a
no-op).

What a caller may rely on:

* a request goes to queue ``tacker_rpc_reqresp.<responder topic>.info``, a
  response to ``tacker_rpc_reqresp.<reply topic>.info``, both bound to the
  topic exchange ``tacker_rpc_reqresp`` (:data:`EXCHANGE`,
  :data:`TOPIC_PREFIX`); the queues outlive their consumers, so what is
  sent while the other side is down waits for it;
* the exchange and queues are durable and every message is persistent
  (delivery mode 2), whatever the service's own transport uses: what
  waits in a queue survives a restart of the broker. When the service
  sets ``[oslo_messaging_rabbit] rabbit_quorum_queue`` the queues are
  quorum queues (durable, and replicated on a cluster). Both sides take
  that setting from their own service: a requester and its responder
  must agree on it, or the broker refuses the second declaration of a
  queue;
* processes consuming one topic share its queue: each message is taken by
  one of them;
* delivery is at least once: a message whose consumer died before its
  handler returned is delivered again.

The durability does not depend on the service's transport-wide
``amqp_durable_queues``: each side makes its own transport from
:func:`durable_conf`, a copy of the service's messaging options (broker,
TLS, heartbeats, retries...) taken when it connects, with its own durable
exchange. Its own exchange, because the service's control exchange
(``openstack`` or the service's) is usually non-durable already and the
broker refuses to redeclare it durable; prefixed queue names, because a
queue of the same name declared non-durable before (by the service's own
notifications, or by the first version of this module, whose queues were
``<topic>.info`` on the control exchange: doc/reliability.rst says what an
upgrade does) would make oslo.messaging fall back to a non-durable one.
"""

import logging
import time

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import opts as om_opts

from tacker_rpc import broker
from tacker_rpc import compat
from tacker_rpc import messaging
from tacker_rpc import opts
from tacker_rpc import stopping
from tacker_rpc.reqresp import store as store_mod
from tacker_rpc.serializer import RequestContextSerializer

LOG = logging.getLogger(__name__)

REQUEST_EVENT = "tacker_rpc.reqresp.request"
RESPONSE_EVENT = "tacker_rpc.reqresp.response"

#: The durable topic exchange every request and response goes through.
EXCHANGE = "tacker_rpc_reqresp"

#: What a topic is prefixed with to name its queue (then ``.info``).
TOPIC_PREFIX = EXCHANGE + "."



def queue_name(topic):
    """The queue of ``topic`` (unprefixed) on the broker."""
    return TOPIC_PREFIX + topic + ".info"


#: Options :func:`durable_conf` sets whatever the service's are:
#: ``(group, name, value)``. Auto-delete queues would vanish, with what
#: waits in them, when their last consumer goes.
FORCED = ((None, "control_exchange", EXCHANGE),
          ("oslo_messaging_rabbit", "amqp_durable_queues", True),
          ("oslo_messaging_rabbit", "amqp_auto_delete", False))

#: Seconds a handler that failed (say, its database is down) waits before
#: its message is requeued, so that a lasting failure does not spin.
REQUEUE_DELAY = 1.0


def durable_conf(conf):
    """A new configuration for the request/response transport: every
    option oslo.messaging reads, copied from ``conf`` (the service's), then
    :data:`FORCED` set.

    Why a copy: durability of exchanges and queues is a transport-wide
    setting in oslo.messaging (``amqp_durable_queues``), and so is the
    exchange (``control_exchange``); a service keeps its own (usually
    non-durable) for its RPC, and requests and responses must survive a
    broker restart anyway. Copying keeps everything else the service set:
    the broker (``transport_url``), TLS, heartbeats, reconnection,
    ``rabbit_quorum_queue``. Values are copied as they are now; changes
    the service makes later reach a side when it connects again
    (:meth:`Side.stop`, then use).

    :raises TypeError: naming ``conf`` when it is not an
        ``oslo_config.cfg.ConfigOpts``.
    :raises InvalidConfiguration: naming the option, when ``conf`` defines
        one of oslo.messaging's options otherwise than oslo.messaging.
    """
    if not isinstance(conf, cfg.ConfigOpts):
        raise TypeError("conf must be an oslo_config.cfg.ConfigOpts, not %r"
                        % type(conf).__name__)
    opts.register_opts(conf)
    derived = cfg.ConfigOpts()
    derived(args=[], default_config_files=[], default_config_dirs=[])
    opts.register_opts(derived)
    for group, options in (om_opts.list_opts()
                           + compat.global_only_option_groups()):
        source = conf if group is None else conf[group]
        for opt in options:
            derived.set_override(opt.dest, source[opt.dest], group=group)
    for group, name, value in FORCED:
        derived.set_override(name, value, group=group)
    return derived


class _Endpoint:
    """Hands each notification of ``event_type`` to ``handle(ctxt,
    payload)``; requeues it (after :data:`REQUEUE_DELAY`) when that
    raises."""

    def __init__(self, event_type, handle):
        self.filter_rule = oslo_messaging.NotificationFilter(
            event_type="^%s$" % event_type.replace(".", r"\."))
        self._handle = handle

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        try:
            self._handle(ctxt, payload)
        except Exception:
            LOG.exception("could not handle %s from %s; requeued",
                          event_type, publisher_id)
            time.sleep(REQUEUE_DELAY)
            return oslo_messaging.NotificationResult.REQUEUE
        return oslo_messaging.NotificationResult.HANDLED


class Side:
    """One side of the pattern: a notification transport to the RPC broker
    of ``conf`` (the one given to ``rpc.init`` when None), made from
    :func:`durable_conf` when first needed, notifiers sending from
    ``publisher_id``, at most one listener, and the side's store at
    ``store_url`` (:data:`~tacker_rpc.reqresp.store.DEFAULT_STORE_URL`
    when None), opened by :meth:`open_store`. Topics are given
    unprefixed; queue names add :data:`TOPIC_PREFIX`. :meth:`stop` closes
    them all; a context manager (the subclass's ``start`` on entry)."""

    def __init__(self, conf, publisher_id, store_url):
        self._conf = conf
        self._publisher_id = publisher_id
        self.store_url = store_url or store_mod.DEFAULT_STORE_URL
        self._store = None
        self._transport = None
        self._notifiers = {}
        self._listener = None

    def open_store(self):
        """The side's store, opened (its schema created or upgraded) on
        first use."""
        if self._store is None:
            self._store = store_mod.Store(self.store_url)
        return self._store

    def stop(self):
        if self._listener is not None:
            self._listener.stop()
            self._listener.wait()
            self._listener = None
        if self._transport is not None:
            self._transport.cleanup()
            self._transport = None
            self._notifiers = {}
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def publish(self, ctxt, topic, event_type, payload):
        notifier = self._notifiers.get(topic)
        if notifier is None:
            notifier = self._notifiers[topic] = oslo_messaging.Notifier(
                self._connected(), publisher_id=self._publisher_id,
                driver="messagingv2", topics=[TOPIC_PREFIX + topic],
                serializer=RequestContextSerializer())
        notifier.info(ctxt if ctxt is not None else {}, event_type, payload)

    def listen(self, topic, event_type, handle):
        """Take ``event_type`` notifications from ``topic``'s shared queue
        and hand each to ``handle(ctxt, payload)``."""
        self._listener = oslo_messaging.get_notification_listener(
            self._connected(),
            [oslo_messaging.Target(topic=TOPIC_PREFIX + topic)],
            [_Endpoint(event_type, handle)], executor="threading",
            serializer=RequestContextSerializer(), allow_requeue=True)
        self._listener.start()
        stopping.check_started_server_for_stop_often(self._listener)

    def queued(self, topic):
        """How many messages wait, undelivered, in ``topic``'s queue; None
        when the broker is not RabbitMQ (see
        :func:`tacker_rpc.broker.ready_messages`) or cannot be reached now
        (logged; the side's own connection retries as usual)."""
        try:
            return broker.ready_messages(
                durable_conf(self._conf or messaging.current_conf()),
                queue_name(topic))
        except broker.BrokerProblem as exc:
            LOG.warning("cannot count the messages queued on %s: %s",
                        queue_name(topic), exc)
            return None

    def _connected(self):
        if self._transport is None:
            conf = durable_conf(self._conf or messaging.current_conf())
            self._transport = oslo_messaging.get_notification_transport(
                conf, url=conf.transport_url)
        return self._transport
