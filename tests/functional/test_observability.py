"""Correlation, metrics, health checks and oslo.messaging's ping on the
real broker, each server a daemon in its own process."""

import socket
import threading
import urllib.request
import uuid

import oslo_messaging
from prometheus_client import parser

from tacker_rpc import context
from tacker_rpc import rpc
from tacker_rpc import status
from tests import polling

MANAGERS = "tests.functional.observability_managers:"
#: Seconds a test waits for something the broker delivers at once.
PATIENT = 30


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scrape(port):
    """{(name, frozenset(labels)): value} of one scrape of /metrics, by a
    real HTTP client."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = answer.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in parser.text_string_to_metric_families(text)
            for sample in family.samples}


def total(found, name, **labels):
    wanted = set(labels.items())
    return sum(value for (n, sample_labels), value in found.items()
               if n == name and wanted <= sample_labels)


def scrape_when_up(port, deadline=PATIENT):
    def scraped():
        try:
            return scrape(port)
        except OSError:
            return None
    return polling.wait_until(scraped, deadline, "/metrics on port %d" % port)


class Recorder:
    """Notification endpoint: keeps what arrives."""

    def __init__(self):
        self.events = []
        self.arrived = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.events.append((ctxt, event_type, payload))
        self.arrived.set()


def test_a_three_hop_chain_carries_the_origin_id_everywhere(
        rpc_conf, start_server):
    run = uuid.uuid4().hex[:8]
    topics = ["hop-%s-%s" % (name, run) for name in "abc"]
    notifications = "relay-notifications-" + run
    settings = ["rpc_server_middleware=logging",
                "rpc_client_middleware=logging",
                "oslo_messaging_notifications.driver=messagingv2",
                "oslo_messaging_notifications.topics=" + notifications]
    servers = [start_server(topic, "host-" + topic[4], MANAGERS +
                            "RelayManager", settings, oslo_log=True)
               for topic in topics]
    recorder = Recorder()
    transport = oslo_messaging.get_notification_transport(rpc_conf)
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=notifications)], [recorder],
        executor="threading", serializer=rpc.RequestContextSerializer())
    listener.start()
    origin = "req-origin-" + run
    try:
        seen = rpc.get_client(oslo_messaging.Target(topic=topics[0]),
                              timeout=PATIENT).call(
            context.RequestContext(request_id=origin), "relay",
            chain=topics[1:])
        assert recorder.arrived.wait(PATIENT)
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()

    a, b, c = seen
    assert len({a["pid"], b["pid"], c["pid"]}) == 3
    assert (a["request_id"], a["global_request_id"]) == (origin, None)
    for hop in (b, c):
        assert hop["global_request_id"] == origin
        assert hop["request_id"] != origin, "each hop has its own request"
    [(ctxt, event_type, payload)] = recorder.events
    assert (event_type, payload) == ("relay.end", {"host": "host-c"})
    assert ctxt.global_request_id == origin
    for server in servers[1:]:
        casts = rpc.get_client(oslo_messaging.Target(
            topic=server.topic), timeout=PATIENT).call({}, "get_casts_seen")
        assert [cast["global_request_id"] for cast in casts] == [origin]

    for server, hop in zip(servers, seen, strict=True):
        with open(server.log_path) as log:
            lines = log.read().splitlines()
        relay_lines = [line for line in lines if "relay at" in line]
        assert len(relay_lines) == 1, "\n".join(lines[-30:])
        assert origin in relay_lines[0], relay_lines[0]
        assert hop["request_id"] in relay_lines[0]
        handled = [line for line in lines
                   if "rpc server" in line and ":relay -> ok" in line]
        assert len(handled) == 1 and origin in handled[0], handled


def test_metrics_are_scraped_while_calls_run(rpc_conf, topic, start_server):
    port = free_port()
    start_server(topic, "metrics-host", settings=[
        "rpc_metrics_port=%d" % port, "rpc_metrics_host=127.0.0.1"])
    labels = {"topic": topic, "method": "echo", "endpoint": "TestManager"}
    first = scrape_when_up(port)
    client = rpc.get_client(oslo_messaging.Target(topic=topic),
                            timeout=PATIENT)
    stop = threading.Event()
    answered = []

    def keep_calling():
        while not stop.is_set():
            answered.append(client.call({}, "echo", value=len(answered)))

    callers = [threading.Thread(target=keep_calling) for _ in range(2)]
    for caller in callers:
        caller.start()
    try:
        polling.wait_until(lambda: len(answered) >= 20, PATIENT,
                           "20 answers")
        during = scrape(port)
    finally:
        stop.set()
        for caller in callers:
            caller.join(PATIENT)
    last = scrape(port)

    def moved(scraped, name, **more):
        return (total(scraped, name, **labels, **more)
                - total(first, name, **labels, **more))

    started = "oslo_messaging_rpc_server_invocation_start_total"
    assert moved(during, started) >= 20
    assert moved(last, started) == len(answered)
    assert moved(last, "oslo_messaging_rpc_server_invocation_end_total",
                 outcome="ok") == len(answered)
    assert moved(last, "oslo_messaging_rpc_server_processing_seconds_count"
                 ) == len(answered)
    assert total(last, "tacker_rpc_server_requests_in_flight",
                 topic=topic) == 0
    assert total(last, "process_cpu_seconds_total") > 0


def test_health_checks_and_pids_in_ping(rpc_conf, topic, start_server):
    server = start_server(topic, "healthy-host", MANAGERS + "HealthyManager")
    answer = rpc.get_client(oslo_messaging.Target(
        topic=topic, namespace=status.NAMESPACE), timeout=PATIENT).call(
        {}, "ping")
    assert answer["launcher_pid"] == server.proc.pid
    assert answer["pid"] not in (server.proc.pid, None)
    assert answer["health"]["verdict"] == "warning"
    assert [(c["name"], c["status"], c["detail"])
            for c in answer["health"]["checks"]] == [
        ("database", "ok", "3 connections"), ("disk", "warning", "81% full")]


def test_oslo_rpc_server_ping_answers_existing_tooling(rpc_conf, topic,
                                                       start_server):
    start_server(topic, "oslo-ping-host", settings=["rpc_ping_enabled=true"])
    transport = oslo_messaging.get_rpc_transport(rpc_conf)
    try:
        bare_client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topic), timeout=PATIENT)
        assert bare_client.call({}, "oslo_rpc_server_ping") == "pong"
    finally:
        transport.cleanup()
