"""How per-method call timeouts evolve: the backoff policy.

This module is policy only; it never sends a message. The client
(:mod:`tacker_rpc.client`) asks a :class:`TimeoutTable` for a
:class:`CallAttempt` (the timeout to use and whether the answer's latency
may be learned), makes the call, and reports back whether it timed out or
how long the answer took.

The rules, for one method (a :class:`CallKey`: target topic, namespace,
method):

* A method seen for the first time starts at ``default_timeout`` (the
  ``rpc_response_timeout`` option), or at the cap of
  :meth:`TimeoutTable.set_max_timeout` when that is lower.
* Growth, as in tacker and neutron: a ``MessagingTimeout`` after waiting
  ``t`` seconds sets the timeout to ``min(2 * t, ceiling)`` when that is
  more than the current one (so a burst of callers that timed out with the
  same value doubles it once). The ceiling is ``max_timeout``, further
  capped by ``set_max_timeout``. The caller then pauses a random splay in
  ``[0, min(t, default_timeout, max_splay)]``.
* Learning: the latency of every *measured* answer feeds an estimator in the
  manner of TCP's retransmission timer (RFC 6298): a smoothed latency
  ``srtt`` and its variation ``rttvar``, with the RFC's gains 1/8 and 1/4.
  As Karn's algorithm does for TCP retransmissions, a call started while
  the method was in a timeout streak (its last outcome was a timeout) is
  not measured: its latency tells how long the outage or the stall lasted,
  not what the method needs. Its answer ends the streak and changes no
  timeout. As Linux's TCP estimator does (the Eifel idea), an answer faster
  than ``srtt`` lets the variation decay instead of raising it: a latency
  that falls is good news and must not lengthen the timeout.
* Recovery (unless ``recovery`` is off): after a measured answer, a timeout
  above ``target = min(ceiling, max(default_timeout, latency_multiple *
  (srtt + 4 * rttvar)))`` comes down to ``max(target, timeout /``
  :data:`RECOVERY_DIVISOR` ``)``. So it is never below the default nor
  below a safe multiple of what the method needs. With the default options
  (ceiling ten times the default, divisor 4) a method that answers fast is
  back at the default within 3 answers of the ceiling: the unmeasured one
  that ends the streak, then two steps (10x, 2.5x, 1x). A method that
  legitimately needs 40 s with a 10 s default keeps about 80 s and does not
  flap. Answers never raise a timeout; only timeouts do.
* Nothing else (other exceptions, explicit timeouts) touches the table.
"""

import copy
import dataclasses
import logging
import random
import threading
import time
import typing

LOG = logging.getLogger(__name__)

#: A single answer lowers a grown timeout by at most this factor.
RECOVERY_DIVISOR = 4.0

# RFC 6298 section 2: gains of the smoothed round trip and of its variation,
# and the weight of the variation in the retransmission timeout.
_SRTT_GAIN = 1 / 8
_RTTVAR_GAIN = 1 / 4
_RTTVAR_WEIGHT = 4


@dataclasses.dataclass(frozen=True)
class BackoffSettings:
    """The knobs of the policy, read from configuration by the client.

    :param default_timeout: where every method starts and the floor of
        recovery (``rpc_response_timeout``), in seconds. 0, as in
        oslo.messaging, means calls do not wait for an answer: every call
        times out at once, nothing grows and no caller pauses.
    :param max_timeout: ceiling of growth (``rpc_response_max_timeout``).
    :param recovery: whether answers bring a grown timeout back down.
    :param max_splay: upper bound of the pause after a timeout; 0 disables it.
    :param latency_multiple: margin of recovery over the learned latency.
    """

    default_timeout: float
    max_timeout: float
    recovery: bool = True
    max_splay: float = float("inf")
    latency_multiple: float = 2.0

    def __post_init__(self):
        if not self.default_timeout >= 0:
            raise ValueError("default_timeout must be >= 0, got %r"
                             % (self.default_timeout,))
        if not self.max_timeout >= 0:
            raise ValueError("max_timeout must be >= 0, got %r"
                             % (self.max_timeout,))
        if self.max_splay < 0:
            raise ValueError("max_splay must be >= 0, got %r"
                             % (self.max_splay,))
        if self.latency_multiple < 1:
            raise ValueError("latency_multiple must be >= 1, got %r"
                             % (self.latency_multiple,))


