"""The examples under examples/ run as the README says, with no broker."""

import os
import subprocess
import sys

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")


def test_declared_api_example():
    proc = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "declared_api.py")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:6] == [
        "get_vnf: ACTIVE",
        "refused by the client: ConductorAPI.get_vnf(): argument 'vnf_id' "
        "must be str, got int 42",
        "refused by the server: ConductorAPI.get_vnf(): argument 'vnf_id' "
        "must be str, got int 42 (field vnf_id)",
        "count() needs 1.3, the cap is 1.2: not sent",
        "call_parallel: ['vnf-1', 'vnf-2', 'vnf-3']",
        "each_server: {'node1': 'node1', 'node2': 'node2'}",
    ]
    assert "                        vnf_id: str           the VNF's id" \
        in lines
