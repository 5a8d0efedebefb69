"""How requests and responses travel: notifications on the RPC broker.

An RPC server acknowledges a message when it receives it, before the
handler runs (oslo.messaging's RPC listener does, in its I/O thread): a
process killed while handling loses the message. A notification listener
acknowledges after its endpoint returns and requeues when the endpoint
fails, and publishing a notification declares its queue when missing.
So both directions are sent as notifications, with oslo.messaging's public
``Notifier`` and notification listener, on a transport to the RPC broker
(``transport_url``, not the notification one, which may be elsewhere or a
no-op):

* a request goes to queue ``<responder topic>.info``, a response to
  ``<reply topic>.info``; both queues outlive their consumers, so what is
  sent while the other side is down waits for it;
* processes consuming one topic share its queue: each message is taken by
  one of them;
* delivery is at least once: a message whose consumer died before its
  handler returned is delivered again.

Queues and messages survive a broker restart when the transport's queues
are durable (``[oslo_messaging_rabbit] amqp_durable_queues`` or
``rabbit_quorum_queue``), the settings a service uses for every queue.
"""

import logging
import time

import oslo_messaging

from tacker_rpc import messaging
from tacker_rpc.serializer import RequestContextSerializer

LOG = logging.getLogger(__name__)

REQUEST_EVENT = "tacker_rpc.reqresp.request"
RESPONSE_EVENT = "tacker_rpc.reqresp.response"

#: Seconds a handler that failed (say, its database is down) waits before
#: its message is requeued, so that a lasting failure does not spin.
REQUEUE_DELAY = 1.0


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
    of ``conf`` (the one given to ``rpc.init`` when None), made when first
    needed, notifiers sending from ``publisher_id``, and at most one
    listener. :meth:`stop` closes them; a context manager (the subclass's
    ``start`` on entry)."""

    def __init__(self, conf, publisher_id):
        self._conf = conf
        self._publisher_id = publisher_id
        self._transport = None
        self._notifiers = {}
        self._listener = None

    def stop(self):
        if self._listener is not None:
            self._listener.stop()
            self._listener.wait()
            self._listener = None
        if self._transport is not None:
            self._transport.cleanup()
            self._transport = None
            self._notifiers = {}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def publish(self, ctxt, topic, event_type, payload):
        notifier = self._notifiers.get(topic)
        if notifier is None:
            notifier = self._notifiers[topic] = oslo_messaging.Notifier(
                self._connected(), publisher_id=self._publisher_id,
                driver="messagingv2", topics=[topic],
                serializer=RequestContextSerializer())
        notifier.info(ctxt if ctxt is not None else {}, event_type, payload)

    def listen(self, topic, event_type, handle):
        """Take ``event_type`` notifications from ``topic``'s shared queue
        and hand each to ``handle(ctxt, payload)``."""
        self._listener = oslo_messaging.get_notification_listener(
            self._connected(), [oslo_messaging.Target(topic=topic)],
            [_Endpoint(event_type, handle)], executor="threading",
            serializer=RequestContextSerializer(), allow_requeue=True)
        self._listener.start()

    def _connected(self):
        if self._transport is None:
            conf = self._conf or messaging.current_conf()
            self._transport = oslo_messaging.get_notification_transport(
                conf, url=conf.transport_url)
        return self._transport
