"""``tacker-rpc requests``: a requester's long-running requests, or what a
responder received (``--received``), from the store (no broker needed)."""

import argparse
import os

from tacker_rpc import exceptions
from tacker_rpc.cli import common
from tacker_rpc.reqresp import store

COLUMNS = ("id", "kind", "state", "revision", "fields", "answered_by",
           "deliveries", "updated_at")
RECEIVED_COLUMNS = ("request_id", "topic", "kind", "state", "revision",
                    "fields", "reply_topic", "deliveries", "received_at")
#: --state choices: a state, or "pending" / "done" for several.
STATES = {"pending": store.PENDING, "done": store.DONE}
STATES.update((state, (state,)) for state in store.TRANSITIONS)
#: --state choices with --received.
RECEIVED_STATES = {"done": store.DONE}
RECEIVED_STATES.update((state, (state,))
                       for state in (store.RECEIVED,) + store.DONE)


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
                    "(--format json); with --received, what responders "
                    "recorded: the requests they received, in hand or "
                    "answered.")
    parser.add_argument("--store", metavar="URL",
                        default=store.DEFAULT_STORE_URL,
                        help="SQLAlchemy URL of the store (default: %s)"
                             % store.DEFAULT_STORE_URL)
    parser.add_argument("--topic", metavar="TOPIC",
                        help="the requester's reply topic, or with "
                             "--received the responder's topic "
                             "(default: all)")
    parser.add_argument("--received", action="store_true",
                        help="list what responders received instead")
    parser.add_argument("--state",
                        choices=sorted(set(STATES) | set(RECEIVED_STATES)),
                        help="only requests in this state (requester: %s; "
                             "with --received: %s)" % (
                                 ", ".join(sorted(STATES)),
                                 ", ".join(sorted(RECEIVED_STATES))))
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
    states, columns = (RECEIVED_STATES, RECEIVED_COLUMNS) if (
        args.received) else (STATES, COLUMNS)
    if args.state is not None and args.state not in states:
        raise common.CommandError(
            "--state %s is not a state of %s; choose from %s" % (
                args.state, "--received" if args.received else "requests",
                ", ".join(sorted(states))))
    try:
        if args.received:
            rows = opened.received(args.topic, states.get(args.state))
        else:
            rows = opened.list(reply_topic=args.topic,
                               states=states.get(args.state))
    finally:
        opened.close()
    for row in rows:
        for name, value in row.items():
            if hasattr(value, "isoformat"):
                row[name] = value.isoformat(timespec="seconds") + "Z"
    out.result(rows, common.format_table(
        columns, [[row[name] for name in columns] for row in rows]))
