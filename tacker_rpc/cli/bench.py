"""``tacker-rpc bench``: calls per second and latency of a running service.

``--concurrency`` threads share one client and make ``--calls`` calls in
all, each with the same fixed timeout (no backoff: a benchmark measures,
it does not adapt). Without METHOD the status endpoint's ``ping`` is
called, which every Service answers.
"""

import math
import sys
import threading
import time

import oslo_messaging

from tacker_rpc import rpc
from tacker_rpc import status
from tacker_rpc.cli import common

PERCENTILES = (50, 90, 99)
BAR_WIDTH = 30


def register(subparsers):
    parser = common.add_subcommand(
        subparsers, "bench",
        "measure calls/s and latency percentiles of a service",
        description="Call a running service many times from several "
                    "threads; report calls/s and latency percentiles. "
                    "Without METHOD, calls the status endpoint's ping.")
    parser.add_argument("method", metavar="METHOD", nargs="?",
                        help="manager method to call (default: status ping)")
    parser.add_argument("arguments", metavar="ARG", nargs="*",
                        help="key=value arguments of METHOD")
    common.target_arguments(parser)
    parser.add_argument("--namespace", metavar="NS",
                        help="RPC namespace of METHOD")
    parser.add_argument("--concurrency", type=common.positive_int,
                        default=4, metavar="N",
                        help="threads calling at once (default 4)")
    parser.add_argument("--calls", type=common.positive_int, default=200,
                        metavar="N", help="calls in all (default 200)")
    common.timeout_argument(parser, "timeout of each call (default: "
                                    "rpc_response_timeout)")
    parser.set_defaults(run=run)


def percentile(sorted_values, pct):
    """The nearest-rank ``pct`` percentile of non-empty ``sorted_values``."""
    rank = max(math.ceil(pct / 100 * len(sorted_values)), 1)
    return sorted_values[rank - 1]


class _Progress:
    """A progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total, stream=None):
        self.stream = stream or sys.stderr
        self.total = total
        self.enabled = self.stream.isatty()

    def show(self, done):
        if not self.enabled:
            return
        filled = BAR_WIDTH * done // self.total
        self.stream.write("\r[%s%s] %d/%d" % (
            "#" * filled, "." * (BAR_WIDTH - filled), done, self.total))
        if done == self.total:
            self.stream.write("\n")
        self.stream.flush()


class _Run:
    """The calls of one benchmark, shared by its threads."""

    def __init__(self, client, method, arguments, total, describe):
        self.client = client
        self.describe = describe
        self.method = method
        self.arguments = arguments
        self.total = total
        self.latencies = []
        self.errors = {}
        self._issued = 0
        self._lock = threading.Lock()
        self._progress = _Progress(total)

    def _next(self):
        with self._lock:
            if self._issued == self.total:
                return False
            self._issued += 1
            return True

    def _record(self, latency, error):
        with self._lock:
            if error is None:
                self.latencies.append(latency)
            else:
                self.errors[error] = self.errors.get(error, 0) + 1
            done = len(self.latencies) + sum(self.errors.values())
            self._progress.show(done)

    def worker(self):
        while self._next():
            started = time.perf_counter()
            error = None
            try:
                self.client.call({}, self.method, **self.arguments)
            except Exception as exc:
                error = self.describe(exc)
            self._record(time.perf_counter() - started, error)


def run(args, out):
    arguments = common.parse_call_arguments(args.arguments)
    if args.method is None and (arguments or args.namespace):
        raise common.CommandError("ARG and --namespace need a METHOD")
    conf = common.load_conf(args)
    timeout = common.call_timeout(args, conf)
    if args.method is None:
        method, namespace = "ping", status.NAMESPACE
    else:
        method, namespace = args.method, args.namespace
    with common.rpc_transport(conf):
        client = rpc.get_client(oslo_messaging.Target(
            topic=args.topic, server=args.server,
            namespace=namespace)).prepare(timeout=timeout)
        bench = _Run(client, method, arguments, args.calls,
                     lambda exc: common.describe_failure(exc, args.topic,
                                                         timeout))
        threads = [threading.Thread(target=bench.worker, daemon=True)
                   for _ in range(min(args.concurrency, args.calls))]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    return _report(out, args, method, bench, elapsed)


def _report(out, args, method, bench, elapsed):
    latencies = sorted(bench.latencies)
    result = {"method": method, "topic": args.topic,
              "concurrency": args.concurrency, "calls": args.calls,
              "succeeded": len(latencies), "errors": bench.errors,
              "seconds": round(elapsed, 3),
              "calls_per_second": round(len(latencies) / elapsed, 1)}
    for pct in PERCENTILES:
        result["p%d_ms" % pct] = (round(percentile(latencies, pct) * 1000, 2)
                                  if latencies else None)
    rows = [[key, result[key]] for key in (
        "method", "concurrency", "calls", "succeeded", "seconds",
        "calls_per_second", "p50_ms", "p90_ms", "p99_ms")]
    rows += [["error: %s" % name, count]
             for name, count in sorted(bench.errors.items())]
    out.result(result, common.format_table(("measure", "value"), rows))
    return common.EXIT_FAILURE if bench.errors else 0
