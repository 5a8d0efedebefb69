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
    def init(transport_url=MEMORY_URL, client_middleware=None,
             server_middleware=None, **overrides):
        conf = make_conf(transport_url, **overrides)
        rpc.init(conf, client_middleware=client_middleware,
                 server_middleware=server_middleware)
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
    """``memory_server(topic, endpoints=None, **kwargs)``: an in-process
    RPC server on the in-memory transport serving ``endpoints`` (default:
    :class:`EchoEndpoint`), ``kwargs`` going to ``rpc.get_server``; stopped
    after the test, before rpc.cleanup(). Call init_rpc first."""
    servers = []

    def start(topic, endpoints=None, **kwargs):
        server = rpc.get_server(
            oslo_messaging.Target(topic=topic, server="unit-host"),
            endpoints or [EchoEndpoint()], **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        server.wait()
