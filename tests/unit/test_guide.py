"""Every script of doc/guide.rst runs as it is and prints what the page
says it prints: each ``.. code-block:: python`` in a fresh process (with
``pytest -q`` when its first line says ``# run with pytest``), compared
with the ``prints`` literal block that follows it."""

import os
import subprocess
import sys

import pytest

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "doc",
                     "guide.rst")


def _indented_block(lines, start):
    """The indented block from ``start`` (blank lines kept inside),
    dedented by four spaces, and the index after it."""
    block = []
    index = start
    while index < len(lines) and (not lines[index]
                                  or lines[index].startswith("    ")):
        block.append(lines[index][4:])
        index += 1
    return "\n".join(block).strip("\n") + "\n", index


def examples():
    """``[(title, script, expected output)]`` of the guide, in order."""
    with open(GUIDE) as guide:
        lines = guide.read().splitlines()
    found, title = [], None
    index = 0
    while index < len(lines):
        line = lines[index]
        if index + 1 < len(lines) and set(lines[index + 1]) == {"="}:
            title = line
        if line == ".. code-block:: python":
            script, index = _indented_block(lines, index + 2)
            while not lines[index].startswith("prints"):
                index += 1
            expected, index = _indented_block(lines, index + 2)
            found.append((title, script, expected))
            continue
        index += 1
    return found


EXAMPLES = examples()


def test_the_guide_has_one_script_per_key_class():
    assert [title.split(":")[0] for title, _, _ in EXAMPLES] == [
        "Service", "RPCAPI", "Requester and Responder", "RPCFixture"]


@pytest.mark.parametrize("title,script,expected", EXAMPLES,
                         ids=[title.split(":")[0] for title, _, _
                              in EXAMPLES])
def test_the_guide_script_prints_what_the_guide_says(title, script,
                                                     expected, tmp_path):
    path = tmp_path / "test_guide_example.py"
    path.write_text(script)
    command = [sys.executable, str(path)]
    if script.startswith("# run with pytest"):
        command = [sys.executable, "-m", "pytest", "-q", "-p",
                   "no:cacheprovider", str(path)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    if command[1] == "-m":
        assert expected.strip() in result.stdout, result.stdout
    else:
        assert result.stdout == expected, result.stderr
