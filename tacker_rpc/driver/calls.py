"""The calling side: a request published once, its reply read on the
calling thread.

What a caller may rely on (beyond oslo.messaging's RPCClient contract):

* A call publishes its request once on a healthy link from the pool,
  mandatory and with a publisher confirm, and then reads its reply queue on
  the calling thread (no reply-waiter thread). Each pooled link has its own
  reply queue, so concurrent calls never wait for each other's replies.
* A call returns or raises within its timeout, connecting and publishing
  included: ``MessagingTimeout`` when the deadline passes. Each wait is
  given what is left of it: a connection attempt, the pause between two,
  opening the channel, declaring the reply queue and the exchange,
  writing the request (to a broker that blocks publishers under a
  resource alarm too), its confirm and the reply; heartbeats the broker
  sends meanwhile extend neither of the last two. (py-amqp's handshake
  gives each of its three steps what was left when it began, and a
  declaration each socket read what was left when it was sent.)
* A request no queue takes (no queue is bound to its topic: no server ever
  declared it, or it was deleted) is published again, after a pause of
  :data:`FIRST_UNROUTED_PAUSE` seconds doubling up to
  ``rabbit_retry_interval``, until a queue takes it or the deadline passes:
  then ``MessagingTimeout``, as oslo.messaging raises for a request its
  broker dropped. A server that binds the topic's queue in the meantime
  answers (on oslo.messaging's driver the dropped request is lost).
* With ``[oslo_messaging_rabbit] lean_rabbit_fail_fast_no_consumer`` such a
  call raises :class:`tacker_rpc.exceptions.NoConsumer` (a
  ``MessagingTimeout``) at once instead; the same topic is then not asked
  again for ``rabbit_retry_interval`` seconds (calls in that time raise
  ``NoConsumer`` without publishing), so a retry loop cannot make the
  broker route more than one such request per topic per interval.
* When the link breaks before the request is confirmed, the request is
  published again on a new link (at least once, as oslo.messaging); when it
  breaks while the reply is awaited, the new link consumes the same reply
  queue and the call keeps waiting, it is not sent twice.
* ``retry`` bounds the reconnection attempts as in oslo.messaging (None or
  -1: until the deadline; N: N retries, then
  :class:`~tacker_rpc.driver.link.BrokerUnreachable`, a
  ``MessageDeliveryFailure``).
* Casts and fanout casts publish with a confirm (mandatory only with
  ``TransportOptions(at_least_once=True)``, as oslo.messaging) and reconnect
  with the same ``retry`` rule, without a deadline.
"""

import logging
import time

import oslo_messaging

from tacker_rpc import exceptions
from tacker_rpc.driver import link as link_mod
from tacker_rpc.driver import oslo_hooks
from tacker_rpc.driver import wire

LOG = logging.getLogger(__name__)

#: Seconds before a request no queue took is published again the first
#: time (oslo.messaging's pace for a reply whose queue is missing).
FIRST_UNROUTED_PAUSE = 0.25


