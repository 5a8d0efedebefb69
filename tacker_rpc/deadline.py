"""Whole-call deadlines on oslo.messaging's AMQP drivers.

oslo.messaging spends a call's timeout twice: once publishing the request
(while the driver reconnects to an unreachable broker, without limit when
``retry`` is None), and then again, in full, waiting for the answer. A call
with a 10 s timeout made during a broker restart can so block for 16 s or
more. This module makes the time a call spends publishing and reconnecting
count against its timeout.

What a caller may rely on, on a transport prepared by :func:`install` (the
rabbit driver and its in-memory ``kombu+memory`` form), for a call made
between :func:`begin` and :func:`end` in the same thread:

* The wait for the answer gets only what is left of the timeout after
  publishing, so a call whose request was published in time returns or
  raises ``MessagingTimeout`` within its timeout.
* Nothing is published once the deadline has passed, and the driver stops
  reconnecting for the call at its first reconnection attempt after the
  deadline; the call then raises :class:`DeadlinePassed` (a
  ``MessagingTimeout``). While the broker is unreachable, a call so ends
  at most one reconnection pause after its deadline: kombu's wait between
  attempts (at most ``[oslo_messaging_rabbit] rabbit_interval_max``) plus
  ``kombu_reconnect_delay`` and ``kombu_reconnect_splay``
  (:func:`reconnect_pause_bound`).
* Calls made without a deadline (plain oslo.messaging clients sharing the
  transport, explicit timeouts, casts) behave exactly as before.

Other drivers are left as they are: :func:`install` does nothing for them.
"""

import threading
import time

import oslo_messaging
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._drivers import common as rpc_common
from oslo_messaging._drivers import impl_rabbit

from tacker_rpc import compat

_CURRENT = threading.local()
_CURRENT.deadline = None


class DeadlinePassed(oslo_messaging.MessagingTimeout):
    """A call's deadline passed before its request could be published."""


class _Expired(rpc_common.Timeout):
    # Raised inside the driver: oslo.messaging's Connection.ensure passes
    # its own Timeout through without logging it as a publishing failure
    # (before 18.3.1, through compat.ensure_error_callback).
    pass


def begin(timeout):
    """Start a deadline ``timeout`` seconds from now for this thread's
    next call. A timeout of 0 (calls that do not wait) sets none."""
    _CURRENT.deadline = time.monotonic() + timeout if timeout > 0 else None


def end():
    """Forget this thread's deadline."""
    _CURRENT.deadline = None


def expired_as_timeout(exc):
    """The :class:`DeadlinePassed` a caller sees for the driver's internal
    expiry ``exc``, or None when ``exc`` is not one."""
    if isinstance(exc, _Expired):
        return DeadlinePassed(
            "the call's deadline passed before its request could be "
            "published (the broker was unreachable)")
    return None


def _remaining():
    deadline = getattr(_CURRENT, "deadline", None)
    if deadline is None:
        return None
    return deadline - time.monotonic()


def _raise_if_passed():
    left = _remaining()
    if left is not None and left <= 0:
        raise _Expired(info="deadline passed")


def reconnect_pause_bound(conf):
    """The longest pause, in seconds, between two reconnection attempts of
    the rabbit driver configured by ``conf``: how far past its deadline a
    call may end while the broker is unreachable."""
    rabbit = conf.oslo_messaging_rabbit
    return (rabbit.rabbit_interval_max + rabbit.kombu_reconnect_delay
            + rabbit.kombu_reconnect_splay)


class _DeadlineReplyWaiter(amqpdriver.ReplyWaiter):
    """Waits for an answer no longer than what is left of the deadline."""

    def wait(self, msg_id, timeout, call_monitor_timeout, reply_q):
        left = _remaining()
        if left is not None and (timeout is None or left < timeout):
            timeout = max(left, 0.0)
        return super().wait(msg_id, timeout, call_monitor_timeout, reply_q)


class _DeadlineConnection(impl_rabbit.Connection):
    """Publishes nothing, and stops reconnecting, once the deadline of the
    calling thread has passed."""

    def ensure(self, method, retry=None, recoverable_error_callback=None,
               error_callback=None, timeout_is_error=True):
        if getattr(_CURRENT, "deadline", None) is None:
            return super().ensure(method, retry, recoverable_error_callback,
                                  error_callback, timeout_is_error)

        def on_recoverable_error(exc):
            _raise_if_passed()
            if recoverable_error_callback is not None:
                recoverable_error_callback(exc)

        return super().ensure(
            method, retry, on_recoverable_error,
            compat.ensure_error_callback(error_callback, _Expired),
            timeout_is_error)

    def _publish(self, *args, **kwargs):
        _raise_if_passed()
        return super()._publish(*args, **kwargs)


class _DeadlineDriverMixin:
    def _get_reply_q(self):
        reply_q = super()._get_reply_q()
        if type(self._waiter) is amqpdriver.ReplyWaiter:
            self._waiter.__class__ = _DeadlineReplyWaiter
        return reply_q


_driver_classes = {}


def install(transport):
    """Make ``transport`` honour the deadlines of :func:`begin`.

    Idempotent. Leans on oslo.messaging's AMQP driver internals (its
    ``_get_reply_q`` and ``_waiter``, its connection pool's
    ``connection_cls`` and ``_items``, and ``impl_rabbit.Connection``'s
    ``ensure`` and ``_publish``), because oslo.messaging offers no way to
    bound publishing by time; tests/unit/test_private_hooks.py names each.
    A transport of another driver, or of a driver that enforces the
    deadline itself (``enforces_call_deadline``, as tacker_rpc's
    lean-rabbit driver), is left as it is.
    """
    driver = getattr(transport, "_driver", None)
    if (not isinstance(driver, amqpdriver.AMQPDriverBase)
            or isinstance(driver, _DeadlineDriverMixin)
            or getattr(driver, "enforces_call_deadline", False)):
        return
    pool = driver._connection_pool
    if pool.connection_cls is impl_rabbit.Connection:
        pool.connection_cls = _DeadlineConnection
        for _, connection in list(pool._items):
            if type(connection) is impl_rabbit.Connection:
                connection.__class__ = _DeadlineConnection
    cls = type(driver)
    if cls not in _driver_classes:
        _driver_classes[cls] = type(cls.__name__, (_DeadlineDriverMixin, cls),
                                    {"__module__": __name__})
    driver.__class__ = _driver_classes[cls]
