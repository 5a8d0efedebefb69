"""The README's long-running request example runs as it is written."""

import os
import subprocess
import sys

from tacker_rpc.cli import main as cli_main

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def readme_example():
    """The literal block after "A certificate authority and its client"."""
    with open(os.path.join(REPO_ROOT, "README.rst")) as readme:
        text = readme.read()
    start = text.index("::\n\n", text.index(
        "A certificate authority and its client")) + 4
    lines = []
    for line in text[start:].splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


def run(tmp_path):
    return subprocess.run(
        [sys.executable, "-c", readme_example()], cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))


def test_the_example_answers_and_a_second_run_sends_nothing(
        tmp_path, capsys):
    first = run(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "<cert for db1.example.org, db1>", "<key of db1.example.org>",
        "1 request(s), 0 pending", "1 response(s) taken by this run"]
    second = run(tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == first.stdout.splitlines()[:3] + [
        "0 response(s) taken by this run"]
    store = "sqlite:///%s" % (tmp_path / "certs.sqlite")
    assert cli_main.main(["requests", "--store", store, "--state",
                          "answered"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 3 and "db1.example.org" in table[2]
