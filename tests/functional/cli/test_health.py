"""Health checks through ``tacker-rpc ping`` and ``doctor``, metrics
through ``tacker-rpc serve --metrics-port``."""

import oslo_messaging

from tacker_rpc import rpc
from tests.functional import test_observability as observability

MANAGERS = "tests.functional.observability_managers:"


def test_ping_shows_checks_and_exits_zero_on_warnings(cli, topic,
                                                      start_server):
    server = start_server(topic, "healthy-host", MANAGERS + "HealthyManager")
    result = cli("ping", "--topic", topic)
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header == ["host", "pid", "launcher_pid", "version", "uptime",
                      "in_flight", "rtt_ms", "health"]
    row = dict(zip(header, lines[2].split(), strict=True))
    assert (row["host"], row["launcher_pid"], row["health"]) == (
        "healthy-host", str(server.proc.pid), "warning")
    assert lines[4].split() == ["host", "check", "status", "detail"]
    assert lines[6].split() == ["healthy-host", "database", "ok", "3",
                                "connections"]
    assert lines[7].split() == ["healthy-host", "disk", "warning", "81%",
                                "full"]


def test_ping_exits_non_zero_when_a_check_fails(cli, topic, start_server):
    start_server(topic, "failing-host", MANAGERS + "FailingManager")
    for extra in ((), ("--all",)):
        result = cli("ping", "--topic", topic, "--format", "json", *extra)
        assert result.returncode == 1, result
        [answer] = result.json()
        assert answer["health"]["verdict"] == "error"
        assert answer["health"]["checks"][0] == {
            "name": "database", "status": "error",
            "detail": "cannot reach db.example:5432",
            "seconds": answer["health"]["checks"][0]["seconds"]}


def test_doctor_reports_a_failing_check(cli, topic, start_server):
    start_server(topic, "failing-host", MANAGERS + "FailingManager")
    result = cli("doctor", "--topic", topic, "--format", "json")
    assert result.returncode == 1, result
    report = result.json()
    assert report["steps"][-1] == {
        "step": "health failing-host", "result": "FAIL",
        "detail": "database error: cannot reach db.example:5432"}
    assert report["verdict"].startswith(
        "server failing-host (pid ")
    assert report["verdict"].endswith(
        "reports: database error: cannot reach db.example:5432")


def test_serve_exposes_metrics_on_the_port_given(topic, serve_cli,
                                                 tmp_path):
    config = tmp_path / "metrics.conf"
    config.write_text("[DEFAULT]\nrpc_metrics_host = 127.0.0.1\n")
    port = observability.free_port()
    serve_cli(topic, "serve-metrics-host", "--metrics-port", str(port),
              "--config-file", str(config))
    rpc.get_client(oslo_messaging.Target(topic=topic), timeout=30).call(
        {}, "echo", value=1)
    found = observability.scrape_when_up(port)
    assert observability.total(
        found, "oslo_messaging_rpc_server_invocation_end_total", topic=topic,
        method="echo", outcome="ok") >= 1