class CallKey(typing.NamedTuple):
    """What a learned timeout belongs to: target topic, namespace, method."""

    topic: str
    namespace: typing.Optional[str]
    method: str

    def __str__(self):
        if self.namespace:
            return "%s:%s.%s" % (self.topic, self.namespace, self.method)
        return "%s:%s" % (self.topic, self.method)


class CallAttempt(typing.NamedTuple):
    """What :meth:`TimeoutTable.start_call` tells the caller of one call.

    ``timeout`` is the timeout to use, in seconds. ``measured`` says whether
    the answer's latency may feed the estimator; pass it back to
    :meth:`TimeoutTable.record_success`.
    """

    timeout: float
    measured: bool


@dataclasses.dataclass(frozen=True)
class TimeoutChange:
    """One change of a method's timeout, as passed to observers.

    ``reason`` is ``"timeout"`` (growth after MessagingTimeout),
    ``"recovery"`` (an answer brought it down) or ``"cap"``
    (:meth:`TimeoutTable.set_max_timeout`). ``default_timeout`` is the
    ``rpc_response_timeout`` of the caller that caused the change, so
    ``new_timeout <= default_timeout`` means "back to normal".
    """

    key: CallKey
    old_timeout: float
    new_timeout: float
    reason: str
    default_timeout: float


@dataclasses.dataclass(frozen=True)
class MethodSnapshot:
    """The learned state of one method at the time of the snapshot.

    ``timeout`` is what the next call will use and ``default_timeout`` where
    it started (``rpc_response_timeout``). ``latency`` and
    ``latency_variation`` (seconds: RFC 6298's ``srtt`` and ``rttvar``) are
    None until a measured answer arrived. ``calls`` counts finished calls,
    answered or timed out; ``timeouts`` the ``MessagingTimeout`` among
    them. ``last_change`` is the table clock's value (``time.time()`` for
    the process-wide table) of the last change of ``timeout``, or None when
    it never changed from where it started.
    """

    key: CallKey
    timeout: float
    latency: typing.Optional[float]
    latency_variation: typing.Optional[float]
    calls: int
    timeouts: int
    last_change: typing.Optional[float]
    default_timeout: float

    def as_dict(self):
        """A JSON-friendly dict: the key as its string form plus ``topic``,
        ``namespace`` and ``method``, and every other field as it is."""
        values = dataclasses.asdict(self)
        values["key"] = str(self.key)
        values.update(self.key._asdict())
        return values


class _MethodState:
    __slots__ = ("timeout", "default_timeout", "srtt", "rttvar", "calls",
                 "timeouts", "last_change", "in_timeout_streak")

    def __init__(self, timeout, default_timeout):
        self.timeout = timeout
        self.default_timeout = default_timeout
        self.srtt = None
        self.rttvar = None
        self.calls = 0
        self.timeouts = 0
        self.last_change = None
        self.in_timeout_streak = False

    def learn(self, latency):
        """RFC 6298 section 2, with a falling latency not raising rttvar."""
        if self.srtt is None:
            self.srtt = latency
            self.rttvar = latency / 2
            return
        deviation = abs(self.srtt - latency) if latency > self.srtt else 0.0
        self.rttvar += _RTTVAR_GAIN * (deviation - self.rttvar)
        self.srtt += _SRTT_GAIN * (latency - self.srtt)


