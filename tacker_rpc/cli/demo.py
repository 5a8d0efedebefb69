"""``tacker-rpc demo``: :mod:`tacker_rpc.demo` as a table over time."""

import logging

from tacker_rpc import demo
from tacker_rpc.cli import common


def register(subparsers):
    parser = common.add_subcommand(
        subparsers, "demo",
        "start a Service and watch its callers' timeouts grow and recover "
        "(in-memory transport: no broker needed)",
        description="Start a Service in this process, call it, stall it "
                    "so the caller's timeout grows, then let it recover. "
                    "Runs on the in-memory transport unless "
                    "--transport-url or --config-file names a broker.")
    # The table tells the story; --debug shows the libraries' logs too.
    parser.set_defaults(run=run, log_level=logging.ERROR)


def run(args, out):
    if not args.transport_url and not args.config_file:
        args.transport_url = demo.MEMORY_URL
    conf = demo.configure(common.load_conf(args))
    rows = []
    if not out.json:
        out.write("transport %s, topic %r, rpc_response_timeout 1 s; "
                  "times in seconds" % (conf.transport_url, demo.TOPIC))
        out.write(_line([name for name, _ in demo.COLUMNS]))
        out.write(_line(["-" * width for _, width in demo.COLUMNS]))

    def report(row):
        rows.append(row)
        if not out.json:
            out.write(_line([_cell(row[name]) for name, _ in demo.COLUMNS]))

    demo.run(report, conf)
    if out.json:
        out.result({"transport_url": conf.transport_url, "rows": rows}, None)


def _cell(value):
    return "" if value is None else str(value)


def _line(cells):
    return common.format_row(cells, [width for _, width in demo.COLUMNS])
