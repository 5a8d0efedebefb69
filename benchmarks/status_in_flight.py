"""What counting requests in flight costs a server, side by side.

    python benchmarks/status_in_flight.py [--dispatches 100000]
        [--repeats 7] [--threads 1,4]

The status endpoint counts the requests a server is dispatching by
wrapping its RPC dispatcher (``tacker_rpc.status._CountingDispatcher``).
This times oslo.messaging's own ``RPCDispatcher.dispatch`` of a trivial
endpoint method, with and without the wrapper, in the same process, on
``--threads`` threads at once (each doing its share of ``--dispatches``),
and prints the median over ``--repeats`` runs of the cost per dispatch and
the ratio. No broker: the transport and the network, which dominate a real
call, are left out, so the ratio is an upper bound of the overhead.
"""

import argparse
import statistics
import threading
import time

import oslo_messaging
from oslo_messaging.rpc import dispatcher as rpc_dispatcher

from tacker_rpc import status


class Endpoint:
    def echo(self, ctxt, value):
        return value


class Incoming:
    """The parts of an incoming message the dispatcher reads."""

    message = {"method": "echo", "args": {"value": 1}}
    ctxt = {}
    client_timeout = None


def make_dispatcher():
    return rpc_dispatcher.RPCDispatcher(
        [Endpoint()], oslo_messaging.NoOpSerializer(),
        rpc_dispatcher.DefaultRPCAccessPolicy)


def seconds_per_dispatch(dispatcher, dispatches, threads):
    incoming = Incoming()
    share = dispatches // threads
    start = threading.Barrier(threads + 1)

    def work():
        start.wait()
        for _ in range(share):
            dispatcher.dispatch(incoming)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return (time.perf_counter() - began) / (share * threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dispatches", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", default="1,4")
    args = parser.parse_args()
    plain = make_dispatcher()
    counter = status.InFlightCounter()
    counted = status._CountingDispatcher(make_dispatcher(), counter)
    print("threads  plain us/dispatch  counted us/dispatch  ratio")
    for threads in [int(n) for n in args.threads.split(",")]:
        runs = {"plain": [], "counted": []}
        for _ in range(args.repeats):
            # Alternate so that machine noise hits both alike.
            runs["plain"].append(seconds_per_dispatch(
                plain, args.dispatches, threads))
            runs["counted"].append(seconds_per_dispatch(
                counted, args.dispatches, threads))
        assert counter.value == 0
        base = statistics.median(runs["plain"])
        with_counter = statistics.median(runs["counted"])
        print("%7d  %17.2f  %19.2f  %5.3f" % (
            threads, base * 1e6, with_counter * 1e6, with_counter / base))


if __name__ == "__main__":
    main()
