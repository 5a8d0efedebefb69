"""examples/conductor_daemon.py on RabbitMQ: a Service and a reqresp
Responder run together under oslo.service's launcher, in their own
process, and SIGTERM stops them cleanly."""

import os
import signal
import sys
import uuid

import oslo_messaging

from tacker_rpc import reqresp
from tacker_rpc import rpc
from tacker_rpc import status
from tests.functional.conftest import REPO_ROOT
from tests.functional.conftest import ServerProcess
from tests.functional.test_reqresp import DEADLINE
from tests.polling import wait_until

sys.path.insert(0, os.path.join(REPO_ROOT, "examples"))
import conductor_daemon  # noqa: E402


def _serving(client):
    try:
        return client.prepare(timeout=1).call({}, "certificates_issued") == 0
    except oslo_messaging.MessagingTimeout:
        return False


def test_the_example_daemon_runs_a_responder_with_its_service(
        broker_url, rpc_conf, tmp_path):
    topic = "conductor-" + uuid.uuid4().hex[:8]
    ca = "ca-" + uuid.uuid4().hex[:8]
    daemon = ServerProcess(None, topic, "example", command=[
        sys.executable, os.path.join("examples", "conductor_daemon.py"),
        "--transport-url", broker_url, "--topic", topic,
        "--responder-topic", ca, "--host", "example",
        "--store", "sqlite:///%s" % (tmp_path / "responder.db")])
    try:
        client = rpc.get_client(oslo_messaging.Target(topic=topic))
        wait_until(lambda: _serving(client), DEADLINE, "the daemon serves")
        with reqresp.Requester(
                conductor_daemon.CertRequest, ca, ca + "-replies",
                store_url="sqlite:///%s" % (tmp_path / "requests.db")
        ) as requester:
            request = requester.send({}, common_name="db1")
            assert request.wait(DEADLINE).cert == "cert-for-db1"
        assert client.call({}, "certificates_issued") == 1
        described = rpc.get_client(oslo_messaging.Target(
            topic=topic, namespace=status.NAMESPACE,
            version=status.VERSION)).call({}, "describe")
        assert [(r["kind"], r["role"], r["topic"])
                for r in described["requests"]] == [
            ("CertRequest", "answers", ca)]
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(DEADLINE) == 0, daemon.log()
        log = daemon.log()
        for bad in ("Traceback", "ERROR", "WARNING"):
            assert bad not in log, log
    finally:
        daemon.stop()