class Caller:
    """Publishes requests and casts for one driver."""

    def __init__(self, pool, layout, default_exchange, allowed_exmods,
                 fail_fast_no_consumer=False):
        self._pool = pool
        self._layout = layout
        self._default_exchange = default_exchange
        self._allowed_exmods = allowed_exmods
        self._fail_fast = fail_fast_no_consumer
        # (exchange name, routing key) -> monotonic time before which a
        # fail-fast call to it raises NoConsumer without publishing.
        self._unrouted = {}

    def send(self, target, ctxt, message, wait_for_reply, timeout,
             call_monitor_timeout, retry, transport_options):
        if target.fanout:
            exchange = self._layout.fanout_exchange(target.topic)
            routing_key = target.topic
        else:
            exchange = self._layout.topic_exchange(
                target.exchange or self._default_exchange)
            routing_key = (target.topic if not target.server
                           else "%s.%s" % (target.topic, target.server))
        wire.pack_request(message, ctxt)
        if not wait_for_reply:
            mandatory = bool(transport_options
                             and transport_options.at_least_once)
            return self._cast(exchange, routing_key, wire.encode(message),
                              mandatory, retry)
        return self._call(exchange, routing_key, message, timeout,
                          call_monitor_timeout, retry)

    def _cast(self, exchange, routing_key, body, mandatory, retry):
        failures = 0
        while True:
            link = self._pool.get(None, _left(retry, failures))
            try:
                link.publish(exchange, routing_key, body, mandatory,
                             silence=self._pool.settings.heartbeat or None)
                return None
            except link_mod.LINK_ERRORS as exc:
                failures += 1
                _give_up_after(retry, failures, exc, routing_key)
                LOG.info("publishing to %s failed (%s); reconnecting",
                         routing_key, exc)
            finally:
                self._pool.put(link)

    def _call(self, exchange, routing_key, message, timeout,
              call_monitor_timeout, retry):
        deadline = time.monotonic() + timeout if timeout else None
        unrouted_key = (exchange.name, routing_key)
        if self._fail_fast and self._unrouted:
            self._refuse_while_unrouted(unrouted_key)
        msg_id = wire.new_id()
        message["_msg_id"] = msg_id
        message["_timeout"] = call_monitor_timeout
        failures = 0
        confirmed = False
        reply_name = None
        expiration = timeout
        pause = FIRST_UNROUTED_PAUSE
        while True:
            link = self._pool.get(deadline, _left(retry, failures))
            unrouted = None
            try:
                reply_name = link.use_reply_queue(
                    reply_name, timeout=link_mod.left_of(deadline))
                if not confirmed:
                    message["_reply_q"] = reply_name
                    link.publish(exchange, routing_key, wire.encode(message),
                                 mandatory=True, expiration=expiration,
                                 timeout=link_mod.left_of(deadline))
                    confirmed = True
                    if self._fail_fast and self._unrouted:
                        self._unrouted.pop(unrouted_key, None)
                return self._wait(link, msg_id, deadline,
                                  call_monitor_timeout)
            except exceptions.NoConsumer as exc:
                unrouted = exc
            except link_mod.LINK_ERRORS as exc:
                failures += 1
                if deadline is not None and time.monotonic() >= deadline:
                    raise oslo_messaging.MessagingTimeout(
                        "Timed out waiting for a reply to message ID %s "
                        "(the broker connection broke: %s)"
                        % (msg_id, exc)) from None
                _give_up_after(retry, failures, exc, routing_key)
                LOG.info("call %s to %s: the broker connection broke (%s); "
                         "reconnecting", msg_id, routing_key, exc)
            finally:
                self._pool.put(link)
            # Published again from here on: it must not outlive the call.
            expiration = link_mod.left_of(deadline)
            if unrouted is not None:
                self._pause_unrouted(unrouted, unrouted_key, msg_id,
                                     deadline, pause)
                pause = min(2 * pause, self._unrouted_pause_cap())

    def _unrouted_pause_cap(self):
        return max(FIRST_UNROUTED_PAUSE, self._pool.settings.interval_start)

    def _refuse_while_unrouted(self, key):
        """Raise NoConsumer, publishing nothing, while ``key`` is held after
        a request to it was returned; claim it for one publish after."""
        now = time.monotonic()
        until = self._unrouted.get(key)
        if until is None:
            return
        if now < until:
            raise exceptions.NoConsumer(
                key[0], key[1], "a request to it was returned; asked "
                "again in %.2fs" % (until - now))
        # This call asks the broker; concurrent ones are refused meanwhile.
        self._unrouted[key] = now + self._unrouted_pause_cap()

    def _pause_unrouted(self, error, key, msg_id, deadline, pause):
        """After the broker returned the request ``msg_id``: raise
        NoConsumer (fail-fast), MessagingTimeout (deadline), or sleep
        ``pause`` seconds (at most what is left) before it is published
        again."""
        if self._fail_fast:
            self._unrouted[key] = (time.monotonic()
                                   + self._unrouted_pause_cap())
            raise error
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= pause:
                if left > 0:
                    time.sleep(left)
                raise oslo_messaging.MessagingTimeout(
                    "Timed out waiting for a reply to message ID %s: %s"
                    % (msg_id, error)) from None
        LOG.debug("call %s: %s; publishing it again in %.2fs", msg_id,
                  error, pause)
        time.sleep(pause)

    def _wait(self, link, msg_id, deadline, call_monitor_timeout):
        settings = self._pool.settings
        slice_ = settings.tick_interval if settings.heartbeat else 1.0
        monitor_timer = (time.monotonic() + call_monitor_timeout
                         if call_monitor_timeout else None)
        result = None
        while True:
            while link.replies:
                data = wire.decode(link.replies.popleft())
                if data.get("_msg_id") != msg_id:
                    LOG.debug("dropping a reply to %s (not awaited)",
                              data.get("_msg_id"))
                    continue
                if data.get("failure"):
                    result = oslo_hooks.deserialize_failure(
                        data["failure"], self._allowed_exmods)
                elif data.get("result") is not None:
                    result = data["result"]
                if data.get("ending"):
                    if isinstance(result, Exception):
                        raise result
                    return result
                if monitor_timer is not None:
                    monitor_timer = time.monotonic() + call_monitor_timeout
            now = time.monotonic()
            limit = min(t for t in (deadline, monitor_timer, now + slice_)
                        if t is not None)
            if deadline is not None and now >= deadline or (
                    monitor_timer is not None and now >= monitor_timer):
                raise oslo_messaging.MessagingTimeout(
                    "Timed out waiting for a reply %s to message ID %s."
                    % (link.reply_name, msg_id))
            link.drain(limit - now, settings)


def _left(retry, failures):
    """Connection attempts the next ``connect`` may still make."""
    if retry is None or retry < 0:
        return None
    return retry - failures


def _give_up_after(retry, failures, exc, routing_key):
    if retry is not None and 0 <= retry < failures:
        raise link_mod.BrokerUnreachable(
            "cannot send to %s after %d attempt(s): %s: %s"
            % (routing_key, failures, type(exc).__name__, exc)) from exc
