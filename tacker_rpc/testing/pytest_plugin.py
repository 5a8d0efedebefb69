"""pytest fixtures of :mod:`tacker_rpc.testing`.

Registered as the ``pytest11`` entry point ``tacker_rpc``, so pytest loads
it in any environment where tacker_rpc is installed:

``rpc_fixture``
    An active :class:`~tacker_rpc.testing.RPCFixture` (``.conf``,
    ``.notifications``, ``.wait_for_notification``), cleaned up after the
    test, made with the service's configuration and exception modules that
    the two fixtures below give.
``rpc_fixture_cast_as_call``
    The same with ``cast_as_call=True``.
``rpc_fixture_conf``
    The ``ConfigOpts`` given to the fixture: None (a private one) unless
    the service's ``conftest.py`` overrides this fixture to return its own
    (with its options registered, and any override a test needs).
``rpc_fixture_exmods``
    The exception modules given to the fixture (as ``rpc.init``'s
    ``allowed_exmods``): none unless the service's
    ``conftest.py`` overrides this fixture to list its own, so that its
    exceptions reach the test's callers as their own class.

``rpc_stub``
    ``rpc_stub(topic, namespace=None, **methods)`` starts a
    :func:`~tacker_rpc.testing.stub_service` and returns it; every stub is
    stopped after the test (failing it if a method without stub was
    called).

A service's ``conftest.py``::

    @pytest.fixture
    def rpc_fixture_conf():
        conf = cfg.ConfigOpts()
        conf([], project="conductor", default_config_files=[])
        conductor_conf.register_opts(conf)
        return conf

    @pytest.fixture
    def rpc_fixture_exmods():
        return ["conductor.exceptions"]

doc/guide.rst runs such a test module.
"""

import pytest

from tacker_rpc import testing


@pytest.fixture
def rpc_fixture_conf():
    return None


@pytest.fixture
def rpc_fixture_exmods():
    return []


@pytest.fixture
def rpc_fixture(rpc_fixture_conf, rpc_fixture_exmods):
    with testing.RPCFixture(conf=rpc_fixture_conf,
                            allowed_exmods=rpc_fixture_exmods) as fixture:
        yield fixture


@pytest.fixture
def rpc_fixture_cast_as_call(rpc_fixture_conf, rpc_fixture_exmods):
    with testing.RPCFixture(conf=rpc_fixture_conf, cast_as_call=True,
                            allowed_exmods=rpc_fixture_exmods) as fixture:
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
