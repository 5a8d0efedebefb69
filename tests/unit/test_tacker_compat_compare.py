"""tools/tacker_compat_compare.py, the step of tools/tacker-compat.sh that
fails the proof unless both runs of tacker's tests agree test by test."""

import os
import subprocess
import sys

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools", "tacker_compat_compare.py")


def write_run(path, rows):
    lines = ["test,status,start_time,stop_time"]
    lines += ["%s,%s,," % row for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def compare(tmp_path, own, migrated):
    done = subprocess.run(
        [sys.executable, TOOL, write_run(tmp_path / "own.csv", own),
         write_run(tmp_path / "migrated.csv", migrated)],
        capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout.splitlines()


def test_same_results_pass_and_are_counted(tmp_path):
    run = [("t.a", "success"), ("t.b", "skip"), ("t.c", "success")]

    code, lines = compare(tmp_path, run, list(reversed(run)))

    assert code == 0
    assert lines == [
        "tacker's rpc.py:  3 tests: 1 skip, 2 success",
        "migration module: 3 tests: 1 skip, 2 success",
        "0 tests differ",
    ]


def test_a_status_that_differs_fails_naming_the_test(tmp_path):
    code, lines = compare(tmp_path, [("t.a", "success"), ("t.b", "skip")],
                          [("t.a", "fail"), ("t.b", "skip")])

    assert code == 1
    assert "DIFFERS t.a: success -> fail" in lines
    assert lines[-1] == "1 tests differ"


def test_a_test_run_only_once_fails(tmp_path):
    code, lines = compare(tmp_path, [("t.a", "success"), ("t.b", "success")],
                          [("t.a", "success")])

    assert code == 1
    assert "DIFFERS t.b: success -> not run" in lines


def test_runs_that_recorded_nothing_fail(tmp_path):
    code, lines = compare(tmp_path, [], [])

    assert code == 1
    assert lines[-1] == "a run recorded no test"
