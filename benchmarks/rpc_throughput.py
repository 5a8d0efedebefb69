"""RPC throughput and latency: tacker_rpc, bare oslo.messaging, raw AMQP.

    python -m benchmarks.rpc_throughput              # full run, ~8 minutes
    python -m benchmarks.rpc_throughput --duration 1 --repeats 1   # a look

Starts a private RabbitMQ on loopback (``tests.broker.RabbitBroker``) and,
in their own processes, echo servers of each variant:

``tacker_rpc``
    ``tacker_rpc.rpc.get_client`` calling a :class:`tacker_rpc.rpc.Service`
    daemon (``tests.functional.server_main``), with the toolkit's defaults.
``tacker_rpc-oslo-executor``
    The same with ``rpc_executor_grow_after=0``: the server runs handlers
    on oslo.messaging's own executor, as before the toolkit had its own.
``oslo.messaging``
    A bare ``RPCClient`` and ``get_rpc_server`` (threading executor) with
    oslo.messaging's defaults and a context serializer doing only
    ``to_dict``/``from_dict``.
``lean-rabbit``
    The same bare client and server on the ``lean-rabbit://`` driver
    (:mod:`tacker_rpc.driver`).
``lean-client`` and ``lean-server``
    Mixed fleets: a bare client on ``lean-rabbit://`` calling the bare
    oslo.messaging (``rabbit://``) server, and a bare ``rabbit://`` client
    calling the ``lean-rabbit://`` server.
``amqp`` and ``amqp-noconfirm``
    py-amqp, one connection per caller thread, requests published to the
    server's queue with ``reply_to`` RabbitMQ's direct reply-to
    (``amq.rabbitmq.reply-to``), JSON bodies, a single-threaded server that
    acknowledges and answers: the practical limit of a Python client here.
    ``amqp`` waits for a publisher confirm of each request, as
    oslo.messaging does; ``amqp-noconfirm`` does not.

``--set`` options apply to the tacker_rpc and oslo.messaging variants alike;
``--tacker-set`` only to tacker_rpc (to compare it with a default undone).

Every cell (servers, concurrency) runs every variant once per round, in an
order that rotates each round, so slow phases of a busy machine hit all
variants alike; a figure is the median over ``--repeats`` rounds, and a
ratio the median of the per-round ratios. Calls: ``--concurrency`` caller
threads calling ``echo`` for ``--duration`` seconds, against each count of
``--servers`` server processes. Casts: threads casting ``note`` to one
server, timed until the server has counted them all. Fanout: casts to
``--fanout-servers`` servers, timed until each has counted them all.

Results are printed and written to ``benchmarks/results/rpc_throughput.json``.
"""

import argparse
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import amqp
import oslo_messaging
import psutil

from benchmarks import common
from benchmarks import echo_server
from tacker_rpc import context
from tacker_rpc import rpc
from tests import broker as broker_mod
from tests import config
from tests.functional import conftest as functional

LOG = logging.getLogger(__name__)
VARIANTS = ("tacker_rpc", "tacker_rpc-oslo-executor", "oslo.messaging",
            "lean-rabbit", "lean-client", "lean-server", "amqp",
            "amqp-noconfirm")
#: What tacker_rpc-oslo-executor sets: the toolkit before it had its own
#: executor, to show that default's before/after in the same run.
OSLO_EXECUTOR = "rpc_executor_grow_after=0"
#: The server processes each variant calls.
SERVER_KIND = {"tacker_rpc": "tacker",
               "tacker_rpc-oslo-executor": "tacker-oslo-executor",
               "oslo.messaging": "oslo", "lean-rabbit": "lean",
               "lean-client": "oslo", "lean-server": "lean", "amqp": "amqp",
               "amqp-noconfirm": "amqp"}
LIMIT = "amqp"
PAYLOAD = {"id": "3f1c5e0e-8a52-4d1f-9d6f-1f0b2d7c9a10", "name": "vnf-1",
           "hosts": ["compute-1", "compute-2", "compute-3"],
           "flavour": {"vcpus": 2, "ram_mb": 4096}, "enabled": True}
CALL_TIMEOUT = 60
READY_DEADLINE = 120
REPLY_TO = "amq.rabbitmq.reply-to"


