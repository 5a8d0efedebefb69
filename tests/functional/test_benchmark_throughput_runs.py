"""benchmarks/rpc_throughput.py still runs against its own RabbitMQ and
servers (its figures are not judged here)."""

import json
import subprocess
import sys

from benchmarks import rpc_throughput
from tests.functional.conftest import REPO_ROOT


def test_throughput_benchmark_runs_every_variant_and_kind(tmp_path):
    output = tmp_path / "rpc_throughput.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.rpc_throughput", "--duration",
         "0.3", "--repeats", "1", "--concurrency", "2", "--servers", "1",
         "--cast-concurrency", "2", "--fanout-servers", "2", "--output",
         str(output)],
        cwd=REPO_ROOT, check=True, timeout=600, capture_output=True)
    rows = json.loads(output.read_text())["summary"]
    seen = {(row["kind"], row["variant"]) for row in rows}
    assert seen == {(kind, variant) for kind in ("call", "cast", "fanout")
                    for variant in rpc_throughput.VARIANTS
                    if (kind, variant) != ("fanout", "amqp-noconfirm")}
    for row in rows:
        assert row["rate"] > 0, row
        assert row["server_cpu_us"] > 0, row
        if row["variant"] != rpc_throughput.LIMIT:
            assert row["vs_amqp"] > 0, row
