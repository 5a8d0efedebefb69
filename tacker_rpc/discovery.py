"""Who serves a topic: every server answers one fanout ping.

:func:`discover` consumes a temporary reply topic, fans out one
``ping(reply_topic=...)`` to the status endpoint of a topic's servers
(:mod:`tacker_rpc.status`), and collects the status each server casts back
until every server it expects has answered, or for a given time at most;
then it deletes the reply topic's queues from the broker. It needs
``rpc.init`` and servers run as :class:`tacker_rpc.rpc.Service` with the
status endpoint on (the default).

On RabbitMQ the servers expected are the consumers of the topic's queue
(each server consumes it once): the collection ends as soon as that many
have answered, in about one round trip. It lasts the whole wait when a
consumer does not answer (a server with ``rpc_status_endpoint`` off, or
not a :class:`~tacker_rpc.rpc.Service`), and on other transports.
"""

import logging
import queue
import time
import uuid

import oslo_messaging

from tacker_rpc import broker
from tacker_rpc import messaging
from tacker_rpc import status

LOG = logging.getLogger(__name__)

#: Seconds replies are collected by default.
DEFAULT_WAIT = 3.0


class _ReplyCollector:
    """Endpoint of the temporary reply topic: queues each status cast."""

    def __init__(self):
        self._replies = queue.Queue()

    def status_reply(self, ctxt, status):
        self._replies.put((time.monotonic(), status))

    def _collect(self, sent, deadline, expected):
        answers = []
        while expected is None or len(answers) < expected:
            left = deadline - time.monotonic()
            if left <= 0:
                return answers
            try:
                received, answer = self._replies.get(timeout=left)
            except queue.Empty:
                return answers
            answer["rtt_ms"] = round((received - sent) * 1000, 1)
            answers.append(answer)
        return answers


def discover(topic, wait=DEFAULT_WAIT, expected=None):
    """Every server of ``topic`` that answers a fanout ping within
    ``wait`` seconds: their ``ping`` answers (``host``, ``pid``...), each
    with ``rtt_ms`` from the fanout sent to its reply received, sorted by
    host. Returns as soon as ``expected`` servers have answered; None
    means the consumers of the topic's queue on RabbitMQ (see above),
    and the whole wait elsewhere."""
    conf = messaging.current_conf()
    if expected is None:
        state = broker.queue_state(conf, topic, broker.ALL_RABBIT_DRIVERS)
        expected = state[1] if state and state[1] else None
    reply_topic = "tacker-rpc-ping-" + uuid.uuid4().hex
    LOG.debug("collecting status replies on topic %s", reply_topic)
    collector = _ReplyCollector()
    try:
        server = messaging.get_server(
            oslo_messaging.Target(topic=reply_topic, server=reply_topic),
            [collector])
        server.start()
        try:
            sent = time.monotonic()
            messaging.get_client(oslo_messaging.Target(
                topic=topic, fanout=True, namespace=status.NAMESPACE,
                version=status.VERSION)).cast(
                    {}, "ping", reply_topic=reply_topic)
            answers = collector._collect(sent, sent + wait, expected)
        finally:
            server.stop()
            server.wait()
    finally:
        broker.delete_queues(conf, [
            reply_topic, "%s.%s" % (reply_topic, reply_topic)])
    return sorted(answers, key=lambda a: (a["host"], a["pid"]))
