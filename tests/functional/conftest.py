"""Fixtures of the functional tests: a private RabbitMQ and server processes.

The broker is started once per test session (pifpaf, loopback, free ports)
unless ``TACKER_RPC_TEST_URL`` names one to use instead. Server sides run in
their own processes, launched as a daemon is in production. Private
PostgreSQL and MariaDB servers (:mod:`tests.databases`) are started for
the tests that ask for them, once per session.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import oslo_messaging
import pytest

from tacker_rpc import rpc
from tests import broker as broker_mod
from tests import databases
from tests.config import make_conf

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def rabbit_broker():
    """The session's private :class:`tests.broker.RabbitBroker`, or None
    when ``TACKER_RPC_TEST_URL`` names another broker to use."""
    if os.environ.get("TACKER_RPC_TEST_URL"):
        yield None
        return
    with broker_mod.RabbitBroker() as broker:
        yield broker


@pytest.fixture(scope="session")
def database_server():
    """``database_server(name)``: the session's private server of
    ``name`` (a key of :data:`tests.databases.SERVERS`), started on first
    use; raises RuntimeError, failing the test, when it cannot start."""
    started = {}

    def server(name):
        if name not in started:
            started[name] = databases.SERVERS[name]().start()
        return started[name]

    yield server
    for running in started.values():
        running.stop()


@pytest.fixture(scope="session")
def broker_url(rabbit_broker):
    """Transport URL of the session's private RabbitMQ."""
    return os.environ.get("TACKER_RPC_TEST_URL") or rabbit_broker.url()


@pytest.fixture
def rpc_conf(broker_url):
    """``rpc.init`` on a private conf against the broker; cleaned up after.

    Options may be changed before the first client is made.
    """
    conf = make_conf(broker_url, rpc_response_timeout=5)
    rpc.init(conf)
    yield conf
    rpc.cleanup()


@pytest.fixture
def topic():
    """A topic no other test uses."""
    return "t-" + uuid.uuid4().hex[:12]


class ServerProcess:
    """A ``tests.functional.server_main`` daemon in its own process group.

    ``command``, when given, is run instead: another daemon serving
    ``topic`` as ``host`` (the other arguments are then unused).
    """

    def __init__(self, transport_url, topic, host, manager=None,
                 settings=(), command=None, oslo_log=False):
        if command is None:
            command = [sys.executable, "-m", "tests.functional.server_main",
                       "--transport-url", transport_url, "--topic", topic,
                       "--host", host]
            if manager:
                command += ["--manager", manager]
            for setting in settings:
                command += ["--set", setting]
            if oslo_log:
                command.append("--oslo-log")
        self.topic, self.host = topic, host
        self.log_path = os.path.join(
            os.environ.get("TMPDIR", "/tmp"),
            "trpc-server-%s-%s.log" % (host, uuid.uuid4().hex[:6]))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_ready(self, deadline=60):
        """Block until the server answers an echo sent to it by name."""
        client = rpc.get_client(oslo_messaging.Target(
            topic=self.topic, server=self.host))
        end = time.monotonic() + deadline
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("server %s exited with %s:\n%s" % (
                    self.host, self.proc.returncode, self.log()))
            try:
                client.prepare(timeout=1).call({}, "echo", value="ready")
                return self
            except oslo_messaging.MessagingTimeout:
                if time.monotonic() > end:
                    raise RuntimeError("server %s not ready after %ss:\n%s"
                                       % (self.host, deadline, self.log()))
                time.sleep(0.1)

    def signal(self, sig):
        """Send ``sig`` to the daemon's launcher process."""
        self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL the daemon's whole process group (a crash)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def wait(self, timeout):
        return self.proc.wait(timeout)

    def stop(self):
        """SIGTERM, then SIGKILL if it has not exited within 30 s."""
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self):
        self._log.flush()
        with open(self.log_path, "rb") as log:
            return log.read().decode(errors="replace")[-4000:]


@pytest.fixture
def start_server(broker_url, rpc_conf):
    """Start server processes; every one is stopped after the test."""
    servers = []

    def start(topic, host, manager=None, settings=(), ready=True,
              oslo_log=False):
        server = ServerProcess(broker_url, topic, host, manager, settings,
                               oslo_log=oslo_log)
        servers.append(server)
        return server.wait_ready() if ready else server

    yield start
    for server in servers:
        server.stop()
