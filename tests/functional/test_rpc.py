"""The RPC module on a real RabbitMQ, server sides in their own processes.

Most tests share two daemons, ``alpha`` and ``beta``, consuming one topic
(the ``pair`` fixture): each test uses its own tokens, so they do not see
each other's work.
"""

import functools
import signal
import threading
import time
import types
import uuid

import oslo_messaging
import pytest

from tacker_rpc import backoff
from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import rpc
from tests import polling
from tests.config import make_conf
from tests.functional import remote_errors
from tests.functional.conftest import ServerProcess

HOSTS = ("alpha", "beta")

#: Long enough never to expire in a test that expects an answer.
PATIENT = 30

wait_until = functools.partial(polling.wait_until, deadline=PATIENT)


@pytest.fixture(scope="module")
def pair(broker_url):
    """Two daemons consuming the same topic as servers alpha and beta."""
    topic = "pair-" + uuid.uuid4().hex[:12]
    servers = [ServerProcess(broker_url, topic, host) for host in HOSTS]
    try:
        rpc.init(make_conf(broker_url))
        try:
            for server in servers:
                server.wait_ready()
        finally:
            rpc.cleanup()
        yield types.SimpleNamespace(topic=topic, servers=servers)
    finally:
        for server in servers:
            server.stop()


def client_for(topic, **target):
    return rpc.get_client(oslo_messaging.Target(topic=topic, **target))


def token():
    return uuid.uuid4().hex


def recorded(topic, host):
    return client_for(topic, server=host).prepare(timeout=PATIENT).call(
        {}, "get_recorded")


def assert_still_serving(topic, host):
    client = client_for(topic, server=host).prepare(timeout=PATIENT)
    assert client.call({}, "echo", value="still serving") == "still serving"


def test_call_returns_the_answer_of_a_server_process(rpc_conf, pair):
    value = {"vnf": "v1", "hosts": ["a", "b"], "count": 2, "ok": True,
             "none": None}
    assert client_for(pair.topic).call({}, "echo", value=value) == value


def test_cast_is_handled_by_the_server(rpc_conf, pair):
    sent = token()
    assert client_for(pair.topic, server="alpha").cast(
        {}, "record", token=sent) is None
    wait_until(lambda: sent in recorded(pair.topic, "alpha"),
               what="cast recorded")


def test_fanout_reaches_every_server(rpc_conf, pair):
    sent = token()
    client_for(pair.topic, fanout=True).cast({}, "record", token=sent)
    for host in HOSTS:
        wait_until(lambda host=host: sent in recorded(pair.topic, host),
                   what="fanout recorded on %s" % host)
        assert recorded(pair.topic, host).count(sent) == 1


def test_server_target_reaches_only_that_host(rpc_conf, pair):
    for host in HOSTS:
        client = client_for(pair.topic, server=host)
        answers = {client.call({}, "whoami")["host"] for _ in range(8)}
        assert answers == {host}


def test_servers_competing_on_a_topic_share_the_work_once_each(rpc_conf,
                                                               pair):
    client = client_for(pair.topic)
    answered_by = {client.call({}, "whoami")["host"] for _ in range(12)}
    assert answered_by == set(HOSTS)

    sent = [token() for _ in range(40)]
    for each in sent:
        client.cast({}, "record", token=each)

    def everything_recorded():
        per_host = {host: [t for t in recorded(pair.topic, host)
                           if t in sent] for host in HOSTS}
        if sum(len(tokens) for tokens in per_host.values()) >= len(sent):
            return per_host
        return None

    per_host = wait_until(everything_recorded, what="all casts recorded")
    handled = per_host["alpha"] + per_host["beta"]
    assert sorted(handled) == sorted(sent)
    assert per_host["alpha"] and per_host["beta"]


def test_version_cap_refuses_on_the_caller_and_sends_nothing(
        rpc_conf, pair, monkeypatch):
    client = rpc.get_client(
        oslo_messaging.Target(topic=pair.topic, server="alpha"),
        version_cap="1.0")
    sent_methods = []
    real_send = client.transport._send

    def spy(target, ctxt, message, **kwargs):
        sent_methods.append(message["method"])
        return real_send(target, ctxt, message, **kwargs)

    monkeypatch.setattr(client.transport, "_send", spy)
    refused = token()
    newer = client.prepare(version="1.1")
    with pytest.raises(oslo_messaging.RPCVersionCapError):
        newer.cast({}, "record", token=refused)
    with pytest.raises(oslo_messaging.RPCVersionCapError):
        newer.call({}, "echo", value=refused)
    assert sent_methods == []
    assert not client.can_send_version("1.1")

    client.prepare(version="1.0").cast({}, "record", token="after-refusal")
    wait_until(lambda: "after-refusal" in recorded(pair.topic, "alpha"),
               what="cast within the cap")
    assert refused not in recorded(pair.topic, "alpha")


