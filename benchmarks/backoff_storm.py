"""A retry storm, simulated: three timeout policies side by side.

    python benchmarks/backoff_storm.py [--clients 2000] [--seed 1]
        [--json doc/backoff_storm.json] [--plot doc/backoff_storm.png]

A deterministic discrete-event simulation (one heapq event loop, seeded,
pure Python, no broker) of ``--clients`` client processes calling one RPC
method served by a pool of workers of fixed capacity, through five phases:

* normal load (half the pool's capacity);
* overload: clients call ten times as often, five times what the pool
  can serve;
* normal load again;
* outage: every server process is dead;
* normal load again, then a dead-server probe: the servers die for good,
  and each caller's first call shows how long it now waits for its
  ``MessagingTimeout``.

The model, as oslo.messaging on RabbitMQ behaves:

* Each client is a process with one thread and its own timeout state. It
  calls, waits for the answer or its timeout, thinks (exponential time)
  after an answer, and after a ``MessagingTimeout`` retries the same work
  at once, after the policy's pause (splay), forever.
* A call is published with a message TTL equal to its timeout (oslo.messaging
  sets ``expiration=timeout``). While servers are up, RabbitMQ pushes every
  message to them at once (``rabbit_qos_prefetch_count = 0``), so requests
  wait in the servers' own queue and are processed even after their caller
  gave up: that is wasted work. A request is acknowledged when a worker
  takes it; when the servers die, the ones not yet taken go back to the
  broker, and those being processed are lost. While servers are down,
  messages wait in the broker, which drops them once their TTL expires.
* The pool has ``clients / 200`` workers; each request takes an
  exponential time of mean 0.1 s, so the pool serves ``clients / 20``
  requests a second.

The three policies, with ``rpc_response_timeout`` 10 s and the ceiling at
ten times that:

* ``fixed``: plain oslo.messaging, every call waits 10 s, no pause.
* ``never-shrink``: tacker's and neutron's BackingOffClient, modelled here:
  after a timeout of ``t`` the method's timeout becomes ``min(2 t,
  ceiling)`` when that is larger, a pause of ``uniform(0, min(timeout,
  10 s))``, and the timeout never comes back down.
* ``adaptive``: tacker_rpc's policy: each client owns a real
  :class:`tacker_rpc.backoff.TimeoutTable` driven by the simulated clock and
  a seeded random source, with the default options.

It prints a table, writes the numbers and the time series as JSON, and a
PNG plot of the mean timeout and the goodput over time (needs matplotlib:
``pip install -e .[bench]``).
"""

import argparse
import collections
import dataclasses
import heapq
import itertools
import json
import logging
import random
import statistics
import sys
import time

from tacker_rpc import backoff

KEY = backoff.CallKey("conductor", None, "report_state")

# Event kinds, in the heap as (time, sequence, kind, payload).
_CALL, _RETRY, _DEADLINE, _DONE, _SAMPLE, _SERVERS = range(6)

