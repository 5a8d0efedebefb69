"""The serving side: one consuming thread per server, replies published by
the thread that ran the handler.

What a server may rely on (beyond oslo.messaging's RPCServer contract):

* The listener consumes the topic, ``topic.server`` and fanout queues of
  its target on its own connection, acknowledges each request as it is
  delivered (as oslo.messaging does), drops a redelivered duplicate, and
  passes it straight to the server's executor: the only thread hand-off.
* The handler's thread publishes the reply (with a publisher confirm) on a
  pooled link; a reply whose queue is missing is retried for
  ``kombu_missing_consumer_retry_timeout`` seconds and then dropped, as
  oslo.messaging does. ``heartbeat()`` sends the call-monitor keep-alive.
* When the connection breaks the listener reconnects with the driver's
  intervals and declares and consumes its queues again; requests delivered
  but not yet acknowledged go back to their queue.
* ``stop()`` cancels the consumers; ``cleanup()`` deletes the server's
  fanout queue and closes the connection.
"""

import logging
import threading
import time

import oslo_messaging
from oslo_messaging._drivers import base

from tacker_rpc.driver import link as link_mod
from tacker_rpc.driver import oslo_hooks
from tacker_rpc.driver import wire

LOG = logging.getLogger(__name__)

#: Seconds between attempts to send a reply whose queue is missing.
MISSING_QUEUE_RETRY = 0.25


class Replier:
    """Publishes replies to callers' reply queues."""

    def __init__(self, pool):
        self._pool = pool
        self._gone = {}
        self._gone_lock = threading.Lock()

    def send(self, reply_q, msg_id, result, failure, ending):
        if self._is_gone(reply_q):
            return
        body = wire.encode({
            "result": result,
            "failure": (oslo_hooks.serialize_failure(failure)
                        if failure else None),
            "ending": ending, "_msg_id": msg_id,
            wire.UNIQUE_ID: wire.new_id()})
        settings = self._pool.settings
        give_up = time.monotonic() + settings.missing_consumer_timeout
        while True:
            link = self._pool.get()
            try:
                link.publish(None, reply_q, body,
                             mandatory=settings.direct_mandatory,
                             silence=settings.heartbeat or None)
                return
            except oslo_messaging.MessageUndeliverable:
                if not ending or time.monotonic() >= give_up:
                    if ending:
                        self._forget(reply_q, msg_id)
                    raise
            except link_mod.LINK_ERRORS as exc:
                LOG.info("reply %s: the broker connection broke (%s); "
                         "reconnecting", msg_id, exc)
                continue
            finally:
                self._pool.put(link)
            time.sleep(MISSING_QUEUE_RETRY)

    def _is_gone(self, reply_q):
        with self._gone_lock:
            gone_at = self._gone.get(reply_q)
            if gone_at is None:
                return False
            if time.monotonic() - gone_at > 60:
                del self._gone[reply_q]
                return False
        LOG.warning("%s doesn't exist, drop reply", reply_q)
        return True

    def _forget(self, reply_q, msg_id):
        LOG.error("The reply %s failed to send: its queue %s is missing. "
                  "Abandoning...", msg_id, reply_q)
        with self._gone_lock:
            self._gone[reply_q] = time.monotonic()


class IncomingRequest(base.RpcIncomingMessage):
    """A request as the RPC server sees it; already acknowledged."""

    def __init__(self, replier, ctxt, message, msg_id, reply_q,
                 client_timeout):
        super().__init__(ctxt, message, msg_id)
        self._replier = replier
        self._wants_reply = msg_id is not None
        self.reply_q = reply_q
        self.client_timeout = client_timeout

    def reply(self, reply=None, failure=None):
        if not self._wants_reply:
            return
        try:
            self._replier.send(self.reply_q, self.msg_id, reply, failure,
                               ending=True)
        except oslo_messaging.MessageUndeliverable:
            pass  # logged and remembered by the replier

    def heartbeat(self):
        try:
            self._replier.send(self.reply_q, self.msg_id, None, None,
                               ending=False)
        except oslo_messaging.MessageUndeliverable:
            raise oslo_messaging.MessageDeliveryFailure(
                "Heartbeat send failed. Missing queue")

    def acknowledge(self):
        pass

    def requeue(self):
        pass


class Listener(base.Listener):
    """Consumes an RPC target's queues and feeds the server."""

    def __init__(self, pool, layout, replier, exchange, target, fanout_id,
                 batch_size, batch_timeout):
        super().__init__(batch_size, batch_timeout)
        self._pool = pool
        self._replier = replier
        self._queues = [
            layout.topic_queue(exchange, target.topic),
            layout.topic_queue(exchange, "%s.%s" % (target.topic,
                                                    target.server)),
            layout.fanout_queue(target.topic, fanout_id)]
        self._seen = wire.SeenIds()
        self._stopped = threading.Event()
        self._link = None
        self._thread = None
        self._ready = threading.Event()
        self._first_error = None

    def start(self, on_incoming_callback):
        super().start(on_incoming_callback)
        self._thread = threading.Thread(target=self._run,
                                        name="lean-rabbit-listener",
                                        daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self):
        settings = self._pool.settings
        slice_ = settings.tick_interval if settings.heartbeat else 1.0
        slice_ = min(slice_, 1.0)
        while not self._stopped.is_set():
            try:
                link = self._link = link_mod.connect(
                    settings, None, stopped=self._stopped)
                if link is None:
                    break
                link.set_prefetch(settings.prefetch)
                tags = [link.consume(queue, self._deliver)
                        for queue in self._queues]
                self._ready.set()
                while not self._stopped.is_set():
                    link.drain(slice_, settings)
                for tag in tags:
                    link.channel.basic_cancel(tag)
            except link_mod.LINK_ERRORS as exc:
                if self._link is not None:
                    self._link.broken = True
                    self._link.close()
                    self._link = None
                LOG.error("RPC listener on %s: the broker connection "
                          "broke (%s); reconnecting", self._queues[0].name,
                          exc)
                self._stopped.wait(settings.interval_start)
        self._ready.set()

    def _deliver(self, message):
        message.channel.basic_ack(message.delivery_tag)
        try:
            data = wire.decode(message.body)
            ctxt, msg_id, reply_q, client_timeout = wire.unpack_request(data)
        except Exception:
            # oslo.messaging's words, which operators already search for.
            LOG.exception("Failed to process message ... skipping it.")
            return
        if self._seen.seen(data.pop(wire.UNIQUE_ID, None)):
            LOG.warning("ignoring duplicate message %s", msg_id)
            return
        callback = self.on_incoming_callback
        if callback is None:
            return
        callback([IncomingRequest(self._replier, ctxt, data, msg_id,
                                  reply_q, client_timeout)])

    def stop(self):
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        super().stop()

    def cleanup(self):
        link, self._link = self._link, None
        if link is None:
            return
        if not link.broken:
            try:
                link.channel.queue_delete(self._queues[2].name)
            except link_mod.LINK_ERRORS as exc:
                LOG.debug("deleting the fanout queue: %s", exc)
        link.close()