def test_context_fields_arrive_on_the_server(rpc_conf, pair):
    sent = context.RequestContext(
        user_id="user-1", project_id="project-1",
        roles=["admin", "member"], is_admin=True,
        request_id="req-11111111-2222-3333-4444-555555555555",
        global_request_id="req-99999999-8888-7777-6666-555555555555")
    answer = client_for(pair.topic).call(sent, "whoami")
    assert answer["context_class"] == "tacker_rpc.context.RequestContext"
    arrived = answer["context"]
    assert arrived["request_id"] == sent.request_id
    assert arrived["global_request_id"] == sent.global_request_id
    assert arrived["user_id"] == "user-1"
    assert arrived["project_id"] == "project-1"
    assert arrived["roles"] == ["admin", "member"]
    assert arrived["is_admin"] is True


def test_legacy_context_dict_arrives_as_a_context(rpc_conf, pair):
    arrived = client_for(pair.topic).call(
        {"user": "old-user", "tenant": "old-project", "colour": "blue"},
        "whoami")["context"]
    assert (arrived["user_id"], arrived["project_id"]) == ("old-user",
                                                           "old-project")
    assert arrived["request_id"].startswith("req-")


def test_exception_of_the_toolkit_is_raised_as_its_class(rpc_conf, pair):
    with pytest.raises(exceptions.InvalidContext) as info:
        client_for(pair.topic).call({}, "fail_allowed", message="no vnf x")
    assert type(info.value).__name__ == "InvalidContext_Remote"
    assert "no vnf x" in str(info.value)


@pytest.fixture
def extra_exmods(rpc_conf):
    """rpc initialized again after add_extra_exmods(remote_errors)."""
    rpc.cleanup()
    rpc.add_extra_exmods(remote_errors.__name__)
    try:
        rpc.init(rpc_conf)
        yield
    finally:
        rpc.clear_extra_exmods()


def test_exception_of_an_added_module_is_raised_as_its_class(extra_exmods,
                                                             pair):
    with pytest.raises(remote_errors.VnfNotFound, match="vnf-42"):
        client_for(pair.topic).call({}, "fail_extra", message="vnf-42")


def test_exception_of_a_module_not_allowed_is_a_remote_error(rpc_conf,
                                                              pair):
    client = client_for(pair.topic)
    with pytest.raises(oslo_messaging.RemoteError) as info:
        client.call({}, "fail_not_allowed", message="secret sauce")
    assert info.value.exc_type == "NotAllowedError"
    assert "secret sauce" in info.value.value
    with pytest.raises(oslo_messaging.RemoteError):
        client.call({}, "fail_extra", message="not added in this test")


def test_builtin_exception_is_raised_as_its_class(rpc_conf, pair):
    with pytest.raises(KeyError, match="missing-key"):
        client_for(pair.topic).call({}, "fail_builtin",
                                    message="missing-key")


@pytest.mark.parametrize("method", ["no_such_method", "_private"])
def test_unknown_and_private_methods_are_refused_without_timeout(
        rpc_conf, pair, method):
    rpc_conf.set_override("rpc_response_timeout", PATIENT)
    client = client_for(pair.topic)
    started = time.monotonic()
    with pytest.raises(oslo_messaging.RemoteError) as info:
        client.call({}, method)
    assert info.value.exc_type == "NoSuchMethod"
    assert method in info.value.value
    assert time.monotonic() - started < PATIENT
    # Refused, not timed out: the timeout table learns nothing of it.
    assert [entry for entry in backoff.TIMEOUTS.snapshot()
            if entry.key.method == method] == []


def test_unserializable_argument_fails_on_the_caller(rpc_conf, pair):
    client = client_for(pair.topic, server="alpha")
    with pytest.raises(exceptions.SerializationError) as info:
        client.call({}, "echo", value={"when": object()})
    assert "'echo'" in str(info.value)
    assert "argument value['when']" in str(info.value)
    assert_still_serving(pair.topic, "alpha")


