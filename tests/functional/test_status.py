"""The status endpoint of a Service, over the real broker, served by a
daemon in its own process."""

import os
import threading
import time

import oslo_messaging
import pytest

import tacker_rpc
from tacker_rpc import rpc
from tacker_rpc import status


def status_client(topic, server=None, timeout=10):
    return rpc.get_client(oslo_messaging.Target(
        topic=topic, server=server, namespace=status.NAMESPACE,
        version=status.VERSION), timeout=timeout)


def test_ping_says_who_answers(rpc_conf, topic, start_server):
    start_server(topic, "st-host")
    answer = status_client(topic).call({}, "ping")
    assert answer["host"] == "st-host"
    assert answer["topic"] == topic
    assert answer["version"] == tacker_rpc.__version__
    assert answer["pid"] != os.getpid()
    assert answer["in_flight"] == 0
    assert answer["uptime"] > 0


def test_describe_lists_the_managers_methods(rpc_conf, topic, start_server):
    start_server(topic, "st-host")
    described = status_client(topic).call({}, "describe")
    assert described["manager"] == "tests.functional.managers.TestManager"
    methods = {m["name"]: m for m in described["methods"]}
    assert methods["echo"]["signature"] == "(value)"
    assert methods["sleep"]["signature"] == "(seconds)"
    assert "_private" not in methods
    assert "initialize_service_hook" not in methods
    assert {"record", "get_recorded", "whoami"} <= set(methods)


def test_ping_counts_requests_in_flight(rpc_conf, topic, start_server):
    start_server(topic, "st-host")
    manager = rpc.get_client(oslo_messaging.Target(topic=topic), timeout=60)
    calls = [threading.Thread(target=manager.call,
                              args=({}, "sleep"), kwargs={"seconds": 4})
             for _ in range(2)]
    for call in calls:
        call.start()
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen.append(status_client(topic).call({}, "ping")["in_flight"])
        if seen[-1] == 2:
            break
    for call in calls:
        call.join()
    assert seen[-1] == 2, seen
    assert status_client(topic).call({}, "ping")["in_flight"] == 0


@pytest.mark.parametrize("name", ["_service", "_in_flight", "_started",
                                  "__init__", "__class__"])
def test_internals_are_refused_at_once(rpc_conf, topic, start_server,
                                       name):
    start_server(topic, "st-host")
    started = time.monotonic()
    with pytest.raises(oslo_messaging.RemoteError) as error:
        status_client(topic, timeout=30).call({}, name)
    assert error.value.exc_type == "NoSuchMethod"
    assert time.monotonic() - started < 15


def test_namespace_not_served_when_option_is_off(rpc_conf, topic,
                                                 start_server):
    start_server(topic, "st-host", settings=["rpc_status_endpoint=false"])
    with pytest.raises(oslo_messaging.RemoteError) as error:
        status_client(topic, timeout=30).call({}, "ping")
    assert error.value.exc_type == "UnsupportedVersion"
    manager = rpc.get_client(oslo_messaging.Target(topic=topic), timeout=30)
    assert manager.call({}, "echo", value="still served") == "still served"


def test_manager_methods_named_like_status_ones_stay_the_managers(
        rpc_conf, topic, start_server):
    start_server(topic, "st-host")
    manager = rpc.get_client(oslo_messaging.Target(topic=topic), timeout=30)
    with pytest.raises(oslo_messaging.RemoteError) as error:
        manager.call({}, "ping")
    assert error.value.exc_type == "NoSuchMethod"


def test_a_service_without_manager_serves_its_own_methods(rpc_conf, topic,
                                                          start_server):
    start_server(topic, "self-host",
                 manager="service:tests.functional.managers:"
                         "SelfServingService")
    client = rpc.get_client(oslo_messaging.Target(topic=topic), timeout=10)
    assert client.call({}, "served_by") == {"topic": topic,
                                             "host": "self-host"}
    for lifecycle in ("stop", "wait", "reset", "start", "add_component"):
        with pytest.raises(oslo_messaging.RemoteError) as error:
            client.call({}, lifecycle)
        assert error.value.exc_type == "NoSuchMethod", lifecycle
    described = status_client(topic).call({}, "describe")
    assert described["manager"] == (
        "tests.functional.managers.SelfServingService")
    assert sorted(m["name"] for m in described["methods"]) == [
        "echo", "served_by"]
    # Still serving after the refusals.
    assert client.call({}, "echo", value=1) == 1
