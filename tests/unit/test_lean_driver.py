"""Unit tests of the lean-rabbit driver's wire and of its hooks into
oslo.messaging and py-amqp (the broker paths are in
tests/functional/test_lean_driver.py)."""

import json
import os
import socket
import subprocess
import sys
import time

import amqp
from oslo_config import cfg
import oslo_messaging
from oslo_messaging._drivers import common as rpc_common
from oslo_messaging._drivers import impl_rabbit
import pytest

from tacker_rpc import exceptions
from tacker_rpc.driver import link
from tacker_rpc.driver import oslo_hooks
from tacker_rpc.driver import wire
from tests.config import lean_url

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def rabbit_conf(**overrides):
    conf = cfg.ConfigOpts()
    conf([])
    conf.register_opts(impl_rabbit.rabbit_opts, group="oslo_messaging_rabbit")
    conf.register_opts(oslo_messaging._drivers.amqp.amqp_opts,
                       group="oslo_messaging_rabbit")
    for name, value in overrides.items():
        conf.set_override(name, value, group="oslo_messaging_rabbit")
    return conf.oslo_messaging_rabbit


@pytest.mark.parametrize("hook,module,name", [
    ("rabbit_driver_class", impl_rabbit, "RabbitDriver"),
    ("queue_arguments", impl_rabbit, "_get_queue_arguments"),
    ("queue_arguments", impl_rabbit, "QuorumMemConfig"),
    ("serialize_failure", rpc_common, "serialize_remote_exception"),
    ("deserialize_failure", rpc_common, "deserialize_remote_exception"),
    ("unsupported_envelope", rpc_common, "UnsupportedRpcEnvelopeVersion"),
])
def test_oslo_messaging_still_has_what_each_hook_uses(hook, module, name):
    assert callable(getattr(oslo_hooks, hook))
    assert hasattr(module, name), (
        "oslo_hooks.%s needs %s.%s, gone in this oslo.messaging"
        % (hook, module.__name__, name))


def test_py_amqp_still_reads_frames_through_what_buffer_reads_replaces():
    for name in ("_read", "_read_buffer", "raise_on_initial_eintr"):
        assert (hasattr(amqp.transport.TCPTransport, name)
                or name in amqp.transport._AbstractTransport.__slots__), (
            "link.buffer_reads needs TCPTransport.%s" % name)


def test_envelope_is_oslo_messagings():
    message = {"method": "echo", "args": {"value": [1, "a"]}}
    body = wire.encode(message)
    assert rpc_common.deserialize_msg(
        json.loads(body)) == message
    assert wire.decode(
        json.dumps(rpc_common.serialize_msg(message))
    ) == message


def test_envelope_of_another_major_version_is_refused():
    body = '{"oslo.version": "3.0", "oslo.message": "{}"}'
    with pytest.raises(rpc_common.UnsupportedRpcEnvelopeVersion):
        wire.decode(body)


def test_request_context_round_trips_as_oslo_packs_it():
    message = wire.pack_request({"method": "m", "_msg_id": "id-1",
                                 "_reply_q": "reply_x", "_timeout": None},
                                {"user_id": "u", "project_id": "p"})
    assert message["_context_user_id"] == "u"
    assert len(message[wire.UNIQUE_ID]) == 32
    ctxt, msg_id, reply_q, timeout = wire.unpack_request(message)
    assert ctxt == {"user_id": "u", "project_id": "p"}
    assert (msg_id, reply_q, timeout) == ("id-1", "reply_x", None)


def test_queues_are_declared_as_oslo_declares_them():
    layout = wire.Layout(rabbit_conf(
        rabbit_quorum_queue=True, rabbit_transient_quorum_queue=True,
        rabbit_transient_queues_ttl=60))
    topic = layout.topic_queue("openstack", "t.h")
    assert (topic.name, topic.routing_key, topic.exchange.name) == (
        "t.h", "t.h", "openstack")
    assert topic.durable and topic.arguments == {"x-queue-type": "quorum"}
    fanout = layout.fanout_queue("t", "u1")
    assert fanout.name == "t_fanout_u1"
    assert fanout.exchange.name == "t_fanout"
    assert fanout.exchange.type == "fanout"
    assert fanout.arguments == {"x-queue-type": "quorum",
                                "x-expires": 60000}
    reply = layout.reply_queue("reply_1")
    assert reply.exchange is None and reply.durable