class EchoProcess:
    """A ``benchmarks.echo_server`` process; ready once it says so."""

    def __init__(self, kind, transport_url, topic, host, settings=()):
        cmd = [sys.executable, "-m", "benchmarks.echo_server", kind,
               "--transport-url", transport_url, "--topic", topic,
               "--host", host]
        for setting in settings:
            cmd += ["--set", setting]
        self.host = host
        self.proc = subprocess.Popen(
            cmd, cwd=functional.REPO_ROOT, stdout=subprocess.PIPE,
            start_new_session=True)

    def wait_ready(self):
        ready = threading.Event()
        waiter = threading.Thread(
            target=lambda: ready.set() if self.proc.stdout.readline()
            == b"ready\n" else None, daemon=True)
        waiter.start()
        if not ready.wait(READY_DEADLINE):
            raise RuntimeError("echo server %s not ready (exit code %s)"
                               % (self.host, self.proc.poll()))
        return self

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc.stdout.close()


class Servers:
    """Server processes of every kind, on one topic per kind."""

    def __init__(self, transport_url, settings, tacker_settings, variants):
        self._url = transport_url
        self._kinds = {SERVER_KIND[variant] for variant in variants}
        tacker = list(settings) + list(tacker_settings)
        self._settings_of = {"tacker": tacker,
                             "tacker-oslo-executor": tacker + [OSLO_EXECUTOR],
                             "oslo": list(settings), "lean": list(settings),
                             "amqp": []}
        run = uuid.uuid4().hex[:8]
        self.topics = {kind: "bench-%s-%s" % (kind, run)
                       for kind in self._settings_of}
        self.hosts = {kind: [] for kind in self.topics}
        self._processes = {kind: [] for kind in self.topics}

    def grow(self, count):
        """Start servers until each kind has ``count`` of them."""
        starting = []
        for kind, hosts in self.hosts.items():
            while kind in self._kinds and len(hosts) < count:
                host = "%s-%d" % (kind, len(hosts) + 1)
                hosts.append(host)
                starting.append(self._start(kind, host))
        for process in starting:
            process.wait_ready()

    def _start(self, kind, host):
        topic = self.topics[kind]
        if kind.startswith("tacker"):
            process = functional.ServerProcess(
                self._url, topic, host,
                manager="benchmarks.echo_server:BenchManager",
                settings=self._settings_of[kind])
        elif kind == "lean":
            process = EchoProcess("oslo", config.lean_url(self._url), topic,
                                  host, self._settings_of[kind])
        else:
            process = EchoProcess(kind, self._url, topic, host,
                                  self._settings_of[kind])
        self._processes[kind].append(process)
        return process

    def pids(self, kind):
        """Process ids of the servers of ``kind`` (their launchers)."""
        return [process.proc.pid for process in self._processes[kind]]

    def stop(self):
        for processes in self._processes.values():
            for process in processes:
                process.stop()


class OsloCaller:
    """Calls and casts through an oslo.messaging client shared by threads."""

    def __init__(self, client, kind, hosts):
        self.kind = kind
        self._client = client
        self._fanout = client.prepare(fanout=True)
        self.hosts = hosts
        self._ctxt = context.RequestContext(user_id="alice",
                                            project_id="bench")

    def for_thread(self):
        return self

    def echo(self):
        return self._client.call(self._ctxt, "echo", value=PAYLOAD)

    def note(self, fanout=False):
        (self._fanout if fanout else self._client).cast(self._ctxt, "note")

    def count(self, host):
        return self._client.prepare(server=host).call(self._ctxt, "count")

    def close(self):
        pass