class NotARequestContext:
    """What a peer that does not use RequestContextSerializer may send:
    not a dict, and fields of the wrong types."""

    def to_dict(self):
        return {"user_id": "u1", "roles": "admin"}


def test_bad_context_from_a_raw_client_gets_a_clear_error(rpc_conf, pair):
    transport = client_for(pair.topic).transport
    raw = oslo_messaging.get_rpc_client(
        transport, oslo_messaging.Target(topic=pair.topic, server="beta"),
        timeout=PATIENT)
    with pytest.raises(exceptions.InvalidContext, match="roles"):
        raw.call(NotARequestContext(), "echo", value=1)
    assert_still_serving(pair.topic, "beta")


class NotificationRecorder:
    def __init__(self):
        self.events = []
        self.arrived = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.events.append((ctxt, publisher_id, event_type, payload))
        self.arrived.set()


def test_notification_reaches_a_listener(rpc_conf):
    topic = "notifications-" + token()[:12]
    rpc.cleanup()
    rpc_conf.set_override("driver", ["messagingv2"],
                          group="oslo_messaging_notifications")
    rpc_conf.set_override("topics", [topic],
                          group="oslo_messaging_notifications")
    rpc_conf.set_override("host", "node-3")
    rpc.init(rpc_conf)

    recorder = NotificationRecorder()
    transport = oslo_messaging.get_notification_transport(rpc_conf)
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic)], [recorder],
        executor="threading", serializer=rpc.RequestContextSerializer())
    listener.start()
    try:
        ctxt = context.RequestContext(user_id="u7", project_id="p7",
                                      request_id="req-notify-7")
        rpc.get_notifier("vnfm").info(ctxt, "vnf.create.end",
                                      {"vnf_id": "v7", "size": 3})
        assert recorder.arrived.wait(PATIENT)
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
    [(received_ctxt, publisher_id, event_type, payload)] = recorder.events
    assert publisher_id == "vnfm.node-3"
    assert event_type == "vnf.create.end"
    assert payload == {"vnf_id": "v7", "size": 3}
    assert isinstance(received_ctxt, context.RequestContext)
    assert (received_ctxt.user_id, received_ctxt.project_id,
            received_ctxt.request_id) == ("u7", "p7", "req-notify-7")


def test_sigterm_lets_the_call_in_flight_finish(rpc_conf, topic,
                                                start_server):
    server = start_server(topic, "stopping-host")
    client = client_for(topic).prepare(timeout=PATIENT)
    outcome = {}

    def call_in_flight():
        try:
            outcome["result"] = client.call({}, "sleep", seconds=2)
        except Exception as exc:
            outcome["error"] = exc

    caller = threading.Thread(target=call_in_flight)
    caller.start()
    wait_until(lambda: client.call({}, "sleeping_now") == 1,
               what="the sleep call in flight")
    server.signal(signal.SIGTERM)
    caller.join(PATIENT)
    assert outcome == {"result": 2}
    assert server.wait(PATIENT) == 0, server.log()


def test_call_without_server_times_out_at_1_2_4_seconds(rpc_conf, pair,
                                                        monkeypatch):
    rpc_conf.set_override("rpc_response_timeout", 1)
    rpc_conf.set_override("rpc_backoff_max_splay", 0.1)
    # The first call of a process sets up its reply queue; do it now so
    # that it is not part of what is measured.
    client_for(pair.topic).prepare(timeout=PATIENT).call({}, "echo",
                                                         value=0)
    client = client_for("nobody-" + token()[:12])
    sent = []
    real_send = client.transport._send

    def spy(target, ctxt, message, timeout=None, **kwargs):
        sent.append(timeout)
        return real_send(target, ctxt, message, timeout=timeout, **kwargs)

    monkeypatch.setattr(client.transport, "_send", spy)
    elapsed = []
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(oslo_messaging.MessagingTimeout):
            client.call({}, "echo", value=1)
        elapsed.append(time.monotonic() - started)

    assert sent == [1, 2, 4]
    for used, took in zip(sent, elapsed, strict=True):
        # At least the timeout, and clearly less than the next doubling
        # (the splay is at most 0.1 s).
        assert 0.95 * used <= took < 2 * used, elapsed
    [state] = [entry for entry in backoff.TIMEOUTS.snapshot()
               if entry.key.method == "echo"
               and entry.key.topic.startswith("nobody-")]
    assert state.timeout == 8
