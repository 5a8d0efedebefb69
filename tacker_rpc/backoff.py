"""How per-method call timeouts evolve: the backoff policy.

This module is policy only; it never sends a message. The client
(:mod:`tacker_rpc.client`) asks a :class:`TimeoutTable` which timeout to use
for a call, makes the call, and reports back whether it timed out or how
long the answer took.

The rules, for one method (a :class:`CallKey`):

* A method seen for the first time starts at ``default_timeout`` (the
  ``rpc_response_timeout`` option), or at the cap of
  :meth:`TimeoutTable.set_max_timeout` when that is lower.
* A ``MessagingTimeout`` doubles the timeout, up to the ceiling
  (``max_timeout``, further capped by ``set_max_timeout``). Callers that
  timed out with a value that was already superseded do not double it again,
  so a burst of concurrent timeouts counts as one. The caller then pauses a
  random splay in ``[0, min(expired timeout, default_timeout, max_splay)]``.
* Every answer feeds a latency estimator in the manner of TCP's
  retransmission timer (RFC 6298): a smoothed round trip ``srtt`` and its
  variation ``rttvar``. With ``recovery`` on, an answer brings a grown
  timeout down toward ``max(default_timeout, latency_multiple * (srtt + 4 *
  rttvar))``, dividing it by at most :data:`RECOVERY_DIVISOR` per answer, so
  a fast method is back at the default within a few answers while a
  slow-but-healthy method keeps a timeout safely above its latency.
* Nothing else (other exceptions, explicit timeouts) touches the table.
"""

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
        recovery (``rpc_response_timeout``), in seconds.
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
        if not self.default_timeout > 0:
            raise ValueError("default_timeout must be > 0, got %r"
                             % (self.default_timeout,))
        if not self.max_timeout > 0:
            raise ValueError("max_timeout must be > 0, got %r"
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


@dataclasses.dataclass(frozen=True)
class TimeoutChange:
    """One change of a method's timeout, as passed to observers.

    ``reason`` is ``"timeout"`` (growth after MessagingTimeout),
    ``"recovery"`` (an answer brought it down) or ``"cap"``
    (:meth:`TimeoutTable.set_max_timeout`).
    """

    key: CallKey
    old_timeout: float
    new_timeout: float
    reason: str


@dataclasses.dataclass(frozen=True)
class MethodSnapshot:
    """The learned state of one method at the time of the snapshot.

    ``latency`` and ``latency_variation`` are None until the method has
    answered once. ``last_change`` is a ``time.time()`` value, or None when
    the timeout never changed from where it started.
    """

    key: CallKey
    timeout: float
    latency: typing.Optional[float]
    latency_variation: typing.Optional[float]
    calls: int
    timeouts: int
    last_change: typing.Optional[float]

    def as_dict(self):
        """A JSON-friendly dict, with the key as its string form."""
        values = dataclasses.asdict(self)
        values["key"] = str(self.key)
        return values


class _MethodState:
    __slots__ = ("timeout", "srtt", "rttvar", "calls", "timeouts",
                 "last_change")

    def __init__(self, timeout):
        self.timeout = timeout
        self.srtt = None
        self.rttvar = None
        self.calls = 0
        self.timeouts = 0
        self.last_change = None


class TimeoutTable:
    """Learned per-method timeouts, safe to share between threads.

    :param rng: source of the splay (a ``random.Random``); seed it for
        reproducible runs.
    :param clock: wall clock stamped on changes (``time.time``).
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
        state = self._states.get(key)
        if state is None:
            with self._lock:
                state = self._state(key, settings)
        return state.timeout

    def record_timeout(self, key, used_timeout, settings):
        """Note that a call of ``key`` with ``used_timeout`` timed out.

        :returns: the splay, in seconds, the caller should pause before it
            raises the ``MessagingTimeout``.
        """
        with self._lock:
            state = self._state(key, settings)
            state.calls += 1
            state.timeouts += 1
            old = state.timeout
            change = None
            if used_timeout >= old:
                new = min(used_timeout * 2, self._ceiling(settings))
                if new > old:
                    change = self._change(state, key, new, "timeout")
        if change:
            LOG.warning("RPC method %s timed out after %.3gs; its timeout "
                        "grows to %.3gs (ceiling %.3gs)", key, used_timeout,
                        change.new_timeout, self._ceiling(settings))
            self._notify(change)
        bound = min(used_timeout, settings.default_timeout,
                    settings.max_splay)
        return self._rng.uniform(0, bound) if bound > 0 else 0.0

    def record_success(self, key, latency, settings):
        """Note that a call of ``key`` was answered after ``latency`` s."""
        with self._lock:
            state = self._state(key, settings)
            state.calls += 1
            if state.srtt is None:
                state.srtt = latency
                state.rttvar = latency / 2
            else:
                state.rttvar += _RTTVAR_GAIN * (
                    abs(state.srtt - latency) - state.rttvar)
                state.srtt += _SRTT_GAIN * (latency - state.srtt)
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
                                   s.timeouts, s.last_change)
                    for key, s in items]

    def reset(self):
        """Forget every learned timeout and the cap of set_max_timeout."""
        with self._lock:
            self._states.clear()
            self._cap = None

    def add_observer(self, observer):
        """Call ``observer(change)`` with a :class:`TimeoutChange` after
        every change of a timeout, outside the table's lock. An observer
        that raises is logged and does not disturb the call."""
        self._observers.append(observer)

    def remove_observer(self, observer):
        """Stop calling an observer added by :meth:`add_observer`."""
        self._observers.remove(observer)

    # The helpers below run with self._lock held.

    def _state(self, key, settings):
        state = self._states.get(key)
        if state is None:
            start = settings.default_timeout
            if self._cap is not None:
                start = min(start, self._cap)
            state = self._states[key] = _MethodState(start)
        return state

    def _ceiling(self, settings):
        if self._cap is None:
            return settings.max_timeout
        return min(settings.max_timeout, self._cap)

    def _change(self, state, key, new_timeout, reason):
        change = TimeoutChange(key, state.timeout, new_timeout, reason)
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
