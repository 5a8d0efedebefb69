"""pytest fixtures of :mod:`tacker_rpc.testing`.

Registered as the ``pytest11`` entry point ``tacker_rpc``, so pytest loads
it in any environment where tacker_rpc is installed:

``rpc_fixture``
    An active :class:`~tacker_rpc.testing.RPCFixture` (``.conf``,
    ``.notifications``, ``.wait_for_notification``), cleaned up after the
    test.
``rpc_fixture_cast_as_call``
    The same with ``cast_as_call=True``.
``rpc_stub``
    ``rpc_stub(topic, namespace=None, **methods)`` starts a
    :func:`~tacker_rpc.testing.stub_service` and returns it; every stub is
    stopped after the test (failing it if a method without stub was
    called).
"""

import pytest

from tacker_rpc import testing


@pytest.fixture
def rpc_fixture():
    with testing.RPCFixture() as fixture:
        yield fixture


@pytest.fixture
def rpc_fixture_cast_as_call():
    with testing.RPCFixture(cast_as_call=True) as fixture:
        yield fixture


@pytest.fixture
def rpc_stub():
    stubs = []

    def start(topic, namespace=None, **methods):
        stub = testing.stub_service(topic, namespace=namespace, **methods)
        stub.setUp()
        stubs.append(stub)
        return stub

    yield start
    failures = []
    for stub in reversed(stubs):
        try:
            stub.cleanUp()
        except Exception as exc:  # the other stubs must stop all the same
            failures.append(exc)
    if failures:
        raise failures[0]
