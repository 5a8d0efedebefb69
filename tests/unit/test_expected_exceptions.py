"""doc/migrating.rst's advice on exceptions a method expects, held true.

oslo.messaging's ``expected_exceptions`` decorator wraps what it names in an
``ExpectedException`` that its server unwraps and logs at DEBUG. The
toolkit puts its own dispatchers in between (the message checks, the
status endpoint's in-flight counter): the caller must still receive the
exception as its own class and the server must not log it as an error.
"""

import logging

import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc

SERVER_LOGGER = "oslo_messaging.rpc.server"


class Manager:
    @oslo_messaging.expected_exceptions(exceptions.InvalidContext)
    def expected(self, ctxt):
        raise exceptions.InvalidContext("no such vnf")

    def unexpected(self, ctxt):
        raise exceptions.InvalidContext("no such vnf")


@pytest.fixture
def client(init_rpc):
    init_rpc()
    service = rpc.Service("host", "expected-exc", manager=Manager())
    service.start()
    yield rpc.get_client(oslo_messaging.Target(topic="expected-exc"))
    service.stop()


def _server_records(caplog, level):
    return [record for record in caplog.records
            if record.name == SERVER_LOGGER and record.levelno >= level]


def test_expected_exception_reaches_caller_and_is_logged_at_debug(
        client, caplog):
    caplog.set_level(logging.DEBUG, logger=SERVER_LOGGER)
    with pytest.raises(exceptions.InvalidContext, match="no such vnf"):
        client.call({}, "expected")
    assert _server_records(caplog, logging.WARNING) == []
    assert any("Expected exception" in record.getMessage()
               for record in _server_records(caplog, logging.DEBUG))


def test_undecorated_exception_is_logged_as_an_error(client, caplog):
    caplog.set_level(logging.DEBUG, logger=SERVER_LOGGER)
    with pytest.raises(exceptions.InvalidContext, match="no such vnf"):
        client.call({}, "unexpected")
    assert [record.levelno for record
            in _server_records(caplog, logging.WARNING)] == [logging.ERROR]
