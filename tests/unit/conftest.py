"""Fixtures of the unit tests: the in-memory transport, no broker."""

import contextlib

import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tests.config import MEMORY_URL
from tests.config import make_conf


@pytest.fixture
def init_rpc():
    """``init_rpc(**overrides)``: rpc.init on a private in-memory conf.

    Returns the conf; rpc.cleanup() runs after the test when the test left
    rpc initialized. Extra exception modules are forgotten after the test.
    """
    def init(transport_url=MEMORY_URL, **overrides):
        conf = make_conf(transport_url, **overrides)
        rpc.init(conf)
        return conf

    yield init
    rpc.clear_extra_exmods()
    with contextlib.suppress(exceptions.NotInitializedError):
        rpc.cleanup()


class EchoEndpoint:
    def echo(self, ctxt, value):
        return value

    def _private(self, ctxt):
        return "must never be reachable"


@pytest.fixture
def memory_server(init_rpc):
    """``memory_server(topic)``: an in-process RPC server on the in-memory
    transport serving :class:`EchoEndpoint`; stopped after the test, before
    rpc.cleanup(). Call init_rpc first."""
    servers = []

    def start(topic):
        server = rpc.get_server(
            oslo_messaging.Target(topic=topic, server="unit-host"),
            [EchoEndpoint()])
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        server.wait()
