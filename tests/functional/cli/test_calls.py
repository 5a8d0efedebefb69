"""``tacker-rpc call``, ``cast`` and ``ping`` against daemons on the real
broker."""

import re
import time

import amqp.exceptions
import oslo_messaging

from tacker_rpc import broker
from tacker_rpc import rpc
from tests.config import make_conf
from tests.functional import managers


def test_call_prints_the_result(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("call", "echo", 'value={"a": [1, "x"]}', "--topic", topic)
    assert result.returncode == 0, result
    assert result.stdout.splitlines() == ["key  value", "---  --------",
                                          'a    [1, "x"]']
    result = cli("call", "echo", "value=plain text", "--topic", topic,
                 "--format", "json")
    assert result.json()["result"] == "plain text"


def test_call_reaches_the_server_named(cli, topic, start_server):
    start_server(topic, "h1")
    start_server(topic, "h2")
    for host in ("h1", "h2"):
        result = cli("call", "whoami", "--topic", topic, "--server", host,
                     "--format", "json")
        assert result.json()["result"]["host"] == host, result


def test_remote_errors_exit_1_with_the_error(cli, topic, start_server):
    start_server(topic, "h1")
    for argv, message in [
            (("fail_builtin", "message=boom"),
             "remote error: KeyError: 'boom'"),
            (("fail_allowed", "message=refused"),
             "remote error: InvalidContext: refused"),
            (("no_such_method",), "remote error: NoSuchMethod"),
            (("_private",), "remote error: NoSuchMethod"),
            (("echo",), "remote error: TypeError"),
            (("echo", "value=1", "--namespace", "other"),
             "remote error: UnsupportedVersion")]:
        result = cli("call", *argv, "--topic", topic)
        assert result.returncode == 1, result
        assert message in result.stderr, result
        assert result.stdout == ""


def test_lifecycle_hook_is_not_callable_remotely(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("call", "initialize_service_hook", "--topic", topic)
    assert result.returncode == 1, result
    assert "remote error: NoSuchMethod" in result.stderr, result
    # The Service ran the hook itself, with itself as the argument.
    result = cli("call", "whoami", "--topic", topic, "--format", "json")
    assert result.json()["result"]["service_topic"] == topic, result


def test_action_error_is_printed_as_a_table_or_json(cli, topic,
                                                    start_server):
    start_server(topic, "h1")
    result = cli("call", "refuse", "vnf_id=42", "--topic", topic)
    assert result.returncode == 1, result
    assert result.stdout.splitlines() == [
        "code        field   message                  details",
        "----------  ------  -----------------------  " + "-" * 34,
        'INVALID_ID  vnf_id  not a VNF id             {"expected": '
        '["vnf-*"], "got": 42}',
        "QUOTA               no room for another VNF"], result
    assert result.stderr == (
        "tacker-rpc: error: remote error: ActionError: the server refused "
        "the request (2 errors)\n"), result
    result = cli("call", "refuse", "vnf_id=42", "--topic", topic,
                 "--format", "json")
    assert result.returncode == 1, result
    assert result.json()["errors"] == [
        error.to_dict() for error in managers.refusal(42)], result


def test_call_timeout_exits_1_and_suggests_doctor(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("call", "sleep", "seconds=5", "--topic", topic,
                 "--timeout", "1", "--format", "json")
    assert result.returncode == 1, result
    assert result.json() == {"error": (
        "no answer within 1s from topic %r: is a server running? "
        "(tacker-rpc doctor --topic %s)" % (topic, topic))}


def recorded(host, topic, expected, deadline=30):
    client = rpc.get_client(oslo_messaging.Target(topic=topic, server=host),
                            timeout=10)
    end = time.monotonic() + deadline
    while True:
        got = client.call({}, "get_recorded")
        if got == expected or time.monotonic() > end:
            return got
        time.sleep(0.2)


def test_cast_reaches_one_server(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("cast", "record", "token=t1", "--topic", topic,
                 "--server", "h1")
    assert result.returncode == 0, result
    assert result.stdout.strip() == "cast record sent to topic '%s.h1'" % (
        topic)
    assert recorded("h1", topic, ["t1"]) == ["t1"]


def test_cast_fanout_reaches_every_server(cli, topic, start_server):
    start_server(topic, "h1")
    start_server(topic, "h2")
    result = cli("cast", "record", 'token={"n": 2}', "--topic", topic,
                 "--fanout")
    assert result.returncode == 0, result
    for host in ("h1", "h2"):
        assert recorded(host, topic, [{"n": 2}]) == [{"n": 2}]


def test_ping_one_server(cli, topic, start_server):
    start_server(topic, "h1")
    start_server(topic, "h2")
    result = cli("ping", "--topic", topic, "--server", "h2")
    assert result.returncode == 0, result
    header, rule, row = result.stdout.splitlines()
    assert header.split() == ["host", "pid", "launcher_pid", "version",
                              "uptime", "in_flight", "rtt_ms", "health"]
    assert row.split()[0] == "h2"
    answers = cli("ping", "--topic", topic, "--format", "json").json()
    assert len(answers) == 1 and answers[0]["host"] in ("h1", "h2")


def test_ping_all_discovers_every_server(cli, topic, start_server):
    start_server(topic, "h1")
    start_server(topic, "h2")
    result = cli("ping", "--topic", topic, "--all", "--format", "json")
    assert result.returncode == 0, result
    answers = result.json()
    assert [a["host"] for a in answers] == ["h1", "h2"]
    assert all(a["rtt_ms"] > 0 and a["topic"] == topic for a in answers)


def test_ping_all_ends_once_every_consumer_answered(cli, topic,
                                                   start_server):
    """The topic's queue has two consumers: once both answered, the
    command ends, long before its window."""
    start_server(topic, "h1")
    start_server(topic, "h2")
    window = 60
    started = time.monotonic()
    result = cli("ping", "--topic", topic, "--all", "--timeout",
                 str(window), "--format", "json")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result
    assert [a["host"] for a in result.json()] == ["h1", "h2"]
    assert elapsed < window / 2, elapsed


def test_ping_all_leaves_no_queue_behind(cli, topic, start_server,
                                         broker_url):
    start_server(topic, "h1")
    result = cli("ping", "--topic", topic, "--all", "--debug")
    assert result.returncode == 0, result
    reply_topic = re.search(r"collecting status replies on topic (\S+)",
                            result.stderr).group(1)
    conf = make_conf(broker_url)
    conn = broker.first_connection(conf)
    try:
        for queue in (reply_topic, "%s.%s" % (reply_topic, reply_topic),
                      topic):
            channel = conn.channel()
            try:
                channel.queue_declare(queue=queue, passive=True)
                present = True
            except amqp.exceptions.NotFound:
                present = False
            assert present is (queue == topic), queue
    finally:
        conn.release()


def test_ping_without_server_fails(cli, topic, rpc_conf):
    result = cli("ping", "--topic", topic, "--all", "--timeout", "1")
    assert result.returncode == 1
    assert "no server of topic %r answered within 1s" % topic in (
        result.stderr)
    result = cli("ping", "--topic", topic, "--timeout", "1")
    assert result.returncode == 1
    assert "no answer within 1s from topic %r" % topic in result.stderr