def test_duplicate_unique_ids_are_seen():
    seen = wire.SeenIds()
    assert not seen.seen("a")
    assert seen.seen("a")
    assert not seen.seen(None)


def test_buffered_reads_return_exact_sizes_and_keep_the_rest():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        transport = amqp.transport.TCPTransport.__new__(
            amqp.transport.TCPTransport)
        transport.sock = ours
        transport._read_buffer = b""
        transport.raise_on_initial_eintr = True
        link.buffer_reads(transport)
        theirs.sendall(b"0123456789")
        assert transport._read(3) == b"012"
        assert transport._read_buffer == b"3456789"
        assert transport._read(7) == b"3456789"
        theirs.close()
        with pytest.raises(OSError, match="unexpectedly closed"):
            transport._read(1)


def test_no_consumer_is_a_timeout_and_undeliverable_naming_the_topic():
    error = exceptions.NoConsumer("openstack", "topic-x", "NO_ROUTE")
    # Caught by code written for oslo.messaging's MessagingTimeout.
    assert isinstance(error, oslo_messaging.MessagingTimeout)
    assert isinstance(error, oslo_messaging.MessageUndeliverable)
    assert "topic-x" in str(error) and "openstack" in str(error)


def test_lean_url_refuses_other_schemes():
    assert lean_url("rabbit://u:p@h:5672/") == "lean-rabbit://u:p@h:5672/"
    with pytest.raises(ValueError):
        lean_url("kafka://h/")


def test_unknown_ssl_version_is_refused_naming_the_option():
    conf = rabbit_conf(ssl=True, ssl_version="tlsv9")
    url = oslo_messaging.TransportURL.parse(cfg.ConfigOpts(),
                                            "rabbit://u:p@h:5672/")
    with pytest.raises(exceptions.InvalidConfiguration,
                       match="ssl_version = tlsv9"):
        link.Settings.from_conf(conf, url)


EVENTLET_SIMULATOR = """
import eventlet
eventlet.monkey_patch()

import warnings
warnings.simplefilter("error", RuntimeWarning)

from oslo_config import cfg
import oslo_messaging

conf = cfg.ConfigOpts()
conf([])
transport = oslo_messaging.get_rpc_transport(
    conf, url="lean-rabbit://guest:guest@127.0.0.1:%d/")
print(type(transport._driver).__name__)
transport.cleanup()
"""


def test_an_eventlet_process_loads_the_driver_without_a_warning():
    """A plain oslo.messaging process under eventlet (its simulator, say)
    selects lean-rabbit:// by URL: loading the driver warns nothing (the
    toolkit's oslo.service backend is none of its business)."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-c", EVENTLET_SIMULATOR % port], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr, result.stderr
    assert result.stdout.split() == ["LeanRabbitDriver"]


class HeartbeatingConnection:
    """A py-amqp connection whose broker sends only heartbeat frames, one
    every ``gap`` seconds (as RabbitMQ does while it blocks publishers)."""

    def __init__(self, gap):
        self.gap = gap
        self.reads = 0

    def blocking_read(self, timeout):
        if timeout is not None and timeout < self.gap:
            time.sleep(timeout)
            raise TimeoutError("timed out")
        time.sleep(self.gap)
        self.reads += 1
        # Heartbeat frames (no whole method), then a method after a second:
        # a wait that restarts its timeout on each frame ends there.
        return self.reads * self.gap >= 1.0


def test_a_wait_ends_in_time_although_heartbeats_keep_coming():
    waiting = link.Link.__new__(link.Link)
    waiting.connection = HeartbeatingConnection(gap=0.05)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        waiting._read_method(0.3)
    elapsed = time.monotonic() - started
    assert waiting.connection.reads >= 2
    # Within the timeout and one frame's gap, not restarted by each frame.
    assert 0.3 <= elapsed < 0.3 + 0.05 + 0.2
