"""``tacker-rpc demo`` needs no broker at all."""

import os
import subprocess

from tests.functional.cli import conftest as cli_conftest


def run_demo(*argv):
    env = {key: value for key, value in os.environ.items()
           if key != "TACKER_RPC_TEST_URL"}
    return subprocess.run([cli_conftest.TACKER_RPC, "demo", *argv],
                          capture_output=True, text=True, timeout=120,
                          env=env, cwd="/")


def test_demo_shows_timeouts_growing_then_recovering():
    proc = run_demo("--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = cli_conftest.Result(["demo"], proc).json()
    assert result["transport_url"] == "kombu+memory:////"
    rows = result["rows"]
    assert [row["phase"] for row in rows] == (
        ["normal"] * 4 + ["stalled"] * 3 + ["recovered"] * 3)
    assert rows[0]["outcome"] == "'hello'"
    assert rows[1]["outcome"] == "user alice, project demo"
    assert rows[2]["outcome"] == "server got 1 note(s)"
    assert rows[3]["outcome"].startswith("InvalidContext raised")
    stalled = rows[4:7]
    assert [row["outcome"] for row in stalled] == ["MessagingTimeout"] * 3
    assert [row["timeout"] for row in stalled] == [2.0, 4.0, 8.0]
    assert [row["took"] >= used for row, used
            in zip(stalled, (1.0, 2.0, 4.0), strict=True)] == [True] * 3
    recovered = rows[7:]
    assert [row["outcome"] for row in recovered] == ["6", "8", "10"]
    assert recovered[-1]["timeout"] == 1.0
    assert [row["t"] for row in rows] == sorted(row["t"] for row in rows)


def test_demo_prints_a_table_as_it_goes():
    proc = run_demo()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("transport kombu+memory:////")
    assert lines[1].split() == ["t", "phase", "call", "outcome", "took",
                                "timeout"]
    assert sum("MessagingTimeout" in line for line in lines) == 3
    assert lines[-1].split()[1:4] == ["recovered", "work(5)", "10"]
    assert proc.stderr == ""