class AmqpCaller:
    """Calls and casts over one py-amqp connection (one per thread).

    The variant's own object only makes connected ones: a connection kept
    idle while other variants run would miss RabbitMQ's heartbeats (py-amqp
    sends them only when asked) and be closed by the broker.
    """

    _CONTEXT = context.RequestContext(user_id="alice",
                                      project_id="bench").to_dict()

    kind = "amqp"

    def __init__(self, transport_url, topic, hosts, confirm):
        self._url, self._topic, self._confirm = transport_url, topic, confirm
        self.hosts = hosts
        self._connection = None
        self._reply = None
        self._ids = itertools.count()

    def for_thread(self):
        caller = AmqpCaller(self._url, self._topic, self.hosts,
                            self._confirm)
        caller._connection = echo_server.amqp_connection(self._url,
                                                         self._confirm)
        caller._channel = caller._connection.channel()
        caller._channel.basic_consume(REPLY_TO, callback=caller._on_reply,
                                      no_ack=True)
        return caller

    def _on_reply(self, message):
        self._reply = message

    def _publish(self, method, routing_key, exchange="", wait=False,
                 **args):
        body = json.dumps({"method": method, "args": args,
                           "context": self._CONTEXT})
        if not wait:
            self._channel.basic_publish(amqp.Message(body),
                                        exchange=exchange,
                                        routing_key=routing_key)
            return None
        correlation_id = str(next(self._ids))
        self._reply = None
        self._channel.basic_publish(
            amqp.Message(body, reply_to=REPLY_TO,
                         correlation_id=correlation_id),
            exchange=exchange, routing_key=routing_key)
        deadline = time.monotonic() + CALL_TIMEOUT
        while (self._reply is None
               or self._reply.correlation_id != correlation_id):
            self._connection.drain_events(
                timeout=max(0.001, deadline - time.monotonic()))
        return json.loads(self._reply.body)["result"]

    def echo(self):
        return self._publish("echo", self._topic, wait=True, value=PAYLOAD)

    def note(self, fanout=False):
        if fanout:
            self._publish("note", "", echo_server.fanout_exchange(self._topic))
        else:
            self._publish("note", self._topic)

    def count(self, host):
        return self._publish("count", "%s.%s" % (self._topic, host),
                             wait=True)

    def close(self):
        if self._connection is None:
            return
        try:
            self._connection.close()
        except (OSError, amqp.exceptions.AMQPError) as exc:
            LOG.error("closing a py-amqp connection failed: %r", exc)


def make_callers(servers, transport_url, settings, tacker_settings):
    """One caller per variant; the tacker_rpc one after ``rpc.init``."""
    tacker_conf = functional.make_conf(transport_url)
    echo_server.apply_settings(tacker_conf,
                               list(settings) + list(tacker_settings))
    rpc.init(tacker_conf)
    bare_conf = echo_server.bare_conf(transport_url, settings)
    bare_transport = oslo_messaging.get_rpc_transport(bare_conf)
    lean_transport = oslo_messaging.get_rpc_transport(
        bare_conf, url=config.lean_url(transport_url))
    topics, hosts = servers.topics, servers.hosts

    def bare(transport, kind):
        return OsloCaller(oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topics[kind]),
            serializer=echo_server.PlainContextSerializer()),
            kind, hosts[kind])

    return {
        "tacker_rpc": OsloCaller(rpc.get_client(oslo_messaging.Target(
            topic=topics["tacker"])), "tacker", hosts["tacker"]),
        "tacker_rpc-oslo-executor": OsloCaller(
            rpc.get_client(oslo_messaging.Target(
                topic=topics["tacker-oslo-executor"])),
            "tacker-oslo-executor", hosts["tacker-oslo-executor"]),
        "oslo.messaging": bare(bare_transport, "oslo"),
        "lean-rabbit": bare(lean_transport, "lean"),
        "lean-client": bare(lean_transport, "oslo"),
        "lean-server": bare(bare_transport, "lean"),
        "amqp": AmqpCaller(transport_url, topics["amqp"], hosts["amqp"],
                           True),
        "amqp-noconfirm": AmqpCaller(transport_url, topics["amqp"],
                                     hosts["amqp"], False),
    }, [bare_transport, lean_transport]


class CpuMeter:
    """CPU seconds spent by this (client) process, by the servers of a kind
    and by the broker, so that a measurement can say where its CPU went."""

    def __init__(self, servers, broker_pid):
        self._servers = servers
        self._broker_pid = broker_pid

    def snapshot(self, kind):
        return {"client": time.process_time(),
                "server": sum(_tree_cpu(pid)
                              for pid in self._servers.pids(kind)),
                "broker": _tree_cpu(self._broker_pid)}

    @staticmethod
    def per_operation(before, after, operations):
        return {"%s_cpu_us" % part: (after[part] - before[part])
                / max(operations, 1) * 1e6 for part in before}


