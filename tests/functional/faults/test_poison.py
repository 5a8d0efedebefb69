"""Scenario 5: malformed messages published straight to a Service's queue.

Bodies are published with kombu on the broker's default exchange, routed to
the queue the Service consumes (named after its topic), bypassing every
check of the sending side. After each one the Service must still answer a
well-formed call, and its log must say what was wrong with the message.
"""

import json
import os
import time

import kombu
import oslo_messaging
import pytest

from tacker_rpc import rpc
from tests.functional.faults import traffic as traffic_mod


def envelope(message):
    """Wrap ``message`` the way oslo.messaging 2.0 sends it."""
    return json.dumps({"oslo.version": "2.0",
                       "oslo.message": json.dumps(message)})


BROKEN = "Failed to process message ... skipping it."

# (what is wrong, body, what the Service's log must say about it)
POISON = [
    ("not JSON", b"\x00\xffnot json {", [BROKEN, "DecodeError"]),
    ("JSON without the oslo.messaging envelope",
     json.dumps({"hello": "world"}),
     ["InvalidMessage: RPC message has no method name: 'method' is None"]),
    ("envelope whose message is not JSON",
     json.dumps({"oslo.version": "2.0", "oslo.message": "{nope"}),
     [BROKEN, "JSONDecodeError"]),
    ("message that is a list, not a dict",
     envelope(["logged_cast", {"token": "x"}]), [BROKEN]),
    ("method that is not a string", envelope({"method": 42, "args": {}}),
     ["InvalidMessage: RPC message has no method name: 'method' is 42"]),
    ("args that are not a dict",
     envelope({"method": "echo", "args": "value"}),
     ["InvalidMessage: RPC message for method 'echo': 'args' must be a "
      "dict of keyword arguments, got str 'value'"]),
    ("version that is not a string",
     envelope({"method": "echo", "args": {"value": 1}, "version": 2}),
     ["InvalidMessage: RPC message for method 'echo': 'version' must be a "
      "string, got 2"]),
    ("unknown method", envelope({"method": "no_such_method", "args": {}}),
     ["NoSuchMethod: Endpoint does not support RPC method no_such_method"]),
    ("10 MB payload to an unknown method",
     envelope({"method": "no_such_method_10mb",
               "args": {"blob": "x" * (10 * 1024 * 1024)}}),
     ["does not support RPC method no_such_method_10mb"]),
    ("context fields of the wrong type",
     envelope({"method": "echo", "args": {"value": 1},
               "_context_roles": "admin", "_context_is_admin": "yes"}),
     ["InvalidContext: request context field 'is_admin' must be true or "
      "false, got str"]),
    ("context field that is a list, not a string",
     envelope({"method": "echo", "args": {"value": 1},
               "_context_user_id": ["alice"]}),
     ["InvalidContext: request context field 'user_id' must be a string "
      "or a number, got list"]),
]


@pytest.fixture
def raw_producer(broker_url, rpc_conf):
    url = oslo_messaging.TransportURL.parse(rpc_conf, broker_url)
    host = url.hosts[0]
    with kombu.Connection(hostname=host.hostname, port=host.port,
                          userid=host.username, password=host.password,
                          virtual_host=url.virtual_host or "/") as conn:
        yield conn.Producer(serializer="raw")


def wait_for_log(path, offset, phrases, deadline=60):
    """The log written after ``offset`` once it holds every phrase."""
    end = time.monotonic() + deadline
    while True:
        with open(path, "rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        if all(phrase in text for phrase in phrases):
            return text
        if time.monotonic() > end:
            raise AssertionError("the Service did not log %r; it logged:\n%s"
                                 % (phrases, text[-3000:]))
        time.sleep(0.2)


def test_poison_messages_are_logged_and_service_keeps_serving(
        raw_producer, rpc_conf, journal_dir, servers, broker_url, topic):
    daemon = servers(broker_url, topic, "poison")
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    figures = {}
    for name, body, phrases in POISON:
        offset = os.path.getsize(daemon.log_path)
        raw_producer.publish(body, routing_key=topic, exchange="",
                             content_type="application/json",
                             content_encoding="utf-8")
        logged = wait_for_log(daemon.log_path, offset, phrases)
        answer = client.prepare(timeout=30).call({}, "echo", value=name)
        assert answer == name
        assert daemon.proc.poll() is None
        # What was wrong is said, without copying a huge payload.
        assert len(logged) < 20000
        figures[name] = "logged %d bytes; next call answered" % len(logged)
    traffic_mod.print_figures("Poison messages (one Service, %d bodies)"
                              % len(POISON), figures)
    assert not traffic_mod.read_journals(journal_dir)["cast"]
