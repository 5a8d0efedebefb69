"""Drive a bounded stream of calls and casts and account for every one.

:class:`Traffic` runs client threads, each alternating a ``logged_call`` and
a ``logged_cast`` of :class:`~tests.functional.faults.managers.
JournalManager`, every message carrying a unique token. Each call ends as
answered, timed out (``MessagingTimeout``) or failed (any other error);
each cast as sent or failed. :func:`read_journals` tells what the servers
received, so a test can check that nothing was lost or duplicated.
"""

import collections
import dataclasses
import glob
import os
import sys
import threading
import time
import traceback
import typing

import oslo_messaging

from tacker_rpc import backoff
from tacker_rpc import deadline
from tacker_rpc import opts

#: What a loaded two-core machine may add between a timed wait's expiry and
#: the waiting thread running again. The toolkit promises nothing about the
#: operating system's scheduling; this is the only allowance a call bound
#: gets beyond the promise.
SCHEDULING_ALLOWANCE = 0.5


@dataclasses.dataclass
class CallOutcome:
    token: str
    started: float
    ended: float
    outcome: str  # "answered", "timed_out" or "failed"
    error: typing.Optional[str] = None

    @property
    def duration(self):
        return self.ended - self.started


class Traffic:
    """Calls and casts from ``threads`` threads, ``per_thread`` of each.

    :param client: an RPC client of the servers' topic.
    :param pause: seconds each thread waits between two rounds, so that the
        stream lasts long enough for a fault to land in its middle.
    :param call_seconds: how long the server sleeps in each call.
    :param casts: send a cast after each call.
    """

    def __init__(self, client, threads=6, per_thread=50, pause=0.02,
                 call_seconds=0, casts=True, name="s"):
        self.client = client
        self.threads = threads
        self.per_thread = per_thread
        self.pause = pause
        self.call_seconds = call_seconds
        self.casts = casts
        self.name = name
        self.calls = []
        self.casts_sent = []
        self.casts_failed = []
        self._lock = threading.Lock()
        self._answered = 0
        self._progress = threading.Condition(self._lock)
        self._workers = []
        self._peak_timeout = 0.0

    def start(self):
        backoff.TIMEOUTS.add_observer(self._watch_timeouts)
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,),
                                      daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def join(self, deadline):
        """Wait until every thread is done; raise if one is still running
        after ``deadline`` seconds (a caller hangs)."""
        end = time.monotonic() + deadline
        for worker in self._workers:
            worker.join(max(0, end - time.monotonic()))
        backoff.TIMEOUTS.remove_observer(self._watch_timeouts)
        hung = [worker for worker in self._workers if worker.is_alive()]
        if hung:
            frames = sys._current_frames()
            raise AssertionError(
                "%d client threads still blocked after %ss; the first in:\n%s"
                % (len(hung), deadline, "".join(traceback.format_stack(
                    frames[hung[0].ident]))))
        return self

    def wait_answered(self, count, deadline=120):
        """Block until ``count`` calls were answered."""
        with self._progress:
            if not self._progress.wait_for(
                    lambda: self._answered >= count, deadline):
                raise AssertionError("only %d calls answered after %ss"
                                     % (self._answered, deadline))

    @property
    def peak_timeout(self):
        """The largest learned timeout in force during the stream."""
        return self._peak_timeout

    def _watch_timeouts(self, change):
        self._peak_timeout = max(self._peak_timeout, change.new_timeout)

    def _run(self, index):
        for number in range(self.per_thread):
            token = "%s-%d-%d" % (self.name, index, number)
            self._call(token)
            if self.casts:
                self._cast(token)
            time.sleep(self.pause)

    def _call(self, token):
        started = time.monotonic()
        error = None
        try:
            result = self.client.call({}, "logged_call", token=token,
                                      seconds=self.call_seconds)
            if result == token:
                outcome = "answered"
            else:
                outcome, error = "failed", "wrong answer %r" % (result,)
        except oslo_messaging.MessagingTimeout:
            outcome = "timed_out"
        except Exception as exc:
            outcome, error = "failed", "%s: %s" % (type(exc).__name__, exc)
        record = CallOutcome(token, started, time.monotonic(), outcome, error)
        with self._progress:
            self.calls.append(record)
            if outcome == "answered":
                self._answered += 1
                self._progress.notify_all()

    def _cast(self, token):
        try:
            self.client.cast({}, "logged_cast", token=token)
        except Exception as exc:
            with self._lock:
                self.casts_failed.append((token, repr(exc)))
            return
        with self._lock:
            self.casts_sent.append(token)

    def count(self, outcome):
        return sum(1 for call in self.calls if call.outcome == outcome)

    def errors(self):
        return [call.error for call in self.calls if call.outcome == "failed"]

    def first_answer_after(self, moment):
        """Seconds from ``moment`` (a ``time.monotonic()`` value) to the
        first answer of a call sent after it, or None."""
        answers = [call.ended for call in self.calls
                   if call.outcome == "answered" and call.started >= moment]
        return min(answers) - moment if answers else None

    def longest_call(self):
        return max(call.duration for call in self.calls)


