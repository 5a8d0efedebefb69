"""``tacker-rpc doctor`` on the real broker: healthy, and each failure."""

import socket

import pytest


def doctor(cli, topic, *extra, url=None):
    kwargs = {"url": url} if url else {}
    return cli("doctor", "--topic", topic, "--format", "json", *extra,
               **kwargs)


def test_healthy_topic(cli, topic, start_server):
    start_server(topic, "h1")
    start_server(topic, "h2")
    result = doctor(cli, topic)
    assert result.returncode == 0, result
    report = result.json()
    assert report["ok"] is True
    assert report["verdict"] == "topic %r is served: every check passed" % (
        topic)
    steps = report["steps"]
    assert [s["result"] for s in steps] == ["ok"] * 9, steps
    assert [s["step"] for s in steps[3:]] == [
        "queue " + topic, "status round trip", "queue %s.h1" % topic,
        "queue %s.h2" % topic, "health h1", "health h2"]
    assert steps[3]["detail"] == "2 consumer(s), 0 message(s) waiting"
    assert steps[4]["detail"].startswith("h1 ")


def test_table_ends_with_the_verdict(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("doctor", "--topic", topic)
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["step", "result", "detail"]
    assert lines[-1] == ("verdict: topic %r is served: every check passed"
                         % topic)


def test_topic_never_served(cli, topic, rpc_conf):
    result = doctor(cli, topic)
    assert result.returncode == 1
    assert result.json()["verdict"] == (
        "queue %r does not exist: no server has consumed it on exchange "
        "'openstack'" % topic)


def test_no_server_running_for_topic(cli, topic, start_server):
    start_server(topic, "h1").stop()
    result = doctor(cli, topic)
    assert result.returncode == 1
    report = result.json()
    assert report["verdict"] == (
        "queue %r has 0 consumers: no server is running for topic %r"
        % (topic, topic))
    assert report["steps"][-1] == {
        "step": "queue " + topic, "result": "FAIL",
        "detail": "0 consumer(s), 0 message(s) waiting"}


def test_server_without_status_endpoint(cli, topic, start_server):
    start_server(topic, "h1", settings=["rpc_status_endpoint=false"])
    result = doctor(cli, topic, "--timeout", "2")
    assert result.returncode == 1
    assert result.json()["verdict"] == (
        "queue %r has 1 consumer(s) but no server answered the status "
        "endpoint within 2s: the servers are stuck, or run with "
        "rpc_status_endpoint = false" % topic)


def test_wrong_password(cli, topic, broker_url):
    url = broker_url.replace(":secret@", ":Wr0ng-pw-7781@")
    assert url != broker_url
    result = doctor(cli, topic, url=url)
    assert result.returncode == 1
    report = result.json()
    assert report["verdict"] == "login refused for user 'pifpaf' on vhost '/'"
    assert [s["result"] for s in report["steps"]] == ["ok", "FAIL"]


def test_vhost_refused(cli, topic, distinct_url):
    result = doctor(cli, topic, url=distinct_url.rstrip("/") + "/nowhere")
    assert result.returncode == 1
    assert "may not use vhost 'nowhere'" in result.json()["verdict"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("output", ["json", "table"])
def test_unreachable_port(cli, topic, output):
    port = free_port()
    result = cli("doctor", "--topic", topic, "--format", output,
                 url="rabbit://pifpaf:secret@127.0.0.1:%d/" % port)
    assert result.returncode == 1
    verdict = "broker 127.0.0.1:%d is unreachable: Connection refused" % port
    if output == "json":
        assert result.json()["verdict"] == verdict
    else:
        assert result.stdout.splitlines()[-1] == "verdict: " + verdict


def test_other_commands_fail_fast_on_unreachable_broker(cli, topic):
    port = free_port()
    for command in (("call", "echo"), ("cast", "echo"), ("ping",),
                    ("bench",)):
        result = cli(*command, "--topic", topic, timeout=60,
                     url="rabbit://pifpaf:secret@127.0.0.1:%d/" % port)
        assert result.returncode == 1, result
        assert ("broker 127.0.0.1:%d is unreachable: Connection refused"
                % port) in result.stderr
