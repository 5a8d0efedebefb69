"""``tacker-rpc call`` and ``tacker-rpc cast``: one RPC from the shell."""

import time

import oslo_messaging

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tacker_rpc.cli import common


def register(subparsers):
    for name, summary in (("call", "call a method and print its result"),
                          ("cast", "send a method without waiting")):
        parser = common.add_subcommand(
            subparsers, name, summary,
            description=summary + ". Each ARG is key=value; a value is "
                                  "JSON when it parses, a string otherwise.")
        parser.add_argument("method", metavar="METHOD")
        parser.add_argument("arguments", metavar="ARG", nargs="*",
                            help="key=value")
        common.target_arguments(parser)
        parser.add_argument("--namespace", metavar="NS",
                            help="RPC namespace of the endpoint")
        parser.add_argument("--version", metavar="V",
                            help="RPC API version to ask for")
        if name == "call":
            common.timeout_argument(parser)
            parser.set_defaults(run=run_call)
        else:
            parser.add_argument("--fanout", action="store_true",
                                help="send to every server of the topic")
            parser.set_defaults(run=run_cast)


def _target(args, fanout=False):
    if fanout and args.server:
        raise common.CommandError("--fanout and --server exclude each other")
    return oslo_messaging.Target(topic=args.topic, server=args.server,
                                 namespace=args.namespace,
                                 version=args.version, fanout=fanout)


def run_call(args, out):
    arguments = common.parse_call_arguments(args.arguments)
    conf = common.load_conf(args)
    timeout = common.call_timeout(args, conf)
    with common.rpc_transport(conf):
        client = rpc.get_client(_target(args)).prepare(timeout=timeout)
        started = time.monotonic()
        try:
            result = client.call({}, args.method, **arguments)
        except exceptions.ActionError as exc:
            return common.report_action_error(out, exc)
        except Exception as exc:
            raise common.CommandError(
                common.describe_failure(exc, args.topic, timeout))
        took = time.monotonic() - started
    out.result({"result": result, "seconds": round(took, 3)},
               common.format_value(result))


def run_cast(args, out):
    arguments = common.parse_call_arguments(args.arguments)
    conf = common.load_conf(args)
    with common.rpc_transport(conf):
        client = rpc.get_client(_target(args, args.fanout))
        client.cast({}, args.method, **arguments)
    where = "every server of" if args.fanout else "topic"
    out.result({"sent": True, "method": args.method, "topic": args.topic,
                "server": args.server, "fanout": args.fanout},
               "cast %s sent to %s %r" % (args.method, where,
                                          args.topic + (
                                              "." + args.server
                                              if args.server else "")))
