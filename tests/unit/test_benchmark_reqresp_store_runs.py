"""benchmarks/reqresp_store.py still runs (its figures are not judged
here); on SQLite only: its PostgreSQL and MariaDB runs start the servers
tests/functional/test_reqresp_store_databases.py already tests."""

import subprocess
import sys

from tests.functional.conftest import REPO_ROOT


def test_reqresp_store_benchmark_runs():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.reqresp_store", "--requests",
         "20", "--lookups", "2", "--repeats", "1", "--backends", "sqlite"],
        cwd=REPO_ROOT, check=True, timeout=300, capture_output=True,
        text=True)
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert [row[:2] for row in rows] == [["sqlite", "response_by"],
                                         ["sqlite", "create_or_update"]]
    assert all(float(row[4]) > 0 for row in rows)