def call_bound(traffic, conf, broker_unreachable):
    """The longest a call of ``traffic`` may take under the whole-call
    deadline (tacker_rpc.deadline): the largest timeout in force plus the
    splay (``rpc_backoff_max_splay``), plus, when the broker was
    unreachable during the stream, one reconnection pause of the driver
    configured by ``conf``, plus :data:`SCHEDULING_ALLOWANCE`."""
    settings = opts.backoff_settings(conf)
    bound = (max(settings.default_timeout, traffic.peak_timeout)
             + settings.max_splay + SCHEDULING_ALLOWANCE)
    if broker_unreachable:
        bound += deadline.reconnect_pause_bound(conf)
    return bound


def read_journals(directory):
    """Counters of the tokens every server journaled, per kind
    (``call``, ``reply``, ``cast``)."""
    received = collections.defaultdict(collections.Counter)
    for path in glob.glob(os.path.join(directory, "*.journal")):
        with open(path) as journal:
            for line in journal:
                kind, token, _pid = line.split()
                received[kind][token] += 1
    return received


def cast_figures(traffic, received):
    """Casts sent, received once, lost (sent, never received) and received
    more than once."""
    casts = received["cast"]
    sent = traffic.casts_sent
    return {
        "casts sent": len(sent),
        "casts not sent (error)": len(traffic.casts_failed),
        "casts received once": sum(1 for t in sent if casts[t] == 1),
        "casts lost": sum(1 for t in sent if casts[t] == 0),
        "casts received twice+": sum(1 for t in sent if casts[t] > 1),
    }


def call_figures(traffic):
    return {
        "calls sent": len(traffic.calls),
        "calls answered": traffic.count("answered"),
        "calls timed out": traffic.count("timed_out"),
        "calls failed (error)": traffic.count("failed"),
        "longest call (s)": "%.2f" % traffic.longest_call(),
    }


def stream_figures(traffic, directory):
    """Call and cast figures of a finished stream whose servers journaled
    into ``directory``, and the largest learned timeout."""
    figures = call_figures(traffic)
    figures.update(cast_figures(traffic, read_journals(directory)))
    figures["largest learned timeout (s)"] = traffic.peak_timeout
    return figures


def print_figures(title, figures):
    """Print ``figures`` (name -> value) as a two-column table."""
    width = max(len(name) for name in figures)
    rule = "=" * width + "  " + "=" * 10
    lines = ["", title, rule]
    lines += ["%-*s  %s" % (width, name, value)
              for name, value in figures.items()]
    lines.append(rule)
    print("\n".join(lines))


def bounded(function, deadline):
    """Run ``function()`` in a thread; return its result or raise its
    exception, or fail the test if it is still blocked after ``deadline``
    seconds (so a caller that hangs fails the test instead of hanging it).
    """
    outcome = {}

    def run():
        try:
            outcome["result"] = function()
        except Exception as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        raise AssertionError("caller still blocked after %ss" % deadline)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
