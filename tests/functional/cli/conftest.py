"""Fixtures of the ``tacker-rpc`` end-to-end tests.

Every command runs as the installed console script in its own process;
each run is checked for broker passwords in its stdout and stderr (where
its logs go).
"""

import json
import os
import subprocess
import sys
import uuid

from oslo_config import cfg
import oslo_messaging
import pytest

from tests.functional import conftest as functional

TACKER_RPC = os.path.join(os.path.dirname(sys.executable), "tacker-rpc")
#: A password only this suite's own broker user has.
DISTINCT_PASSWORD = "Qx7-distinct-pw-" + uuid.uuid4().hex[:8]


def password_of(url):
    return oslo_messaging.TransportURL.parse(cfg.ConfigOpts(),
                                             url).hosts[0].password


class Result:
    """A finished ``tacker-rpc`` run."""

    def __init__(self, argv, proc):
        self.argv, self.returncode = argv, proc.returncode
        self.stdout, self.stderr = proc.stdout, proc.stderr

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return "tacker-rpc %s -> %s\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.argv), self.returncode, self.stdout,
            self.stderr[-3000:])


def check_no_password(text, passwords):
    for password in passwords:
        assert password not in text, "password %r leaked:\n%s" % (
            password, text)


@pytest.fixture(scope="session")
def tacker_rpc_script():
    if not os.access(TACKER_RPC, os.X_OK):
        pytest.fail("%s is missing: pip install -e . first" % TACKER_RPC)
    return TACKER_RPC


@pytest.fixture
def run_cli(tacker_rpc_script):
    """``run_cli(*argv, passwords=(), timeout=120)``: run the command to
    its end; fails the test when a password is in its output."""
    def run(*argv, passwords=(), timeout=120):
        proc = subprocess.run([tacker_rpc_script, *argv], capture_output=True,
                              text=True, timeout=timeout,
                              cwd=functional.REPO_ROOT)
        result = Result(argv, proc)
        check_no_password(result.stdout + result.stderr, passwords)
        return result
    return run


@pytest.fixture
def cli(run_cli, broker_url):
    """``cli(*argv, url=broker_url)``: run_cli against the test broker."""
    def run(*argv, url=broker_url, timeout=120):
        return run_cli(*argv, "--transport-url", url, timeout=timeout,
                       passwords={"secret", password_of(url)})
    return run


@pytest.fixture(scope="session")
def distinct_url(rabbit_broker, broker_url):
    """URL of a broker user with :data:`DISTINCT_PASSWORD` (added with
    rabbitmqctl); the given broker's own URL when the tests use a broker
    they did not start."""
    if rabbit_broker is None:
        yield broker_url
        return
    user = "operator-" + uuid.uuid4().hex[:6]
    rabbit_broker.rabbitmqctl("add_user", user, DISTINCT_PASSWORD)
    rabbit_broker.rabbitmqctl("set_permissions", "-p", "/", user,
                              ".*", ".*", ".*")
    yield rabbit_broker.url(username=user, password=DISTINCT_PASSWORD)
    rabbit_broker.rabbitmqctl("delete_user", user)


@pytest.fixture
def serve_cli(tacker_rpc_script, broker_url, rpc_conf):
    """``serve_cli(topic, host, *extra, url=broker_url, ready=True)``:
    ``tacker-rpc serve`` as a daemon; stopped after the test."""
    servers = []

    def start(topic, host, *extra, url=broker_url, ready=True):
        server = functional.ServerProcess(
            url, topic, host, command=[
                tacker_rpc_script, "serve", "--transport-url", url,
                "--topic", topic, "--host", host, *extra])
        servers.append(server)
        return server.wait_ready() if ready else server

    yield start
    for server in servers:
        server.stop()
