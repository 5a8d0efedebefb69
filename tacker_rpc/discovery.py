"""Who serves a topic: every server answers one fanout ping.

:func:`discover` consumes a temporary reply topic, fans out one
``ping(reply_topic=...)`` to the status endpoint of a topic's servers
(:mod:`tacker_rpc.status`), and collects the status each server casts back
for a given time; then it deletes the reply topic's queues from the broker.
It needs ``rpc.init`` and servers run as :class:`tacker_rpc.rpc.Service`
with the status endpoint on (the default).
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
            answer["rtt_ms"] = round((received - sent) * 1000, 1)
            answers.append(answer)


def discover(topic, wait=DEFAULT_WAIT):
    """Every server of ``topic`` that answers a fanout ping within
    ``wait`` seconds: their ``ping`` answers (``host``, ``pid``...), each
    with ``rtt_ms`` from the fanout sent to its reply received, sorted by
    host."""
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
            answers = collector._collect(sent, sent + wait)
        finally:
            server.stop()
            server.wait()
    finally:
        broker.delete_queues(messaging.current_conf(), [
            reply_topic, "%s.%s" % (reply_topic, reply_topic)])
    return sorted(answers, key=lambda a: (a["host"], a["pid"]))
