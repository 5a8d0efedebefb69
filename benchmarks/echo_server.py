"""The server side of benchmarks/rpc_throughput.py, one process each.

    python -m benchmarks.echo_server oslo --transport-url URL --topic T \
        --host H [--set [GROUP.]NAME=VALUE ...]
    python -m benchmarks.echo_server amqp --transport-url URL --topic T \
        --host H

``oslo`` is a bare oslo.messaging RPC server (``get_rpc_server``, threading
executor, the access policy tacker_rpc uses) on the global ``cfg.CONF``.
``amqp`` is a py-amqp consumer that answers on the request's ``reply_to``
(RabbitMQ's direct reply-to) from its consuming thread: the least work an
RPC server can do. Both print ``ready`` on stdout once their queues are
consumed. The tacker_rpc server is ``tests.functional.server_main`` with
:class:`BenchManager`, as a daemon runs in production.

Every kind serves the same methods: ``echo(value)``, ``note()`` (a cast
that counts) and ``count()`` (casts noted so far).
"""

import argparse
import json
import signal
import threading
import urllib.parse

import amqp
from oslo_config import cfg
from oslo_context import context as oslo_context
import oslo_messaging
from oslo_messaging import opts as om_opts
from oslo_messaging.rpc import dispatcher

#: Set by SIGTERM: the server stops and exits.
STOP = threading.Event()


class BenchManager:
    """The endpoint every benchmark server serves."""

    def __init__(self, host):
        self.host = host
        self._noted = 0
        self._lock = threading.Lock()

    def echo(self, ctxt, value):
        return value

    def note(self, ctxt):
        with self._lock:
            self._noted += 1

    def count(self, ctxt):
        with self._lock:
            return self._noted


class PlainContextSerializer(oslo_messaging.Serializer):
    """What any OpenStack service's serializer does with a request context,
    and nothing more: the bare oslo.messaging baseline of the benchmarks."""

    def serialize_entity(self, ctxt, entity):
        return entity

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return oslo_context.RequestContext.from_dict(ctxt)


def bare_conf(transport_url, settings=()):
    """The global ``cfg.CONF`` with every oslo.messaging option registered,
    ``transport_url`` and each ``[GROUP.]NAME=VALUE`` of ``settings`` set."""
    conf = cfg.CONF
    conf([], project="tacker_rpc_bench")
    register_oslo_messaging_opts(conf)
    conf.set_override("transport_url", transport_url)
    apply_settings(conf, settings)
    return conf


def register_oslo_messaging_opts(conf):
    """Register all of oslo.messaging's options so they can be overridden
    before a transport exists."""
    for group, options in om_opts.list_opts():
        conf.register_opts(options, group=group)


def apply_settings(conf, settings):
    """Override options given as ``[GROUP.]NAME=VALUE`` strings."""
    for item in settings:
        name, _, value = item.partition("=")
        group, _, name = name.rpartition(".")
        conf.set_override(name, value, group=group or None)


def serve_oslo(args):
    conf = bare_conf(args.transport_url, args.set)
    transport = oslo_messaging.get_rpc_transport(conf)
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=args.topic, server=args.host),
        [BenchManager(args.host)], executor="threading",
        serializer=PlainContextSerializer(),
        access_policy=dispatcher.DefaultRPCAccessPolicy)
    server.start()
    print("ready", flush=True)
    STOP.wait()
    server.stop()
    server.wait()
    transport.cleanup()


def amqp_connection(transport_url, confirm_publish=False):
    """A connected py-amqp connection to the first host of a rabbit URL."""
    url = urllib.parse.urlsplit(transport_url.split(",")[0])
    vhost = urllib.parse.unquote(url.path[1:]) or "/"
    connection = amqp.Connection(
        host="%s:%d" % (url.hostname, url.port or 5672),
        userid=urllib.parse.unquote(url.username or "guest"),
        password=urllib.parse.unquote(url.password or "guest"),
        virtual_host=vhost, confirm_publish=confirm_publish)
    connection.connect()
    return connection


def fanout_exchange(topic):
    return "%s_fanout" % topic


def serve_amqp(args):
    connection = amqp_connection(args.transport_url)
    channel = connection.channel()
    manager = BenchManager(args.host)
    methods = {"echo": manager.echo, "note": manager.note,
               "count": manager.count}

    def on_request(message):
        channel.basic_ack(message.delivery_tag)
        request = json.loads(message.body)
        result = methods[request["method"]](request["context"],
                                            **request["args"])
        reply_to = message.properties.get("reply_to")
        if reply_to:
            channel.basic_publish(
                amqp.Message(json.dumps({"result": result}),
                             correlation_id=message.correlation_id),
                exchange="", routing_key=reply_to)

    channel.queue_declare(args.topic, auto_delete=False)
    channel.exchange_declare(fanout_exchange(args.topic), "fanout",
                             auto_delete=True)
    own_queue = "%s.%s" % (args.topic, args.host)
    channel.queue_declare(own_queue, exclusive=True)
    fanout_queue = channel.queue_declare("", exclusive=True).queue
    channel.queue_bind(fanout_queue, fanout_exchange(args.topic))
    for queue in (args.topic, own_queue, fanout_queue):
        channel.basic_consume(queue, callback=on_request)
    print("ready", flush=True)
    while not STOP.is_set():
        try:
            connection.drain_events(timeout=0.5)
        except TimeoutError:
            pass
    connection.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=("oslo", "amqp"))
    parser.add_argument("--transport-url", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--set", action="append", default=[],
                        metavar="[GROUP.]NAME=VALUE",
                        help="override an option (oslo kind only)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    {"oslo": serve_oslo, "amqp": serve_amqp}[args.kind](args)


if __name__ == "__main__":
    main()
