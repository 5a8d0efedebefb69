"""oslo.messaging's RabbitMQ wire: names, declarations and the envelope.

Everything a lean-rabbit process puts on the broker is what oslo.messaging's
rabbit driver (18.x) puts there for the same options, so the two drivers
serve and call each other on one broker:

* RPC requests: a ``topic`` exchange named by ``control_exchange`` (or the
  target's), routing key ``topic`` or ``topic.server``; servers consume the
  queues of those names. Fanout: exchange ``<topic>_fanout`` and a queue
  ``<topic>_fanout_<uuid>`` per server. Replies: the default exchange,
  routing key the caller's ``reply_<uuid>`` queue.
* Durability, auto-delete and ``x-`` arguments as oslo.messaging derives
  them from ``amqp_durable_queues``, ``amqp_auto_delete``,
  ``rabbit_quorum_queue``, ``rabbit_transient_quorum_queue``,
  ``rabbit_transient_queues_ttl`` and ``rabbit_ha_queues``.
* Bodies: JSON ``{"oslo.version": "2.0", "oslo.message": "<json>"}``, the
  request context as ``_context_<key>`` fields, ``_msg_id``, ``_reply_q``,
  ``_timeout`` and ``_unique_id``; replies carry ``result``, ``failure``,
  ``ending`` and ``_msg_id``. Persistent delivery mode, content type
  ``application/json``, as kombu sends them.
"""

import collections
import dataclasses
import json
import uuid

import amqp
from oslo_serialization import jsonutils

from tacker_rpc.driver import oslo_hooks

VERSION_KEY = "oslo.version"
MESSAGE_KEY = "oslo.message"
ENVELOPE_VERSION = "2.0"
UNIQUE_ID = "_unique_id"
CONTEXT_PREFIX = "_context_"
PERSISTENT = 2


@dataclasses.dataclass(frozen=True)
class Exchange:
    name: str
    type: str
    durable: bool
    auto_delete: bool


@dataclasses.dataclass(frozen=True)
class Queue:
    """A queue as oslo.messaging declares it, bound to ``exchange`` (None:
    the default exchange, no binding) with ``routing_key``."""

    name: str
    exchange: Exchange
    routing_key: str
    durable: bool
    auto_delete: bool
    arguments: dict
    consumer_arguments: dict = None


class Layout:
    """Exchanges and queues for the options of ``[oslo_messaging_rabbit]``
    (``driver_conf``), as oslo.messaging's rabbit driver declares them."""

    def __init__(self, driver_conf):
        self._conf = driver_conf
        self.durable = (driver_conf.amqp_durable_queues
                        or driver_conf.rabbit_quorum_queue)
        self.auto_delete = driver_conf.amqp_auto_delete
        self.transient_quorum = driver_conf.rabbit_transient_quorum_queue
        self._consumer_arguments = (
            {"x-cancel-on-ha-failover": True}
            if driver_conf.enable_cancel_on_failover else None)

    def topic_exchange(self, name):
        return Exchange(name, "topic", self.durable, self.auto_delete)

    def fanout_exchange(self, topic):
        return Exchange("%s_fanout" % topic, "fanout", self.transient_quorum,
                        True)

    def topic_queue(self, exchange_name, routing_key):
        """The queue of a topic (or ``topic.server``) of RPC servers."""
        return Queue(routing_key, self.topic_exchange(exchange_name),
                     routing_key, self.durable, self.auto_delete,
                     oslo_hooks.queue_arguments(
                         self._conf, 0, self._conf.rabbit_quorum_queue),
                     self._consumer_arguments)

    def fanout_queue(self, topic, unique):
        """A server's own queue on the fanout exchange of ``topic``."""
        return Queue("%s_fanout_%s" % (topic, unique),
                     self.fanout_exchange(topic), topic,
                     self.transient_quorum, False, self._transient_arguments(),
                     self._consumer_arguments)

    def reply_queue(self, name):
        """A caller's reply queue, on the default exchange."""
        return Queue(name, None, "", self.transient_quorum, False,
                     self._transient_arguments(), self._consumer_arguments)

    def _transient_arguments(self):
        return oslo_hooks.queue_arguments(
            self._conf, self._conf.rabbit_transient_queues_ttl,
            self.transient_quorum)


def new_id():
    return uuid.uuid4().hex


def pack_request(message, ctxt):
    """``message`` with the context as ``_context_<key>`` fields and a
    ``_unique_id``, as oslo.messaging sends a request."""
    context = ctxt if isinstance(ctxt, dict) else ctxt.to_dict()
    for key, value in context.items():
        message[CONTEXT_PREFIX + key] = value
    message[UNIQUE_ID] = new_id()
    return message


def unpack_request(message):
    """Split a received request into ``(context dict, msg_id, reply_q,
    client_timeout)``, removing those fields from ``message``."""
    context = {}
    for key in [k for k in message if k.startswith(CONTEXT_PREFIX)]:
        context[key[len(CONTEXT_PREFIX):]] = message.pop(key)
    return (context, message.pop("_msg_id", None),
            message.pop("_reply_q", None), message.pop("_timeout", None))


def encode(message):
    """The body of an AMQP message carrying ``message`` in envelope 2.0."""
    return json.dumps({VERSION_KEY: ENVELOPE_VERSION,
                       MESSAGE_KEY: jsonutils.dumps(message)})


def decode(body):
    """The dict a received body carries: the envelope's message, or the
    body itself when it has no envelope (older senders, notifications)."""
    data = json.loads(body)
    if not (isinstance(data, dict) and VERSION_KEY in data
            and MESSAGE_KEY in data):
        return data
    if str(data[VERSION_KEY]).split(".")[0] != ENVELOPE_VERSION[0]:
        raise oslo_hooks.unsupported_envelope(data[VERSION_KEY])
    return jsonutils.loads(data[MESSAGE_KEY])


def amqp_message(body, expiration=None):
    """An ``amqp.Message`` with the properties kombu gives oslo.messaging's
    messages."""
    properties = {"content_type": "application/json",
                  "content_encoding": "utf-8", "delivery_mode": PERSISTENT,
                  "priority": 0, "application_headers": {}}
    if expiration is not None:
        properties["expiration"] = str(int(expiration * 1000))
    return amqp.Message(body, **properties)


class SeenIds:
    """The last unique ids received, to drop a redelivered duplicate as
    oslo.messaging does (it keeps 16)."""

    SIZE = 16

    def __init__(self):
        self._ids = collections.deque(maxlen=self.SIZE)

    def seen(self, unique_id):
        """True when ``unique_id`` was seen; remembers it otherwise."""
        if unique_id is None:
            return False
        if unique_id in self._ids:
            return True
        self._ids.append(unique_id)
        return False
