"""``tacker-rpc describe``: what a topic's server serves.

One server (any of the topic, or the one ``--server`` names) answers a
call to the status endpoint's ``describe``. A declared API is printed as a
table of its methods (kind, version, return type, first docstring line),
each followed by its arguments with their types and descriptions; a
plain manager as its methods' signatures. The long-running requests the
service answers or sends (:mod:`tacker_rpc.reqresp`) follow, each with its
fields and its response's fields. ``--format json`` prints the whole
answer.
"""

import oslo_messaging

from tacker_rpc import rpc
from tacker_rpc import status
from tacker_rpc.cli import common

API_COLUMNS = ("method", "kind", "since", "returns / arguments", "doc")
PLAIN_COLUMNS = ("method", "signature", "doc")
REQUEST_COLUMNS = ("kind", "role", "topic", "fields / response", "doc")


def register(subparsers):
    parser = common.add_subcommand(
        subparsers, "describe", "list the methods a topic's server serves",
        description="Call the status endpoint's describe on a server of "
                    "the topic and print its declared API (or its "
                    "manager's methods).")
    common.target_arguments(parser)
    common.timeout_argument(parser)
    parser.set_defaults(run=run)


def run(args, out):
    conf = common.load_conf(args)
    timeout = common.call_timeout(args, conf)
    with common.rpc_transport(conf):
        client = rpc.get_client(oslo_messaging.Target(
            topic=args.topic, server=args.server,
            namespace=status.NAMESPACE,
            version=status.VERSION)).prepare(timeout=timeout)
        try:
            described = client.call({}, "describe")
        except Exception as exc:
            raise common.CommandError(
                common.describe_failure(exc, args.topic, timeout))
    out.result(described, format_description(described))


def format_description(described):
    """The answer of ``describe`` as text: a heading and a table per
    declared API, or one table of a plain manager's methods."""
    where = "topic %s, host %s, manager %s" % (
        described["topic"], described["host"], described["manager"])
    apis = described.get("apis") or []
    requests = _requests_section(described.get("requests") or [])
    if not apis:
        return "%s (no declared API)\n%s%s" % (where, common.format_table(
            PLAIN_COLUMNS, [[m["name"], m["signature"], m["doc"]]
                            for m in described["methods"]]), requests)
    sections = [where]
    for api in apis:
        rows = []
        for method in api["methods"]:
            rows.append([_method_cell(method), method["kind"],
                         method["since"], _returns(method),
                         method["doc"]])
            rows += [["", "", "", "  " + format_argument(argument),
                      argument["description"]]
                     for argument in method["arguments"]]
        sections.append("\n%s %s, namespace %s: %s\n%s" % (
            api["api"], api["version"], api["namespace"], api["doc"],
            common.format_table(API_COLUMNS, rows)))
    return "\n".join(sections) + requests


def _requests_section(requests):
    """The long-running requests, each followed by its fields and, after
    ``->``, its response's fields; "" when there are none."""
    if not requests:
        return ""
    rows = []
    for request in requests:
        rows.append([request["kind"], request["role"], request["topic"],
                     "", request["doc"]])
        rows += [["", "", "", "  " + format_argument(field),
                  field["description"]] for field in request["fields"]]
        rows += [["", "", "", "  -> " + format_argument(field),
                  field["description"]] for field in request["response"]]
    return "\n\nlong-running requests (tacker_rpc.reqresp)\n%s" % (
        common.format_table(REQUEST_COLUMNS, rows))


def format_argument(argument):
    """``name: type`` or ``name: type = default``, as in a signature."""
    text = "%s: %s" % (argument["name"], argument["type"])
    if not argument["required"]:
        text += " = %r" % (argument.get("default"),)
    return text


def _method_cell(method):
    name = method["name"]
    if method["namespace"] is not None:
        name = "%s:%s" % (method["namespace"], name)
    return name + (" (fanout)" if method["fanout"] else "")


def _returns(method):
    return "-> %s" % method["returns"] if method["returns"] else ""
