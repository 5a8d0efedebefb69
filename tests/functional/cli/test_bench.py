"""``tacker-rpc bench`` against a daemon on the real broker."""

import os
import pty
import subprocess

from tests.functional.cli import conftest as cli_conftest


def test_bench_reports_rate_and_percentiles(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("bench", "--topic", topic, "--calls", "40",
                 "--concurrency", "4", "--format", "json")
    assert result.returncode == 0, result
    report = result.json()
    assert (report["method"], report["calls"], report["succeeded"],
            report["errors"]) == ("ping", 40, 40, {})
    assert report["calls_per_second"] > 0
    assert 0 < report["p50_ms"] <= report["p90_ms"] <= report["p99_ms"]
    assert "\r" not in result.stderr and "[#" not in result.stderr


def test_bench_a_manager_method_as_a_table(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("bench", "echo", "value=1", "--topic", topic, "--calls",
                 "10", "--concurrency", "3")
    assert result.returncode == 0, result
    rows = dict(line.split(None, 1) for line in
                result.stdout.splitlines()[2:])
    assert (rows["method"], rows["succeeded"], rows["concurrency"]) == (
        "echo", "10", "3")


def test_bench_counts_errors_and_exits_1(cli, topic, start_server):
    start_server(topic, "h1")
    result = cli("bench", "nope", "--topic", topic, "--calls", "5",
                 "--format", "json")
    assert result.returncode == 1
    report = result.json()
    assert report["succeeded"] == 0
    assert list(report["errors"].values()) == [5]
    assert list(report["errors"])[0].startswith("remote error: NoSuchMethod")


def test_progress_bar_on_a_terminal(topic, start_server, broker_url):
    start_server(topic, "h1")
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [cli_conftest.TACKER_RPC, "bench", "--topic", topic, "--calls",
             "20", "--transport-url", broker_url],
            stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=120)
        os.close(terminal)
        written = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            written += chunk
    finally:
        os.close(controller)
    assert proc.returncode == 0, written
    text = written.decode()
    assert "\r[%s] 20/20" % ("#" * 30) in text
    cli_conftest.check_no_password(text + proc.stdout, {"secret"})
