"""benchmarks/overhead.py still runs (its figures are not judged here)."""

import json
import subprocess
import sys

from tests.functional.conftest import REPO_ROOT


def test_overhead_benchmark_runs_and_writes_its_results(tmp_path):
    output = tmp_path / "overhead.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.overhead", "--rounds", "2",
         "--calls", "5", "--micro-calls", "20", "--output", str(output)],
        cwd=REPO_ROOT, check=True, timeout=300, capture_output=True)
    results = json.loads(output.read_text())
    for part in ("end_to_end", "wrapper"):
        assert len(results[part]["rounds"]) == 2
        for clock in ("cpu_us", "wall_us"):
            figures = results[part]["summary"][clock]
            assert figures["oslo.messaging"] > 0
            assert figures["tacker_rpc"] > 0
            assert figures["ratio"] > 0
    assert len(results["declared"]["rounds"]) == 2
    assert results["declared"]["summary"]["declared_us"] > 0
    assert results["machine"]["cores"] >= 1
