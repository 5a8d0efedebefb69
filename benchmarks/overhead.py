"""The CPU cost tacker_rpc adds to an RPC call, against bare oslo.messaging.

    python -m benchmarks.overhead                 # full run (about 1 minute)
    python -m benchmarks.overhead --rounds 3 --calls 50   # quick look

Two measurements, each an A/B of the same calls, variants interleaved round
by round (the order alternates), reported as the median over rounds of the
ratio tacker_rpc / oslo.messaging (1.00 = no cost; the budget is 1.01):

``end_to_end``
    A Service and a client of :mod:`tacker_rpc.rpc` against a bare
    ``RPCClient`` and ``get_rpc_server`` (threading executor, the same access
    policy), both on oslo.messaging's in-memory transport
    (``kombu+memory:////``) inside this process, so the process CPU time
    (``time.process_time``) covers client and server. The bare variant gets
    the serializer every OpenStack service has (context ``to_dict()`` and
    ``from_dict()``, nothing else), so the difference is what tacker_rpc
    adds: the backoff table lookup and bookkeeping, the payload and context
    checks and the tolerant context parsing.

``wrapper``
    The same two clients with the transport's send replaced by a function
    that plays the server side of the serializer and echoes: only the Python
    a call runs in the client and in the serializers, without any transport.
    This isolates the wrapper; its absolute difference in microseconds per
    call is reported too.

``declared``
    On the same transport-less client, a declared API method
    (:mod:`tacker_rpc.api`: argument check, version-cap check, a context
    prepared once per method) against ``client.call`` of the same method
    (which prepares a context per call) and against the declared method's
    own prepared context called directly: what a declared call adds, and
    what its checks cost, in microseconds of CPU per call (the aim is
    under 10).

Results are printed and written to ``benchmarks/results/overhead.json``.
"""

import argparse
import logging
import sys
import time

from oslo_config import cfg
import oslo_messaging
from oslo_messaging.rpc import dispatcher

from benchmarks import common
from benchmarks import echo_server
from tacker_rpc import api
from tacker_rpc import context
from tacker_rpc import opts
from tacker_rpc import rpc

TRANSPORT_URL = "kombu+memory:////"
HOST = "bench-host"
VARIANTS = ("oslo.messaging", "tacker_rpc")
BUDGET = 1.01

#: What a call carries: a small record as a service would send it.
PAYLOAD = {"id": "3f1c5e0e-8a52-4d1f-9d6f-1f0b2d7c9a10", "name": "vnf-1",
           "hosts": ["compute-1", "compute-2", "compute-3"],
           "flavour": {"vcpus": 2, "ram_mb": 4096}, "enabled": True}


class EchoEndpoint:
    def echo(self, ctxt, value):
        return value


class EchoAPI(api.RPCAPI):
    """EchoEndpoint, declared."""

    topic = "overhead-trpc"

    @api.call(since="1.0")
    def echo(self, ctxt, value: dict) -> dict:
        """Return value."""


def make_conf():
    conf = cfg.ConfigOpts()
    conf([], project="tacker_rpc_bench")
    opts.register_opts(conf)
    conf.set_override("transport_url", TRANSPORT_URL)
    return conf


class Pair:
    """One client per variant, each with a server behind it."""

    def __init__(self, conf):
        rpc.init(conf)
        self._service = rpc.Service(HOST, "overhead-trpc",
                                    manager=EchoEndpoint())
        self._service.start()
        self._transport = oslo_messaging.get_rpc_transport(conf)
        self._server = oslo_messaging.get_rpc_server(
            self._transport,
            oslo_messaging.Target(topic="overhead-oslo", server=HOST),
            [EchoEndpoint()], executor="threading",
            serializer=echo_server.PlainContextSerializer(),
            access_policy=dispatcher.DefaultRPCAccessPolicy)
        self._server.start()
        self.clients = {
            "tacker_rpc": rpc.get_client(
                oslo_messaging.Target(topic="overhead-trpc")),
            "oslo.messaging": oslo_messaging.get_rpc_client(
                self._transport, oslo_messaging.Target(topic="overhead-oslo"),
                serializer=echo_server.PlainContextSerializer()),
        }

    def close(self):
        self._server.stop()
        self._server.wait()
        self._transport.cleanup()
        self._service.stop()
        rpc.cleanup()


def echo_without_transport(client):
    """A client like ``client`` whose sends never leave the process: the
    send plays the server's serializer steps and echoes the value."""
    serializer = client.serializer
    transport = client.transport

    def send(target, ctxt, message, **kwargs):
        server_ctxt = serializer.deserialize_context(ctxt)
        args = {name: serializer.deserialize_entity(server_ctxt, value)
                for name, value in message["args"].items()}
        return serializer.serialize_entity(server_ctxt, args["value"])

    local = object.__new__(type(transport))
    local.__dict__.update(transport.__dict__)
    local._send = send
    copy = object.__new__(type(client))
    copy.__dict__.update(client.__dict__)
    copy.transport = local
    return copy


