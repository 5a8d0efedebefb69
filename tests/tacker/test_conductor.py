"""tacker-conductor's start path on a real RabbitMQ, through the migration
module (doc/migrating.rst, examples/tacker_common_rpc.py).

The conductor (tests.tacker.conductor_main: tacker's own start path) and
a tacker-server-like client (tests.tacker.api_client_main: monkey-patched
by eventlet, calling through ``VNFPackageRPCAPI``) each run in their own
process. Needs tacker installed with the migration module as its
``tacker/common/rpc.py``: tools/tacker-compat.sh runs these tests in
.venv-tacker (``TACKER_RPC_TACKER_TESTS=1``, ``-m tacker``); the other
test runs do not collect tests/tacker.
"""

import importlib.util
import json
import os
import subprocess
import sys
import time
import uuid

import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tacker_rpc import status
from tests.config import make_conf
from tests.functional.conftest import REPO_ROOT
from tests.functional.conftest import ServerProcess
from tests.tacker import package_conductor

pytestmark = pytest.mark.tacker

TOPIC_CONDUCTOR = "TACKER_CONDUCTOR"  # tacker.common.topics
# rpc_response_timeout of both processes: a call's first timeout.
CALL_TIMEOUT = 10
# How long a process may take to start: import tacker, connect, declare
# its queues (oslo.service's launcher forks the conductor's worker).
START_DEADLINE = 60
MIGRATION_MODULE = os.path.join(REPO_ROOT, "examples",
                                "tacker_common_rpc.py")


CONDUCTOR_HOST = "conductor-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def tacker_conf(broker_url, tmp_path_factory):
    """tacker.conf of both processes, after checking that the tacker they
    import runs on the migration module."""
    installed = importlib.util.find_spec("tacker.common.rpc").origin
    with open(installed) as module, open(MIGRATION_MODULE) as ours:
        assert module.read() == ours.read(), (
            "%s is not the migration module" % installed)
    path = tmp_path_factory.mktemp("tacker") / "tacker.conf"
    path.write_text("[DEFAULT]\ntransport_url = %s\nhost = %s\n"
                    "rpc_response_timeout = %d\n"
                    % (broker_url, CONDUCTOR_HOST, CALL_TIMEOUT))
    return str(path)


@pytest.fixture(scope="module")
def conductor(broker_url, tacker_conf):
    """tacker-conductor, answering; stopped after the module's tests."""
    server = ServerProcess(
        broker_url, TOPIC_CONDUCTOR, CONDUCTOR_HOST,
        command=[sys.executable, "-m", "tests.tacker.conductor_main",
                 "--config-file", tacker_conf])
    try:
        wait_answering(server, broker_url)
        yield server
    finally:
        server.stop()


def wait_answering(server, broker_url):
    """Block until the conductor answers a status ping on its topic."""
    rpc.init(make_conf(broker_url))
    try:
        client = rpc.get_client(oslo_messaging.Target(
            exchange="tacker", topic=server.topic,
            namespace=status.NAMESPACE))
        end = time.monotonic() + START_DEADLINE
        while True:
            if server.proc.poll() is not None:
                raise RuntimeError("tacker-conductor exited with %s:\n%s"
                                   % (server.proc.returncode, server.log()))
            try:
                return client.prepare(timeout=1).call({}, "ping")
            except (oslo_messaging.MessagingTimeout, exceptions.NoConsumer):
                if time.monotonic() > end:
                    raise RuntimeError(
                        "tacker-conductor not answering after %ss:\n%s"
                        % (START_DEADLINE, server.log())) from None
                time.sleep(0.1)
    finally:
        rpc.cleanup()


def call_conductor(tacker_conf, *package_ids):
    """What api_client_main printed after calling get_vnf_package_vnfd
    for each id."""
    # Each call answers or times out within its learned timeout, which
    # starts at CALL_TIMEOUT and doubles after a timeout, plus the splay.
    deadline = START_DEADLINE + len(package_ids) * 3 * CALL_TIMEOUT
    done = subprocess.run(
        [sys.executable, "-m", "tests.tacker.api_client_main",
         "--config-file", tacker_conf, "--", *package_ids],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=deadline)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)


def test_manager_receives_tacker_objects(conductor, tacker_conf):
    package_id = str(uuid.uuid4())

    answer = call_conductor(tacker_conf, package_id)

    assert answer["calls"] == {package_id: {"result": {
        "package_class": "tacker.objects.vnf_package.VnfPackage",
        "package_id": package_id,
        "context_class": "tacker.context.Context",
        "project_id": None,
    }}}
    # An eventlet process that only sends is warned of nothing.
    assert not [w for w in answer["warnings"]
                if w.startswith("RuntimeWarning")], answer["warnings"]


def test_tacker_exception_comes_back_as_itself(conductor, tacker_conf):
    missing = package_conductor.MISSING_PACKAGE_ID

    answer = call_conductor(tacker_conf, missing)

    raised = answer["calls"][missing]
    assert "tacker.common.exceptions.VnfPackageNotFound" in raised["raised"]
    # oslo.messaging appends the remote traceback to the message.
    assert raised["message"].startswith(
        "No vnf package with id %s.\n" % missing)
