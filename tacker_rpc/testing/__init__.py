"""Test kit for services that use tacker_rpc.

What a test may rely on:

* :class:`RPCFixture` initializes the toolkit on oslo.messaging's
  in-memory transport for one test (no broker: clients, servers and
  ``Service`` work in the process as on RabbitMQ), records notifications,
  can make casts synchronous (``cast_as_call=True``), and on cleanup gives
  back every piece of process-wide state it or the test changed.
* :func:`stub_service` answers one topic's calls and casts in the process,
  through the same serializer, JSON encoding, dispatcher and exception
  rebuilding as production, and records them.
* :func:`run_method` runs one method of a manager as a server would.
* :func:`assert_action_error` checks a structured
  :class:`~tacker_rpc.exceptions.ActionError`.
* The pytest plugin ``tacker_rpc.testing.pytest_plugin`` (registered, so
  loaded by pytest automatically) offers the fixtures ``rpc_fixture``,
  ``rpc_fixture_cast_as_call`` and ``rpc_stub``.

See README.rst, "Testing a service that uses tacker_rpc".
"""

from tacker_rpc.testing.assertions import assert_action_error
from tacker_rpc.testing.dispatch import run_method
from tacker_rpc.testing.fixture import MEMORY_URL
from tacker_rpc.testing.fixture import RPCFixture
from tacker_rpc.testing.notifications import Notification
from tacker_rpc.testing.stubs import StubbedService
from tacker_rpc.testing.stubs import StubCall
from tacker_rpc.testing.stubs import UnstubbedMethodError
from tacker_rpc.testing.stubs import stub_service

__all__ = [
    "MEMORY_URL", "Notification", "RPCFixture", "StubCall", "StubbedService",
    "UnstubbedMethodError", "assert_action_error", "run_method",
    "stub_service",
]