def _tree_cpu(pid):
    """User and system CPU seconds of ``pid`` and its live descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_threads(callers, concurrency, work):
    """Run ``work(caller)`` in ``concurrency`` threads, each with its own
    caller; return their results and the seconds they took."""
    per_thread = [callers.for_thread() for _ in range(concurrency)]
    results = [None] * concurrency
    errors = []
    start = threading.Barrier(concurrency + 1)

    def body(index):
        start.wait()
        try:
            results[index] = work(per_thread[index])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,))
               for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for caller in per_thread:
        if caller is not callers:
            caller.close()
    if errors:
        raise errors[0]
    return results, elapsed


def measure_calls(caller, meter, concurrency, duration):
    """Calls per second, latency percentiles and CPU per call."""
    caller.echo()  # warm: connections, reply queue, learned timeout

    def work(thread_caller):
        latencies = []
        thread_caller.echo()
        stop_at = time.perf_counter() + duration
        while True:
            began = time.perf_counter()
            thread_caller.echo()
            ended = time.perf_counter()
            latencies.append(ended - began)
            if ended >= stop_at:
                return latencies

    before = meter.snapshot(caller.kind)
    per_thread, elapsed = run_threads(caller, concurrency, work)
    after = meter.snapshot(caller.kind)
    latencies = [value for values in per_thread for value in values]
    figures = {"rate": len(latencies) / elapsed,
               "p50_ms": common.percentile(latencies, 0.5) * 1e3,
               "p99_ms": common.percentile(latencies, 0.99) * 1e3}
    figures.update(meter.per_operation(before, after, len(latencies)))
    return figures


def measure_casts(caller, meter, hosts, concurrency, duration, fanout):
    """Casts per second and CPU per cast, timed until every receiving
    server has counted all of them."""
    counted_before = {host: caller.count(host) for host in hosts}

    def work(thread_caller):
        sent = 0
        stop_at = time.perf_counter() + duration
        while time.perf_counter() < stop_at:
            thread_caller.note(fanout)
            sent += 1
        return sent

    before = meter.snapshot(caller.kind)
    began = time.perf_counter()
    per_thread, _ = run_threads(caller, concurrency, work)
    sent = sum(per_thread)
    deadline = time.monotonic() + CALL_TIMEOUT
    while True:
        counted = {host: caller.count(host) - counted_before[host]
                   for host in hosts}
        if (all(n >= sent for n in counted.values()) if fanout
                else sum(counted.values()) >= sent):
            break
        if time.monotonic() > deadline:
            raise RuntimeError("casts not all received: sent %d, counted %r"
                               % (sent, counted))
        time.sleep(0.005)
    elapsed = time.perf_counter() - began
    after = meter.snapshot(caller.kind)
    figures = {"rate": sent / elapsed,
               "deliveries_per_s": sent * (len(hosts) if fanout else 1)
               / elapsed}
    figures.update(meter.per_operation(before, after, sent))
    return figures


def rotated(items, by):
    by %= len(items)
    return items[by:] + items[:by]


def run_cells(cells, callers, variants, repeats, out):
    """Run each cell's measurement for every variant, round by round."""
    samples = {}
    for round_index in range(repeats):
        for cell_index, (key, measure) in enumerate(cells):
            for variant in rotated(list(variants), round_index + cell_index):
                caller = callers[variant].for_thread()
                try:
                    figures = measure(caller)
                except Exception as exc:
                    # One failed measurement must not lose the whole run:
                    # it is shown, kept in the JSON and left out of medians.
                    figures = {"rate": float("nan"), "error": repr(exc)}
                finally:
                    caller.close()
                samples.setdefault(key, {}).setdefault(variant, []).append(
                    figures)
                out("  round %d %s %-15s %8.0f/s %s" % (
                    round_index + 1, "/".join(map(str, key)), variant,
                    figures["rate"], figures.get("error", "")))
    return samples


def summarize(samples, variants):
    """Medians per variant and cell, and medians of per-round ratios."""
    rows = []
    for key, by_variant in samples.items():
        for variant in (v for v in variants if v in by_variant):
            measured = [f for f in by_variant[variant] if "error" not in f]
            row = {"kind": key[0], "servers": key[1], "concurrency": key[2],
                   "variant": variant, "repeats": len(measured),
                   "failures": len(by_variant[variant]) - len(measured)}
            for name in (measured[0] if measured else ()):
                row[name] = common.median(f[name] for f in measured)
            for other, label in ((LIMIT, "vs_amqp"),
                                 ("oslo.messaging", "vs_oslo")):
                if other in by_variant and variant != other:
                    row[label] = common.median(
                        mine["rate"] / theirs["rate"]
                        for mine, theirs in zip(by_variant[variant],
                                                by_variant[other],
                                                strict=True)
                        if "error" not in mine and "error" not in theirs)
            rows.append(row)
    return rows