# Request states.
_WAITING, _ANSWERED, _ABANDONED = range(3)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """The workload; every time is in simulated seconds."""

    clients: int = 2000
    seed: int = 1
    default_timeout: float = 10.0
    ceiling_factor: float = 10.0
    clients_per_worker: int = 200
    service_time: float = 0.1
    think_normal: float = 40.0
    think_overload: float = 4.0
    overload: tuple = (300.0, 600.0)
    outage: tuple = (1200.0, 1500.0)
    probe_start: float = 2100.0
    end: float = 2400.0
    sample_every: float = 10.0

    @property
    def workers(self):
        return max(1, self.clients // self.clients_per_worker)

    @property
    def ceiling(self):
        return self.default_timeout * self.ceiling_factor

    def think_time(self, now):
        if self.overload[0] <= now < self.overload[1]:
            return self.think_overload
        return self.think_normal

    def servers_up(self, now):
        return not (self.outage[0] <= now < self.outage[1]
                    or now >= self.probe_start)


class FixedTimeout:
    """Plain oslo.messaging: rpc_response_timeout on every call."""

    name = "fixed"
    label = "fixed timeout (plain oslo.messaging)"

    def __init__(self, scenario, rng, clock):
        self.default = scenario.default_timeout
        self.timeout_sum = scenario.default_timeout * scenario.clients
        self.grown = 0

    def start(self, client):
        return self.default, True

    def timed_out(self, client, used):
        return 0.0

    def answered(self, client, latency, measured):
        pass

    def timeout_of(self, client):
        return self.default


class NeverShrink:
    """tacker's and neutron's BackingOffClient: double, never shrink."""

    name = "never-shrink"
    label = "double, never shrink (tacker, neutron)"

    def __init__(self, scenario, rng, clock):
        self.default = scenario.default_timeout
        self.ceiling = scenario.ceiling
        self.rng = rng
        self.timeouts = [scenario.default_timeout] * scenario.clients
        self.timeout_sum = scenario.default_timeout * scenario.clients
        self.grown = 0

    def start(self, client):
        return self.timeouts[client], True

    def timed_out(self, client, used):
        current = self.timeouts[client]
        pause = self.rng.uniform(0, min(current, self.default))
        new = min(used * 2, self.ceiling)
        if new > current:
            self.timeouts[client] = new
            self.timeout_sum += new - current
            self.grown += (new > self.default) - (current > self.default)
        return pause

    def answered(self, client, latency, measured):
        pass

    def timeout_of(self, client):
        return self.timeouts[client]


class Adaptive:
    """tacker_rpc: one real TimeoutTable per client process."""

    name = "adaptive"
    label = "grow and recover (tacker_rpc)"

    def __init__(self, scenario, rng, clock):
        self.settings = backoff.BackoffSettings(
            default_timeout=scenario.default_timeout,
            max_timeout=scenario.ceiling, recovery=True,
            max_splay=scenario.default_timeout, latency_multiple=2.0)
        self.timeout_sum = scenario.default_timeout * scenario.clients
        self.grown = 0
        self.tables = []
        for _ in range(scenario.clients):
            table = backoff.TimeoutTable(rng=rng, clock=clock)
            table.add_observer(self._changed)
            self.tables.append(table)

    def _changed(self, change):
        default = change.default_timeout
        self.timeout_sum += change.new_timeout - change.old_timeout
        self.grown += ((change.new_timeout > default)
                       - (change.old_timeout > default))

    def start(self, client):
        attempt = self.tables[client].start_call(KEY, self.settings)
        return attempt.timeout, attempt.measured

    def timed_out(self, client, used):
        return self.tables[client].record_timeout(KEY, used, self.settings)

    def answered(self, client, latency, measured):
        self.tables[client].record_success(KEY, latency, self.settings,
                                           measured=measured)

    def timeout_of(self, client):
        return self.tables[client].timeout_for(KEY, self.settings)


POLICIES = (FixedTimeout, NeverShrink, Adaptive)


class _Request:
    __slots__ = ("client", "sent", "timeout", "deadline", "measured",
                 "state")

    def __init__(self, client, sent, timeout, measured):
        self.client = client
        self.sent = sent
        self.timeout = timeout
        self.deadline = sent + timeout
        self.measured = measured
        self.state = _WAITING


class Simulation:
    """One run of ``scenario`` under one policy class."""

    def __init__(self, scenario, policy_class):
        self.scenario = scenario
        self.now = 0.0
        self._events = []
        self._sequence = itertools.count()
        self._work = random.Random(scenario.seed)
        self.policy = policy_class(
            scenario, random.Random(scenario.seed + 1), self.clock)
        self._up = True
        self._epoch = 0
        self._idle = scenario.workers
        self._server_queue = collections.deque()
        self._broker_queue = collections.deque()
        self.counts = collections.Counter()
        self.series = []
        self._bin = collections.Counter()
        self.recovered_at = {}
        self.answers_to_recover = {}
        self._answers_after_outage = collections.Counter()
        self.probe_waits = {}

    def clock(self):
        return self.now

    def _at(self, when, kind, payload=None):
        heapq.heappush(self._events,
                       (when, next(self._sequence), kind, payload))

    def run(self):
        scenario = self.scenario
        for client in range(scenario.clients):
            self._at(self._work.uniform(0, scenario.think_normal), _CALL,
                     client)
        for when in (scenario.outage[0], scenario.outage[1],
                     scenario.probe_start):
            self._at(when, _SERVERS)
        step = scenario.sample_every
        for index in range(1, int(scenario.end / step) + 1):
            self._at(index * step, _SAMPLE)
        handlers = {_CALL: self._call, _RETRY: self._retry,
                    _DEADLINE: self._deadline, _DONE: self._done,
                    _SAMPLE: self._sample, _SERVERS: self._servers}
        outage_end = scenario.outage[1]
        few = scenario.clients // 100
        events = self._events
        while events:
            when, _, kind, payload = heapq.heappop(events)
            if when > scenario.end:
                break
            self.now = when
            handlers[kind](payload)
            if when >= outage_end and len(self.recovered_at) < 2:
                grown = self.policy.grown
                if grown <= few:
                    self.recovered_at.setdefault("99%", when - outage_end)
                if grown == 0:
                    self.recovered_at.setdefault("all", when - outage_end)
        return self

    # -- clients -----------------------------------------------------------

    def _call(self, client):
        timeout, measured = self.policy.start(client)
        request = _Request(client, self.now, timeout, measured)
        self.counts["calls"] += 1
        self._submit(request)
        self._at(request.deadline, _DEADLINE, request)

    def _retry(self, client):
        self.counts["retries"] += 1
        if self.scenario.overload[0] <= self.now < self.scenario.overload[1]:
            self.counts["overload_retries"] += 1
        self._call(client)

    def _deadline(self, request):
        if request.state != _WAITING:
            return
        request.state = _ABANDONED
        self.counts["timeouts"] += 1
        pause = self.policy.timed_out(request.client, request.timeout)
        if (request.sent >= self.scenario.probe_start
                and request.client not in self.probe_waits):
            self.probe_waits[request.client] = request.timeout + pause
        self._at(self.now + pause, _RETRY, request.client)

    def _answer(self, request):
        request.state = _ANSWERED
        self.counts["answers"] += 1
        self._bin["answers"] += 1
        if self.scenario.overload[0] <= self.now < self.scenario.overload[1]:
            self.counts["overload_answers"] += 1
        self.policy.answered(request.client, self.now - request.sent,
                             request.measured)
        if (self.scenario.outage[1] <= self.now < self.scenario.probe_start
                and request.client not in self.answers_to_recover):
            self._answers_after_outage[request.client] += 1
            if (self.policy.timeout_of(request.client)
                    <= self.scenario.default_timeout):
                self.answers_to_recover[request.client] = (
                    self._answers_after_outage[request.client])
        think = self._work.expovariate(
            1 / self.scenario.think_time(self.now))
        self._at(self.now + think, _CALL, request.client)

    # -- servers -----------------------------------------------------------

    def _submit(self, request):
        if not self._up:
            self._broker_queue.append(request)
        elif self._idle:
            self._serve(request)
        else:
            self._server_queue.append(request)

    def _serve(self, request):
        self._idle -= 1
        duration = self._work.expovariate(1 / self.scenario.service_time)
        self._at(self.now + duration, _DONE,
                 (self._epoch, request, duration))

    def _done(self, payload):
        epoch, request, duration = payload
        if epoch != self._epoch:
            return
        self.counts["processed"] += 1
        if request.state == _WAITING and self.now < request.deadline:
            self._answer(request)
        else:
            self.counts["wasted"] += 1
            self.counts["wasted_seconds"] += duration
        self._idle += 1
        if self._server_queue:
            self._serve(self._server_queue.popleft())

    def _servers(self, _):
        up = self.scenario.servers_up(self.now)
        self._epoch += 1
        self._idle = self.scenario.workers
        if not up:
            self._broker_queue.extendleft(reversed(self._server_queue))
            self._server_queue.clear()
            self._up = False
            return
        self._up = True
        pending, self._broker_queue = self._broker_queue, collections.deque()
        for request in pending:
            if request.deadline > self.now:
                self._submit(request)
            else:
                self.counts["expired_in_broker"] += 1

    def _sample(self, _):
        scenario = self.scenario
        self.series.append({
            "time": self.now,
            "mean_timeout": self.policy.timeout_sum / scenario.clients,
            "grown_fraction": self.policy.grown / scenario.clients,
            "goodput": self._bin["answers"] / scenario.sample_every,
        })
        self._bin.clear()

    # -- results -----------------------------------------------------------

    def summary(self):
        counts = self.counts
        waits = sorted(self.probe_waits.values())
        answers = sorted(self.answers_to_recover.values())
        all_recovered = len(answers) == self.scenario.clients
        overload = self.scenario.overload
        return {
            "policy": self.policy.name,
            "label": self.policy.label,
            "goodput": counts["answers"],
            "overload_goodput_per_s": counts["overload_answers"] / (
                overload[1] - overload[0]),
            "wasted": counts["wasted"],
            "wasted_share": counts["wasted"] / max(1, counts["processed"]),
            "wasted_server_seconds": round(counts["wasted_seconds"], 1),
            "retries": counts["retries"],
            "overload_retries": counts["overload_retries"],
            "calls": counts["calls"],
            "expired_in_broker": counts["expired_in_broker"],
            "recover_99_s": self.recovered_at.get("99%"),
            "recover_all_s": self.recovered_at.get("all"),
            "answers_to_recover_median": statistics.median(answers)
            if all_recovered else None,
            "answers_to_recover_max": answers[-1] if all_recovered
            else None,
            "probe_worst_wait_s": waits[-1] if waits else None,
            "probe_median_wait_s": statistics.median(waits) if waits
            else None,
        }


def run_all(scenario):
    """Run every policy on ``scenario``; returns their simulations."""
    logging.getLogger(backoff.__name__).setLevel(logging.ERROR)
    runs = []
    for policy_class in POLICIES:
        started = time.monotonic()
        simulation = Simulation(scenario, policy_class).run()
        simulation.wall_seconds = time.monotonic() - started
        runs.append(simulation)
    return runs


def _seconds(value):
    return "never" if value is None else "%.0f s" % value


def format_table(runs):
    """The summary of every run as a reStructuredText grid table."""
    header = ("policy", "goodput (answers)", "overload goodput",
              "wasted work", "retries (in overload)",
              "back to default after outage",
              "worst wait on a dead server after")
    rows = []
    for simulation in runs:
        result = simulation.summary()
        rows.append((
            result["policy"],
            "%d" % result["goodput"],
            "%.1f/s" % result["overload_goodput_per_s"],
            "%d (%.0f%%)" % (result["wasted"], 100 * result["wasted_share"]),
            "%d (%d)" % (result["retries"], result["overload_retries"]),
            "%s (99%%: %s)" % (_seconds(result["recover_all_s"]),
                                _seconds(result["recover_99_s"])),
            "%.0f s (median %.0f s)" % (result["probe_worst_wait_s"],
                                         result["probe_median_wait_s"]),
        ))
    widths = [max(len(str(row[i])) for row in rows + [header])
              for i in range(len(header))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells):
        return "| " + " | ".join(
            str(cell).ljust(width)
            for cell, width in zip(cells, widths, strict=True)) + " |"

    return "\n".join([rule, line(header), rule.replace("-", "=")]
                     + [item for row in rows for item in (line(row), rule)])


def plot(runs, path):
    """Write the mean timeout and the goodput over time as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    scenario = runs[0].scenario
    figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(10, 7),
                                            sharex=True)
    for simulation in runs:
        times = [point["time"] for point in simulation.series]
        top.plot(times, [p["mean_timeout"] for p in simulation.series],
                 label=simulation.policy.label)
        bottom.plot(times, [p["goodput"] for p in simulation.series],
                    label=simulation.policy.label)
    for axis in (top, bottom):
        axis.axvspan(*scenario.overload, color="orange", alpha=0.15)
        axis.axvspan(*scenario.outage, color="red", alpha=0.12)
        axis.axvspan(scenario.probe_start, scenario.end, color="grey",
                     alpha=0.15)
        axis.grid(alpha=0.3)
    top.set_ylabel("mean call timeout (s)")
    top.set_title("%d clients, %d workers (%.0f requests/s); overload "
                  "(orange), outage (red), dead-server probe (grey)"
                  % (scenario.clients, scenario.workers,
                     scenario.workers / scenario.service_time),
                  fontsize=9)
    top.legend(loc="upper left", fontsize=8)
    bottom.set_ylabel("goodput (answers/s)")
    bottom.set_xlabel("simulated time (s)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=2000,
                        help="client processes, 1,000 to 100,000 "
                             "(default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", default="doc/backoff_storm.json",
                        help="where to write the numbers ('' to skip)")
    parser.add_argument("--plot", default="doc/backoff_storm.png",
                        help="where to write the PNG ('' to skip)")
    args = parser.parse_args(argv)
    if args.clients < 1:
        parser.error("--clients must be at least 1")

    scenario = Scenario(clients=args.clients, seed=args.seed)
    runs = run_all(scenario)
    print(format_table(runs))
    for simulation in runs:
        print("%-13s simulated in %.1f s of wall time"
              % (simulation.policy.name, simulation.wall_seconds))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"scenario": dataclasses.asdict(scenario),
                       "results": [s.summary() for s in runs],
                       "series": {s.policy.name: s.series for s in runs}},
                      out, indent=1)
            out.write("\n")
        print("numbers: %s" % args.json)
    if args.plot:
        plot(runs, args.plot)
        print("plot: %s" % args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
