"""The README's test-kit example runs, as a service's tests would run it:
in a pytest of its own, with the plugin found through its entry point."""

import os
import subprocess
import sys

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.rst")
MARKER = "``tests/unit/test_readme_testing_example.py`` runs"


def readme_example():
    """The literal block that follows the paragraph naming this file."""
    with open(README) as readme:
        lines = readme.read().splitlines()
    start = next(i for i, line in enumerate(lines) if MARKER in line)
    while not lines[start].endswith("::"):
        start += 1
    block = []
    for line in lines[start + 1:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block).strip() + "\n"


def test_the_readme_example_passes(tmp_path):
    example = tmp_path / "test_service_example.py"
    example.write_text(readme_example())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(example)], cwd=tmp_path, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout, result.stdout
