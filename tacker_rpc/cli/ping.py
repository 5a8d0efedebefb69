"""``tacker-rpc ping``: ask a topic's servers for their status.

Without ``--all`` one server answers a call to the status endpoint (any
server of the topic, or the one ``--server`` names). With ``--all`` the
servers are discovered: this process consumes a temporary reply topic,
fans out one ``ping(reply_topic=...)`` to the topic, and every server
casts its status back to the reply topic; replies are collected for
``--timeout`` seconds. On RabbitMQ the reply topic's queues are deleted
afterwards.

Each server's row names its worker ``pid`` and its ``launcher_pid`` (the
process to signal to stop it) and its health verdict; the manager's health
checks follow, one row each. The command exits 1 when a server's verdict is
``error``.
"""

import time

import oslo_messaging

from tacker_rpc import discovery
from tacker_rpc import health
from tacker_rpc import rpc
from tacker_rpc import status
from tacker_rpc.cli import common

COLUMNS = ("host", "pid", "launcher_pid", "version", "uptime", "in_flight",
           "rtt_ms", "health")
CHECK_COLUMNS = ("host", "check", "status", "detail")
#: Seconds ``--all`` collects replies by default.
DEFAULT_WAIT = discovery.DEFAULT_WAIT


def register(subparsers):
    parser = common.add_subcommand(
        subparsers, "ping", "ask a topic's servers who they are and how busy",
        description="Call the status endpoint of a topic's server(s).")
    common.target_arguments(parser, server=False)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--server", metavar="HOST",
                       help="ping this server only (topic.HOST)")
    which.add_argument("--all", action="store_true",
                       help="discover every server of the topic (fanout)")
    common.timeout_argument(
        parser, "seconds to wait for the answer; with --all, for replies "
                "(default: rpc_response_timeout; %gs with --all)"
                % DEFAULT_WAIT)
    parser.set_defaults(run=run)


def run(args, out):
    conf = common.load_conf(args)
    if args.all:
        wait = args.timeout or DEFAULT_WAIT
        answers = discover(conf, args.topic, wait)
        if not answers:
            raise common.CommandError(
                "no server of topic %r answered within %gs"
                % (args.topic, wait))
    else:
        timeout = common.call_timeout(args, conf)
        with common.rpc_transport(conf):
            try:
                answers = [ping_one(args.topic, args.server, timeout)]
            except Exception as exc:
                raise common.CommandError(
                    common.describe_failure(exc, args.topic, timeout))
    out.result(answers, health_table(answers))
    if any(verdict(answer) == health.ERROR for answer in answers):
        return common.EXIT_FAILURE
    return 0


def verdict(answer):
    """A status answer's health verdict (``ok`` from a server too old to
    report one)."""
    return (answer.get("health") or {}).get("verdict", health.OK)


def failing_checks(answer):
    """The checks of a status answer that are not ok, as text."""
    return ["%s %s: %s" % (check["name"], check["status"], check["detail"])
            for check in (answer.get("health") or {}).get("checks", ())
            if check["status"] != health.OK]


def health_table(answers):
    """The servers' table, then their checks' table when any has checks."""
    text = common.format_table(COLUMNS, [
        [verdict(answer) if name == "health" else answer.get(name)
         for name in COLUMNS] for answer in answers])
    checks = [[answer["host"], check["name"], check["status"],
               check["detail"]]
              for answer in answers
              for check in (answer.get("health") or {}).get("checks", ())]
    if checks:
        text += "\n\n" + common.format_table(CHECK_COLUMNS, checks)
    return text


def ping_one(topic, server, timeout):
    """The status of one server of ``topic`` (``server`` if given), with
    ``rtt_ms``: the call's round trip."""
    client = rpc.get_client(oslo_messaging.Target(
        topic=topic, server=server, namespace=status.NAMESPACE,
        version=status.VERSION)).prepare(timeout=timeout)
    started = time.monotonic()
    answer = client.call({}, "ping")
    answer["rtt_ms"] = _ms(time.monotonic() - started)
    return answer


def discover(conf, topic, wait):
    """:func:`tacker_rpc.discovery.discover` with ``rpc`` initialized with
    ``conf`` for the time it takes."""
    with common.rpc_transport(conf):
        return discovery.discover(topic, wait)


def _ms(seconds):
    return round(seconds * 1000, 1)
