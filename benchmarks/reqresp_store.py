"""Finding a request by its fields in the request store, side by side.

    python -m benchmarks.reqresp_store [--requests 10000] [--lookups 20]
        [--repeats 5] [--backends sqlite,postgresql,mariadb]

Fills a new store of each backend (an SQLite file; private PostgreSQL and
MariaDB servers started as the tests start them, tests/databases.py) with
``--requests`` requests of one requester, half of them answered, then
times, per lookup of a random request:

* ``response_by``: version 1 read every answered row of the requester and
  compared fields in Python (``scan``); version 2 asks the field index
  (``Store.first_match``);
* ``create_or_update`` of an existing request (the "resend" case): version
  1 read every row of the requester FOR UPDATE in its transaction
  (``scan``); version 2 locks the requester's lock row and asks the index.

Prints the median over ``--repeats`` runs of milliseconds per lookup and
the ratio scan / indexed. The servers run with fsync off: the figures are
query costs, not disk costs.
"""

import argparse
import contextlib
import random
import statistics
import tempfile
import time

from tacker_rpc.reqresp import store as store_mod
from tests import databases

TOPIC = "bench-replies"
KIND = "CertRequest"


def fields_of(number):
    return {"common_name": "host-%d.example.org" % number,
            "sans": ["host-%d" % number, "10.0.%d.%d" % divmod(
                number % 65536, 256)],
            "ttl": 3600}


def fill(store, requests):
    """``requests`` requests in one transaction; the even ones
    answered."""
    with store.engine.begin() as conn:
        for number in range(requests):
            row = store_mod._insert(conn, KIND, TOPIC, "ca",
                                    fields_of(number))
            if number % 2 == 0:
                store_mod._answer(conn, row["id"], 1, {"cert": "c"}, None,
                                  "bench")


def match_of(number):
    return {"common_name": fields_of(number)["common_name"]}


def matches(row, match):
    return all(row["fields"].get(name) == value
               for name, value in match.items())


def scan_response(store, number):
    match = match_of(number)
    for row in store.list(TOPIC, KIND, store_mod.DONE):
        if matches(row, match):
            return row
    return None


def indexed_response(store, number):
    return store.first_match(TOPIC, KIND, match_of(number), store_mod.DONE)


def scan_create_or_update(store, number):
    match = match_of(number)
    with store.engine.begin() as conn:
        for row in store_mod._select(conn, reply_topic=TOPIC, kind=KIND,
                                     for_update=True):
            if matches(row, match):
                return row
    return None


def indexed_create_or_update(store, number):
    return store.create_or_update(KIND, TOPIC, "ca", match_of(number),
                                  fields_of(number))[0]


def ms_per_lookup(lookup, store, numbers):
    began = time.perf_counter()
    for number in numbers:
        found = lookup(store, number)
        assert found is not None and found["fields"] == fields_of(number)
    return (time.perf_counter() - began) * 1000 / len(numbers)


@contextlib.contextmanager
def opened_store(backend):
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            store = store_mod.Store("sqlite:///%s/bench.db" % directory)
            yield store
            store.close()
        return
    with databases.SERVERS[backend]() as server:
        store = store_mod.Store(server.new_database())
        yield store
        store.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--lookups", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    args = parser.parse_args()
    answered = range(0, args.requests, 2)
    print("backend     operation         scan ms  indexed ms   ratio")
    for backend in args.backends.split(","):
        with opened_store(backend) as store:
            fill(store, args.requests)
            for name, scan, indexed in (
                    ("response_by", scan_response, indexed_response),
                    ("create_or_update", scan_create_or_update,
                     indexed_create_or_update)):
                runs = {"scan": [], "indexed": []}
                for _ in range(args.repeats):
                    numbers = random.sample(answered, args.lookups)
                    # Alternate so that machine noise hits both alike.
                    runs["scan"].append(ms_per_lookup(scan, store, numbers))
                    runs["indexed"].append(ms_per_lookup(indexed, store,
                                                         numbers))
                before = statistics.median(runs["scan"])
                after = statistics.median(runs["indexed"])
                print("%-10s  %-16s  %7.2f  %10.3f  %6.1f" % (
                    backend, name, before, after, before / after))


if __name__ == "__main__":
    main()
