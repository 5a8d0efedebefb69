"""What doc/migrating.rst says about ``launch``, processes and signals.

With oslo.service's threading backend, ``launch(...).wait()`` makes the
calling process a parent that forks the workers, even for ``workers=1``:
SIGTERM to the parent stops every worker, SIGTERM to a worker makes the
parent start another, SIGHUP to the parent replaces every worker. An
oslo.service upgrade that changes any of this fails here, and the page
must change with it. The daemon runs on the in-memory transport (no
broker): only its processes are looked at.
"""

import os
import signal
import subprocess
import sys

import pytest

from tests.polling import wait_until
from tests.unit import launched_service

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Nothing promises how long interpreter start-up and imports take on a
# busy machine; this only bounds a hang.
STARTUP_LIMIT = 60
# A worker that is told to stop has graceful_shutdown_timeout to do so;
# the parent then reaps it and forks its replacement (cotyledon sleeps at
# most 5 s when it forks too fast).
STOP_LIMIT = launched_service.GRACEFUL_SHUTDOWN_TIMEOUT + 5


def _workers(parent_pid):
    """The live worker processes of ``parent_pid``, sorted."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % entry, "rb") as cmdline:
                command = cmdline.read()
        except OSError:  # ended meanwhile
            continue
        state, ppid = fields[0], int(fields[1])
        if ppid == parent_pid and state != "Z" and b"worker(" in command:
            pids.append(int(entry))
    return sorted(pids)


@pytest.fixture
def daemon():
    """``daemon(workers)``: the launched service as a subprocess, killed
    with its process group after the test if still running."""
    procs = []

    def start(workers):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.unit.launched_service",
             str(workers)],
            cwd=REPO_ROOT, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_replaced(proc, old, what):
    def replaced():
        now = _workers(proc.pid)
        if len(now) == len(old) and not set(now) & set(old):
            return now
        return None
    return wait_until(replaced, STOP_LIMIT, what)


def test_one_worker_runs_in_a_child_that_the_parent_respawns(daemon):
    proc = daemon(1)
    [worker] = wait_until(lambda: _workers(proc.pid), STARTUP_LIMIT,
                          "a forked worker")
    assert worker != proc.pid

    os.kill(worker, signal.SIGTERM)
    [worker] = _wait_replaced(proc, [worker],
                              "a new worker after SIGTERM to the worker")
    assert proc.poll() is None

    os.kill(proc.pid, signal.SIGHUP)
    [worker] = _wait_replaced(proc, [worker],
                              "a new worker after SIGHUP to the parent")

    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(STOP_LIMIT) == 0
    assert not os.path.exists("/proc/%d" % worker)


def test_sigterm_to_the_parent_stops_every_worker(daemon):
    proc = daemon(2)
    workers = wait_until(
        lambda: len(_workers(proc.pid)) == 2 and _workers(proc.pid),
        STARTUP_LIMIT, "two forked workers")
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(STOP_LIMIT) == 0
    for worker in workers:
        assert not os.path.exists("/proc/%d" % worker)
