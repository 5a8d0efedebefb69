"""``tacker-rpc requests``: a requester's long-running requests, from its
store (no broker needed)."""

import argparse
import os

from tacker_rpc import exceptions
from tacker_rpc.cli import common
from tacker_rpc.reqresp import store

COLUMNS = ("id", "kind", "state", "revision", "fields", "answered_by",
           "deliveries", "updated_at")
#: --state choices: a state, or "pending" / "done" for several.
STATES = {"pending": store.PENDING, "done": store.DONE}
STATES.update((state, (state,)) for state in store.TRANSITIONS)


def register(subparsers):
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--format", choices=("table", "json"),
                        default="table", help="output format")
    output.add_argument("--debug", action="store_true",
                        help="log what the libraries do, on stderr")
    parser = subparsers.add_parser(
        "requests", parents=[output],
        help="list a requester's pending and answered requests",
        description="List the long-running requests a requester recorded "
                    "in its store, oldest first, with their responses "
                    "(--format json).")
    parser.add_argument("--store", metavar="URL",
                        default=store.DEFAULT_STORE_URL,
                        help="SQLAlchemy URL of the store (default: %s)"
                             % store.DEFAULT_STORE_URL)
    parser.add_argument("--topic", metavar="REPLY_TOPIC",
                        help="the requester's reply topic (default: all)")
    parser.add_argument("--state", choices=sorted(STATES),
                        help="only requests in this state")
    parser.set_defaults(run=run)


def run(args, out):
    if args.store.startswith("sqlite") and not os.path.exists(
            args.store.split(":///", 1)[-1]):
        raise common.CommandError("no request store at %s: no such file"
                                  % args.store)
    try:
        opened = store.Store(args.store, upgrade=False)
    except exceptions.StoreError as exc:
        raise common.CommandError(str(exc))
    try:
        rows = opened.list(reply_topic=args.topic,
                           states=STATES.get(args.state))
    finally:
        opened.close()
    for row in rows:
        for name, value in row.items():
            if hasattr(value, "isoformat"):
                row[name] = value.isoformat(timespec="seconds") + "Z"
    out.result(rows, common.format_table(
        COLUMNS, [[row[name] for name in COLUMNS] for row in rows]))
