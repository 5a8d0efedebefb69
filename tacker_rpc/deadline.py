"""Whole-call deadlines on oslo.messaging's AMQP drivers.

oslo.messaging spends a call's timeout twice: once publishing the request
(while the driver reconnects to an unreachable broker, without limit when
``retry`` is None), and then again, in full, waiting for the answer. Worse,
some of its waits have no bound at all: creating a pooled connection
retries forever, the AMQP handshake with a frozen broker or across a link
that went silent waits for the connection timeout at each attempt, a
publish on a connection the broker blocked (a memory alarm) waits for its
confirm, and a connection whose heartbeat thread is reconnecting is locked
until it succeeds. This module makes a call end at its deadline whatever
the driver waits on.

What a caller may rely on, for a call made through :func:`call_within` on
a transport prepared by :func:`install` (the rabbit driver and its
in-memory ``kombu+memory`` form):

* The call returns or raises within its timeout plus one reconnection
  pause (:func:`reconnect_pause_bound`: kombu's wait between attempts, at
  most ``[oslo_messaging_rabbit] rabbit_interval_max``, plus
  ``kombu_reconnect_delay`` and ``kombu_reconnect_splay``), whatever the
  broker or the link does. When the driver is still busy then (connecting,
  publishing, waiting for a confirm), the caller gets
  :class:`DeadlinePassed` (a ``MessagingTimeout``) and the driver's work
  goes on alone in a worker thread, under the same deadline: it publishes
  nothing once the deadline has passed, stops reconnecting at its first
  attempt after it, and gives back the pooled connection it took. A request
  published before the deadline may still be handled by a server, as with
  any call that timed out; nothing is published twice.
* The wait for the answer gets only what is left of the timeout after
  publishing, so a call whose request was published in time returns or
  raises ``MessagingTimeout`` within its timeout.
* Creating a connection for a call tries no longer than the call's
  deadline, each attempt (TCP connect and AMQP handshake) no longer than
  what is left of it, and logs one warning per call instead of an error at
  every attempt.
* Calls made without a deadline (plain oslo.messaging clients sharing the
  transport, explicit timeouts, casts) behave exactly as before, in the
  caller's thread.

Other drivers are left as they are: :func:`install` does nothing for them,
and :func:`call_within` runs their calls in the caller's thread.
"""

import collections
import contextvars
import logging
import os
import queue
import threading
import time

import kombu.exceptions
import oslo_messaging
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._drivers import common as rpc_common
from oslo_messaging._drivers import impl_rabbit

from tacker_rpc import compat

LOG = logging.getLogger(__name__)

#: The most threads :func:`call_within` runs calls on at once; a call
#: finding them all busy waits for one (its deadline running).
MAX_WORKERS = 64
#: A worker thread idle this many seconds ends.
IDLE_SECONDS = 60.0

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


def call_within(transport, function, timeout):
    """``function()`` (a call on ``transport``) under a deadline
    ``timeout`` seconds from now; its result, or the exception it raised.

    On a transport prepared by :func:`install`, ``function`` runs in a
    worker thread and the caller waits for it no longer than ``timeout``
    plus :func:`reconnect_pause_bound`; then it raises
    :class:`DeadlinePassed` while ``function`` goes on alone under the
    deadline (the module's docstring says what it may still do). Elsewhere
    it runs in the caller's thread. A ``timeout`` of 0 sets no deadline.
    """
    driver = getattr(transport, "_driver", None)
    if timeout <= 0 or not isinstance(driver, _DeadlineDriverMixin):
        begin(timeout)
        try:
            return function()
        finally:
            end()
    task = _Task(contextvars.copy_context().run, function,
                 time.monotonic() + timeout)
    _WORKERS.submit(task)
    if not task.done.acquire(
            timeout=timeout + reconnect_pause_bound(transport.conf)):
        raise DeadlinePassed(
            "the call's deadline passed while the driver was still "
            "connecting or publishing (the broker or the link to it does "
            "not respond)")
    if task.error is not None:
        raise task.error
    return task.result


