"""``tacker-rpc ping``: ask a topic's servers for their status.

Without ``--all`` one server answers a call to the status endpoint (any
server of the topic, or the one ``--server`` names). With ``--all`` the
servers are discovered: this process consumes a temporary reply topic,
fans out one ``ping(reply_topic=...)`` to the topic, and every server
casts its status back to the reply topic; replies are collected for
``--timeout`` seconds. On RabbitMQ the reply topic's queues are deleted
afterwards.
"""

import logging
import queue
import time
import uuid

import oslo_messaging

from tacker_rpc import rpc
from tacker_rpc import status
from tacker_rpc.cli import broker
from tacker_rpc.cli import common

LOG = logging.getLogger(__name__)

COLUMNS = ("host", "pid", "version", "uptime", "in_flight", "rtt_ms")
#: Seconds ``--all`` collects replies by default.
DEFAULT_WAIT = 3.0


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
    out.result(answers, common.format_table(
        COLUMNS, [[answer[name] for name in COLUMNS] for answer in answers]))


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


class _ReplyCollector:
    """Endpoint of the temporary reply topic: queues each status cast."""

    def __init__(self):
        self._replies = queue.Queue()

    def status_reply(self, ctxt, status):
        self._replies.put((time.monotonic(), status))

    def _collect(self, sent, deadline):
        answers = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return answers
            try:
                received, answer = self._replies.get(timeout=left)
            except queue.Empty:
                return answers
            answer["rtt_ms"] = _ms(received - sent)
            answers.append(answer)


def discover(conf, topic, wait):
    """Every server of ``topic`` that answers a fanout ping within
    ``wait`` seconds, sorted by host, each with ``rtt_ms``: from the
    fanout sent to its reply received.

    Initializes ``rpc`` with ``conf`` for the time it takes, then deletes
    the temporary reply topic's queues from the broker.
    """
    reply_topic = "tacker-rpc-ping-" + uuid.uuid4().hex
    LOG.debug("collecting status replies on topic %s", reply_topic)
    collector = _ReplyCollector()
    try:
        with common.rpc_transport(conf):
            server = rpc.get_server(
                oslo_messaging.Target(topic=reply_topic, server=reply_topic),
                [collector])
            server.start()
            try:
                sent = time.monotonic()
                rpc.get_client(oslo_messaging.Target(
                    topic=topic, fanout=True, namespace=status.NAMESPACE,
                    version=status.VERSION)).cast(
                        {}, "ping", reply_topic=reply_topic)
                answers = collector._collect(sent, sent + wait)
            finally:
                server.stop()
                server.wait()
    finally:
        broker.delete_queues(conf, [reply_topic,
                                    "%s.%s" % (reply_topic, reply_topic)])
    return sorted(answers, key=lambda a: (a["host"], a["pid"]))


def _ms(seconds):
    return round(seconds * 1000, 1)