def table(rows):
    """The summary as text: rates, latencies, ratios, CPU us per operation
    in the client process, the servers and the broker."""
    headers = ["kind", "servers", "threads", "variant", "per s", "p50 ms",
               "p99 ms", "x amqp", "x oslo", "cpu client", "cpu server",
               "cpu broker"]
    columns = ["kind", "servers", "concurrency", "variant", "rate", "p50_ms",
               "p99_ms", "vs_amqp", "vs_oslo", "client_cpu_us",
               "server_cpu_us", "broker_cpu_us"]
    return common.format_table(headers, [
        [row.get(name, float("nan")) for name in columns] for row in rows])


def run(args, out=print):
    variants = args.variants
    started = time.monotonic()
    machine_before = common.machine()
    with broker_mod.RabbitBroker(name="bench") as broker:
        url = broker.url()
        servers = Servers(url, args.set, args.tacker_set, variants)
        callers = transports = None
        try:
            callers, transports = make_callers(servers, url, args.set,
                                                   args.tacker_set)
            meter = CpuMeter(servers, broker.node_pid())
            samples = {}
            for count in sorted(set(args.servers)):
                servers.grow(count)
                out("calls, %d server process(es)" % count)
                samples.update(run_cells(
                    [(("call", count, c),
                      lambda caller, c=c: measure_calls(
                          caller, meter, c, args.duration))
                     for c in args.concurrency],
                    callers, variants, args.repeats, out))
                if count == 1:
                    out("casts, 1 server process")
                    samples.update(run_cells(
                        [(("cast", 1, c),
                          lambda caller, c=c: measure_casts(
                              caller, meter, caller.hosts[:1], c,
                              args.duration, fanout=False))
                         for c in args.cast_concurrency],
                        callers, variants, args.repeats, out))
            if args.fanout_servers:
                # Unconfirmed publishing has no flow control: four copies
                # of every cast outrun the servers until RabbitMQ blocks
                # and drops the publisher, so it has no steady fanout rate.
                fanout_variants = [v for v in variants
                                   if v != "amqp-noconfirm"]
                servers.grow(args.fanout_servers)
                out("fanout casts, %d server processes" % args.fanout_servers)
                samples.update(run_cells(
                    [(("fanout", args.fanout_servers, c),
                      lambda caller, c=c: measure_casts(
                          caller, meter, caller.hosts[:args.fanout_servers],
                          c, args.duration, fanout=True))
                     for c in args.cast_concurrency],
                    callers, fanout_variants, args.repeats, out))
        finally:
            if callers:
                for caller in callers.values():
                    caller.close()
                for transport in transports:
                    transport.cleanup()
                rpc.cleanup()
            servers.stop()
    rows = summarize(samples, variants)
    results = {
        "benchmark": "rpc_throughput",
        "machine": machine_before,
        "load_average_after": os.getloadavg(),
        "seconds": time.monotonic() - started,
        "settings": {"duration": args.duration, "repeats": args.repeats,
                     "concurrency": args.concurrency,
                     "servers": args.servers,
                     "cast_concurrency": args.cast_concurrency,
                     "fanout_servers": args.fanout_servers,
                     "set": args.set, "tacker_set": args.tacker_set,
                     "variants": variants, "payload": PAYLOAD},
        "summary": rows,
        "samples": [{"kind": k[0], "servers": k[1], "concurrency": k[2],
                     "variant": v, "rounds": figures}
                    for k, by_variant in samples.items()
                    for v, figures in by_variant.items()],
    }
    out(table(rows))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=2.5,
                        help="seconds per measurement (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved rounds; figures are their median")
    parser.add_argument("--concurrency", type=int, nargs="+",
                        default=[1, 8, 32], help="caller threads of calls")
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2],
                        help="server process counts for calls")
    parser.add_argument("--cast-concurrency", type=int, nargs="+",
                        default=[8], help="caller threads of casts")
    parser.add_argument("--fanout-servers", type=int, default=4,
                        help="servers a fanout cast reaches (0: skip)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        choices=VARIANTS)
    parser.add_argument("--set", action="append", default=[],
                        metavar="[GROUP.]NAME=VALUE",
                        help="option for tacker_rpc and oslo.messaging")
    parser.add_argument("--tacker-set", action="append", default=[],
                        metavar="[GROUP.]NAME=VALUE",
                        help="option for tacker_rpc only")
    parser.add_argument("--output", help="JSON file (default "
                        "benchmarks/results/rpc_throughput.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    results = run(args)
    print("written to %s" % common.write_json("rpc_throughput", results,
                                              args.output))


if __name__ == "__main__":
    main()