class _Task:
    __slots__ = ("run", "function", "deadline", "done", "result", "error")

    def __init__(self, run, function, deadline):
        self.run = run
        self.function = function
        self.deadline = deadline
        self.done = threading.Lock()
        self.done.acquire()
        self.result = self.error = None

    def __call__(self):
        _CURRENT.deadline = self.deadline
        try:
            # A call that waited for a worker past its deadline: the caller
            # is gone, so nothing is sent.
            _raise_if_passed()
            self.result = self.run(self.function)
        except BaseException as exc:
            self.error = exc
        finally:
            _CURRENT.deadline = None
            self.done.release()


class _Workers:
    """Daemon threads for :func:`call_within`: at most :data:`MAX_WORKERS`,
    started when every one is busy, each ending after :data:`IDLE_SECONDS`
    idle. Daemons, so that a call abandoned on a frozen broker never holds
    up the interpreter's exit."""

    def __init__(self):
        self._pid = None

    def _reset(self):
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._idle = []  # the inboxes of idle threads, the latest last
        self._backlog = collections.deque()
        self._threads = 0

    def submit(self, task):
        if self._pid != os.getpid():
            # First use, or the first in a child process: the parent's
            # threads do not exist here.
            self._reset()
        with self._lock:
            if self._idle:
                inbox = self._idle.pop()
            elif self._threads < MAX_WORKERS:
                self._threads += 1
                inbox = None
            else:
                self._backlog.append(task)
                return
        if inbox is None:
            threading.Thread(target=self._work, args=(task,), daemon=True,
                             name="tacker-rpc-call").start()
        else:
            inbox.put(task)

    def _work(self, task):
        inbox = queue.SimpleQueue()
        while True:
            task()
            with self._lock:
                if self._backlog:
                    task = self._backlog.popleft()
                    continue
                self._idle.append(inbox)
            try:
                task = inbox.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        self._threads -= 1
                        return
                # A caller took this thread just now: its task is coming.
                task = inbox.get()


_WORKERS = _Workers()


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

    def ensure_connection(self):
        """Connect (the pool creating this connection, or the heartbeat
        thread reconnecting it), within the deadline of the calling thread
        when it has one: each attempt gets no more than what is left of it,
        the pause between attempts grows as oslo.messaging's does, and one
        warning is logged per call rather than an error per attempt."""
        if getattr(_CURRENT, "deadline", None) is None:
            return super().ensure_connection()
        kombu_connection = self.connection
        retries = self.max_retries
        connect_timeout = kombu_connection.connect_timeout
        pause = self.interval_start
        failures = 0
        # One attempt per call of oslo.messaging's ensure_connection: the
        # attempts are counted and paced here.
        self.max_retries = 0
        try:
            while True:
                kombu_connection.connect_timeout = _within(connect_timeout)
                try:
                    return super().ensure_connection()
                except kombu.exceptions.OperationalError as exc:
                    failures += 1
                    if failures == 1:
                        LOG.warning("Cannot connect to the message broker "
                                    "for a call: %s; trying again until "
                                    "its deadline", exc)
                    if retries is not None and failures > retries:
                        raise
                # Another host of the URL, if it lists several.
                kombu_connection.maybe_switch_next()
                time.sleep(_within(pause))
                pause = min(pause + self.interval_stepping,
                            self.interval_max)
        finally:
            self.max_retries = retries
            kombu_connection.connect_timeout = connect_timeout


def _within(seconds):
    """``seconds``, or what is left of this thread's deadline when less;
    raises the internal expiry when nothing is left."""
    _raise_if_passed()
    left = _remaining()
    if left is None:
        return seconds
    # None, kombu's "no limit", is what is left.
    return left if seconds is None else min(seconds, left)


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