def timed_calls(client, ctxt, calls):
    """(CPU seconds, wall seconds) for ``calls`` sequential echo calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        client.call(ctxt, "echo", value=PAYLOAD)
    return time.process_time() - cpu, time.perf_counter() - wall


def measure(clients, ctxt, rounds, calls):
    """Per round, each variant's CPU and wall microseconds per call."""
    samples = []
    for index in range(rounds):
        order = VARIANTS if index % 2 == 0 else VARIANTS[::-1]
        sample = {}
        for variant in order:
            cpu, wall = timed_calls(clients[variant], ctxt, calls)
            sample[variant] = {"cpu_us": cpu / calls * 1e6,
                               "wall_us": wall / calls * 1e6}
        samples.append(sample)
    return samples


def measure_declared(client, ctxt, rounds, calls):
    """Per round, CPU microseconds per call of ``client.call``, of the
    declared ``EchoAPI.echo`` sending through ``client``, and of the
    context that method sends with, called directly (the declared call
    without its checks)."""
    declared = object.__new__(EchoAPI)
    declared._bind_client(client)  # the transport-less client, not a new one
    echo = declared.echo
    context = client.prepare(version="1.0", fanout=False, namespace=None)

    def plain():
        for _ in range(calls):
            client.call(ctxt, "echo", value=PAYLOAD)

    def prepared():
        for _ in range(calls):
            context.call(ctxt, "echo", value=PAYLOAD)

    def checked():
        for _ in range(calls):
            echo(ctxt, value=PAYLOAD)

    variants = {"client.call": plain, "prepared": prepared,
                "declared": checked}
    samples = []
    for index in range(rounds):
        sample = {}
        names = list(variants)
        for name in names[index % 3:] + names[:index % 3]:
            cpu = time.process_time()
            variants[name]()
            sample[name] = (time.process_time() - cpu) / calls * 1e6
        samples.append(sample)
    summary = {"%s_us" % name: common.median(s[name] for s in samples)
               for name in variants}
    summary["added_us"] = common.median(
        s["declared"] - s["client.call"] for s in samples)
    summary["checks_us"] = common.median(
        s["declared"] - s["prepared"] for s in samples)
    return {"rounds": samples, "summary": summary}


def summarize(samples):
    summary = {}
    for clock in ("cpu_us", "wall_us"):
        ratios = [s["tacker_rpc"][clock] / s["oslo.messaging"][clock]
                  for s in samples]
        summary[clock] = {
            variant: common.median(s[variant][clock] for s in samples)
            for variant in VARIANTS}
        summary[clock]["ratio"] = common.median(ratios)
        summary[clock]["added_us"] = common.median(
            s["tacker_rpc"][clock] - s["oslo.messaging"][clock]
            for s in samples)
    return summary


def run(rounds, calls, micro_calls, out=print):
    """Measure both parts; return the results as a dict."""
    pair = Pair(make_conf())
    try:
        ctxt = context.RequestContext(user_id="alice", project_id="demo")
        for client in pair.clients.values():
            timed_calls(client, ctxt, max(1, calls // 10))  # warm up
        local = {name: echo_without_transport(client)
                 for name, client in pair.clients.items()}
        e2e = measure(pair.clients, ctxt, rounds, calls)
        wrapper = measure(local, ctxt, rounds, micro_calls)
        declared = measure_declared(local["tacker_rpc"], ctxt, rounds,
                                    micro_calls)
    finally:
        pair.close()
    results = {
        "benchmark": "overhead",
        "machine": common.machine(),
        "settings": {"rounds": rounds, "calls": calls,
                     "micro_calls": micro_calls, "payload": PAYLOAD,
                     "transport_url": TRANSPORT_URL},
        "budget_ratio": BUDGET,
        "end_to_end": {"summary": summarize(e2e), "rounds": e2e},
        "wrapper": {"summary": summarize(wrapper), "rounds": wrapper},
        "declared": declared,
    }
    rows = []
    for part in ("end_to_end", "wrapper"):
        for clock in ("cpu_us", "wall_us"):
            figures = results[part]["summary"][clock]
            rows.append([part, clock.replace("_us", ""),
                         figures["oslo.messaging"], figures["tacker_rpc"],
                         figures["added_us"], figures["ratio"]])
    out(common.format_table(
        ["part", "clock", "oslo.messaging us/call", "tacker_rpc us/call",
         "added us", "ratio"], rows))
    ratio = results["end_to_end"]["summary"]["cpu_us"]["ratio"]
    out("end-to-end CPU ratio %.4f: %s the %.2f budget"
        % (ratio, "within" if ratio <= BUDGET else "OVER", BUDGET))
    figures = declared["summary"]
    out("declared API call: %.1f us CPU per call, client.call %.1f us "
        "(added %.1f us); its checks %.1f us over the same prepared context"
        % (figures["declared_us"], figures["client.call_us"],
           figures["added_us"], figures["checks_us"]))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21,
                        help="interleaved A/B rounds (default %(default)s)")
    parser.add_argument("--calls", type=int, default=400,
                        help="end-to-end calls per variant and round")
    parser.add_argument("--micro-calls", type=int, default=4000,
                        help="calls per variant and round without transport")
    parser.add_argument("--output", help="JSON file (default "
                        "benchmarks/results/overhead.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    results = run(args.rounds, args.calls, args.micro_calls)
    print("written to %s" % common.write_json("overhead", results,
                                              args.output))


if __name__ == "__main__":
    main()