class TimeoutTable:
    """Learned per-method timeouts, safe to share between threads.

    :param rng: source of the splay (a ``random.Random``); seed it for
        reproducible runs.
    :param clock: clock stamped on changes (``time.time``); a simulation
        passes its own.
    """

    def __init__(self, rng=None, clock=time.time):
        self._rng = rng or random.Random()
        self._clock = clock
        self._lock = threading.Lock()
        self._states = {}
        self._cap = None
        self._observers = []

    def timeout_for(self, key, settings):
        """The timeout, in seconds, the next call of ``key`` should use."""
        return self.start_call(key, settings).timeout

    def start_call(self, key, settings):
        """Begin a call of ``key``: its timeout and whether it is measured.

        :returns: a :class:`CallAttempt`. A call started while ``key`` is in
            a timeout streak is not measured (Karn's rule). Nothing is
            recorded: a call that ends neither answered nor timed out (a
            remote exception, say) leaves no trace in the table.
        """
        with self._lock:
            state = self._states.get(key)
            if state is None:
                return CallAttempt(self._start_timeout(settings), True)
            state.default_timeout = settings.default_timeout
            return CallAttempt(state.timeout, not state.in_timeout_streak)

    def record_timeout(self, key, used_timeout, settings):
        """Note that a call of ``key`` with ``used_timeout`` timed out.

        :returns: the splay, in seconds, the caller should pause before it
            raises the ``MessagingTimeout``.
        """
        with self._lock:
            state = self._state(key, settings)
            state.calls += 1
            state.timeouts += 1
            state.in_timeout_streak = True
            new = min(used_timeout * 2, self._ceiling(settings))
            change = None
            if new > state.timeout:
                change = self._change(state, key, new, "timeout")
        if change:
            LOG.warning("RPC method %s timed out after %.3gs; its timeout "
                        "grows from %.3gs to %.3gs (ceiling %.3gs)", key,
                        used_timeout, change.old_timeout, change.new_timeout,
                        self._ceiling(settings))
            self._notify(change)
        bound = min(used_timeout, settings.default_timeout,
                    settings.max_splay)
        return self._rng.uniform(0, bound) if bound > 0 else 0.0

    def record_success(self, key, latency, settings, measured=True):
        """Note that a call of ``key`` was answered after ``latency`` s.

        :param measured: the ``measured`` flag of the call's
            :class:`CallAttempt`. An unmeasured answer ends the timeout
            streak and changes nothing else.
        """
        with self._lock:
            state = self._state(key, settings)
            state.calls += 1
            state.in_timeout_streak = False
            if not measured:
                return
            state.learn(latency)
            if not settings.recovery:
                return
            needed = settings.latency_multiple * (
                state.srtt + _RTTVAR_WEIGHT * state.rttvar)
            target = min(max(settings.default_timeout, needed),
                         self._ceiling(settings))
            if state.timeout <= target:
                return
            new = max(target, state.timeout / RECOVERY_DIVISOR)
            change = self._change(state, key, new, "recovery")
        if new <= settings.default_timeout:
            LOG.info("RPC method %s answers again; its timeout is back to "
                     "the default %.3gs", key, new)
        else:
            LOG.debug("RPC method %s answered in %.3gs; its timeout comes "
                      "down from %.3gs to %.3gs", key, latency,
                      change.old_timeout, new)
        self._notify(change)

    def set_max_timeout(self, max_timeout):
        """Cap every current and future timeout at ``max_timeout`` seconds.

        Lower timeouts are kept as they are.

        :raises ValueError: when ``max_timeout`` is not a number above 0.
        """
        if isinstance(max_timeout, bool) or not isinstance(
                max_timeout, (int, float)) or not max_timeout > 0:
            raise ValueError("max_timeout must be a number of seconds "
                             "above 0, got %r" % (max_timeout,))
        changes = []
        with self._lock:
            self._cap = float(max_timeout)
            for key, state in self._states.items():
                if state.timeout > self._cap:
                    changes.append(self._change(state, key, self._cap, "cap"))
        for change in changes:
            self._notify(change)

    def snapshot(self):
        """The learned state of every method seen, as a list of
        :class:`MethodSnapshot` sorted by key."""
        with self._lock:
            items = sorted(self._states.items(), key=lambda kv: str(kv[0]))
            return [MethodSnapshot(key, s.timeout, s.srtt, s.rttvar, s.calls,
                                   s.timeouts, s.last_change,
                                   s.default_timeout)
                    for key, s in items]

    def reset(self):
        """Forget every learned timeout and the cap of set_max_timeout.

        Observers stay registered.
        """
        with self._lock:
            self._states.clear()
            self._cap = None

    def save_state(self):
        """An opaque copy of everything the table holds (learned timeouts,
        the cap of set_max_timeout, observers), for :meth:`restore_state`.
        """
        with self._lock:
            return ({key: copy.copy(state)
                     for key, state in self._states.items()},
                    self._cap, list(self._observers))

    def restore_state(self, saved):
        """Put back what :meth:`save_state` returned, dropping whatever was
        learned, capped or observed since."""
        states, cap, observers = saved
        with self._lock:
            self._states = {key: copy.copy(state)
                            for key, state in states.items()}
            self._cap = cap
            self._observers[:] = observers

    def add_observer(self, observer):
        """Call ``observer(change)`` with a :class:`TimeoutChange` after
        every change of a timeout, outside the table's lock, in the thread
        of the call that caused it. An observer that raises is logged and
        does not disturb the call."""
        self._observers.append(observer)

    def remove_observer(self, observer):
        """Stop calling an observer added by :meth:`add_observer`.

        :raises ValueError: when ``observer`` was not added.
        """
        self._observers.remove(observer)

    # The helpers below run with self._lock held.

    def _state(self, key, settings):
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _MethodState(
                self._start_timeout(settings), settings.default_timeout)
        else:
            state.default_timeout = settings.default_timeout
        return state

    def _start_timeout(self, settings):
        if self._cap is None:
            return settings.default_timeout
        return min(settings.default_timeout, self._cap)

    def _ceiling(self, settings):
        if self._cap is None:
            return settings.max_timeout
        return min(settings.max_timeout, self._cap)

    def _change(self, state, key, new_timeout, reason):
        change = TimeoutChange(key, state.timeout, new_timeout, reason,
                               state.default_timeout)
        state.timeout = new_timeout
        state.last_change = self._clock()
        return change

    def _notify(self, change):
        for observer in list(self._observers):
            try:
                observer(change)
            except Exception:
                LOG.exception("Backoff observer %r failed on %s",
                              observer, change)


