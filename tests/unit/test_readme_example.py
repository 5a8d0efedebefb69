"""The README's Observability example runs as it is."""

import os
import subprocess
import sys

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.rst")


def observability_example():
    """The literal block after "Runnable as it is" in the Observability
    section, dedented."""
    lines = open(README).read().split("\nObservability\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("Runnable as it is")) + 1
    while not lines[start - 1].rstrip().endswith("::"):
        start += 1
    block = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block).strip() + "\n"


def test_the_observability_example_runs():
    code = observability_example()
    assert "rpc.init(conf, client_middleware" in code
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "health: ok [{'name': 'database', 'status': 'ok'" in proc.stdout
    assert 'method="get_vnf"' in proc.stdout and "} 1.0" in proc.stdout
    requests = [line for line in proc.stderr.splitlines()
                if line.startswith("tacker_rpc.requests rpc ")]
    assert len(requests) == 4, proc.stderr  # get_vnf and ping, both sides
    assert "'password': '***'" in proc.stderr
    assert "s3cret" not in proc.stdout + proc.stderr
