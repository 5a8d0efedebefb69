"""``tacker-rpc serve``: a daemon under oslo.service's launcher."""

import os
import signal
import threading
import time

import oslo_messaging
import pytest

from tacker_rpc import rpc
from tacker_rpc import status
from tests.functional.cli import conftest as cli_conftest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_then_stops_cleanly_on_signal(cli, topic, serve_cli,
                                                    sig):
    server = serve_cli(topic, "serve-host")
    result = cli("call", "echo", 'value={"n": [1, 2]}', "--topic", topic,
                 "--format", "json")
    assert result.returncode == 0, result
    assert result.json()["result"] == {"n": [1, 2]}
    server.signal(sig)
    assert server.wait(60) == 0
    log = server.log()
    assert "serve-host" in log and "rabbit://pifpaf:***@" in log
    assert "service %s on serve-host stopped" % topic in log
    cli_conftest.check_no_password(log, {"secret"})


def wait_until_in_flight(topic, deadline=30):
    status_client = rpc.get_client(oslo_messaging.Target(
        topic=topic, namespace=status.NAMESPACE), timeout=10)
    end = time.monotonic() + deadline
    while status_client.call({}, "ping")["in_flight"] < 1:
        assert time.monotonic() < end, "the call never reached the server"
        time.sleep(0.1)


@pytest.mark.parametrize("to_group", [False, True],
                         ids=["to-process", "to-group-as-ctrl-c"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_lets_the_call_in_flight_finish(topic, serve_cli, sig,
                                               to_group):
    server = serve_cli(topic, "serve-host")
    client = rpc.get_client(oslo_messaging.Target(topic=topic), timeout=60)
    answers = []
    call = threading.Thread(target=lambda: answers.append(
        client.call({}, "sleep", seconds=3)))
    call.start()
    wait_until_in_flight(topic)
    if to_group:
        os.killpg(server.proc.pid, sig)
    else:
        server.signal(sig)
    call.join(60)
    assert answers == [3]
    assert server.wait(60) == 0, server.log()


def test_serve_runs_the_manager_given(cli, topic, serve_cli):
    serve_cli(topic, "serve-host", "--manager", "tacker_rpc.demo:DemoManager")
    result = cli("call", "describe", "--namespace", "tacker_rpc.status",
                 "--topic", topic, "--format", "json")
    assert result.returncode == 0, result
    described = result.json()["result"]
    assert described["manager"] == "tacker_rpc.demo.DemoManager"
    assert {"echo", "whoami", "work", "remember", "refuse"} == {
        method["name"] for method in described["methods"]}


def test_serve_refuses_a_manager_it_cannot_load(cli, topic):
    result = cli("serve", "--topic", topic, "--manager", "tacker_rpc:Nope")
    assert result.returncode == 1
    assert "--manager 'tacker_rpc:Nope': tacker_rpc has no class 'Nope'" in (
        result.stderr)