#: The table shared by every client of this process, as in tacker.
TIMEOUTS = TimeoutTable()


def get_backoff_snapshot():
    """The learned timeouts of this process, JSON-friendly.

    :returns: a list, sorted by key, of one dict per method called with
        backoff since the last :func:`tacker_rpc.rpc.cleanup` and answered
        or timed out at least once (a call ending otherwise, in a remote
        exception say, is not counted), with the
        keys ``key`` (``"topic:namespace.method"``), ``topic``,
        ``namespace``, ``method``, ``timeout``, ``default_timeout``,
        ``latency`` and ``latency_variation`` (seconds, None until a
        measured answer), ``calls``, ``timeouts`` and ``last_change`` (a
        ``time.time()`` value or None). ``json.dumps`` takes it as it is.
    """
    return [entry.as_dict() for entry in TIMEOUTS.snapshot()]


def add_backoff_observer(observer):
    """Call ``observer(change)`` on every change of a learned timeout.

    ``change`` is a :class:`TimeoutChange`. This is the hook to export the
    backoff as metrics; see doc/backoff.rst for an example.
    """
    TIMEOUTS.add_observer(observer)


def remove_backoff_observer(observer):
    """Stop calling an observer added by :func:`add_backoff_observer`."""
    TIMEOUTS.remove_observer(observer)
