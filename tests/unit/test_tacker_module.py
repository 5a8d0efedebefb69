"""What a team coming from tacker's ``tacker/common/rpc.py`` expects of
``tacker_rpc.rpc`` and of the migration module it writes (doc/migrating.rst):
transport defaults set after the import, init called twice, the service's
own exception modules, its default object serializer, module state that
tests assign and patch, and contexts sent with ``tenant_id``."""

import os
import subprocess
import sys
import textwrap
import types
from unittest import mock

from oslo_config import cfg
import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import opts
from tacker_rpc import rpc
from tacker_rpc import serializer
from tacker_rpc.testing import RPCFixture
from tests.config import MEMORY_URL
from tests.config import make_conf

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def run_python(code):
    """Run ``code`` in a fresh interpreter (process-wide defaults and
    imports are what is tested); returns its stdout lines."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_transport_defaults_set_after_the_import_are_used_by_init():
    # tacker imports its rpc module (so tacker_rpc) before
    # tacker/common/config.py calls set_transport_defaults.
    lines = run_python("""
        import tempfile
        from oslo_config import cfg
        import oslo_messaging
        from tacker_rpc import rpc
        oslo_messaging.set_transport_defaults(control_exchange="tacker")
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf_file:
            conf_file.write("[DEFAULT]\\ntransport_url = fake:/\\n")
            conf_file.flush()
            conf = cfg.ConfigOpts()
            conf(["--config-file", conf_file.name], project="tacker")
            rpc.init(conf)
        print(conf.control_exchange)
        print(rpc.TRANSPORT._driver._default_exchange)
        rpc.cleanup()
    """)
    assert lines == ["tacker", "tacker"]


def test_an_oslo_option_defined_otherwise_is_still_refused():
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt("control_exchange", default="mine",
                                 help="not oslo.messaging's"))
    with pytest.raises(exceptions.InvalidConfiguration,
                       match=r"\[DEFAULT\] control_exchange .*"
                             r"set_transport_defaults"):
        opts.register_opts(conf)


def test_options_registered_again_after_new_transport_defaults():
    # A conf registered before set_transport_defaults keeps the definition
    # it has; the error names the cause rather than oslo.config's
    # DuplicateOptError from deep inside oslo.messaging.
    lines = run_python("""
        from oslo_config import cfg
        import oslo_messaging
        from tacker_rpc import exceptions, opts
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        oslo_messaging.set_transport_defaults(control_exchange="late")
        try:
            opts.register_opts(conf)
        except exceptions.InvalidConfiguration as exc:
            print("refused:", exc)
    """)
    assert len(lines) == 1 and lines[0].startswith("refused: [DEFAULT] "
                                                   "control_exchange")


class ContextEndpoint:
    def whose(self, ctxt):
        return {"user_id": ctxt.user_id, "project_id": ctxt.project_id,
                "project_name": ctxt.project_name}


@pytest.mark.parametrize("sent, project_id", [
    ({"user_id": "u1", "tenant_id": "p1", "tenant_name": "demo"}, "p1"),
    ({"user_id": "u1", "tenant_id": "old", "project_id": "p1",
      "tenant_name": "demo"}, "p1"),
])
def test_a_context_sent_with_tenant_id_arrives_with_its_project(
        init_rpc, memory_server, sent, project_id):
    # Older neutron and tacker senders: tacker's Context.to_dict() sends
    # tenant_id and project_id, older ones tenant_id only.
    init_rpc()
    memory_server("tenants", [ContextEndpoint()])
    client = rpc.get_client(oslo_messaging.Target(topic="tenants"))
    assert client.call(sent, "whose") == {
        "user_id": "u1", "project_id": project_id, "project_name": "demo"}
    rebuilt = serializer.RequestContextSerializer().deserialize_context(sent)
    assert (rebuilt.user_id, rebuilt.project_id) == ("u1", project_id)


@pytest.fixture
def other_transport():
    """A second in-memory RPC transport, not the one rpc.init made."""
    transport = oslo_messaging.get_rpc_transport(make_conf(MEMORY_URL))
    yield transport
    transport.cleanup()


def uses(transport):
    """Whether the toolkit's client, server and Service use ``transport``."""
    target = oslo_messaging.Target(topic="patched", server="h")
    service = rpc.Service("h", "patched-service", manager=ContextEndpoint())
    service.start()
    try:
        return (rpc.get_client(target).transport is transport
                and rpc.get_server(target, []).transport is transport
                and all(server.transport is transport
                        for server in service.conn.servers))
    finally:
        service.stop()


def test_mock_patch_of_the_transport_is_used_then_undone(init_rpc,
                                                         other_transport):
    init_rpc()
    made = rpc.TRANSPORT
    with mock.patch.object(rpc, "TRANSPORT", other_transport):
        assert rpc.TRANSPORT is other_transport
        assert uses(other_transport)
    assert rpc.TRANSPORT is made
    assert uses(made)
    with mock.patch("tacker_rpc.rpc.TRANSPORT", other_transport):
        assert uses(other_transport)
    assert uses(made)


def test_an_assigned_transport_is_used_until_assigned_back(init_rpc,
                                                           other_transport):
    init_rpc()
    saved = rpc.TRANSPORT
    rpc.TRANSPORT = other_transport
    try:
        assert uses(other_transport)
    finally:
        rpc.TRANSPORT = saved
    assert uses(saved)


def test_an_assigned_notifier_is_the_one_get_notifier_prepares(init_rpc):
    init_rpc(host="node-1")
    made = rpc.NOTIFIER
    with mock.patch.object(rpc, "NOTIFIER") as notifier:
        assert rpc.get_notifier("svc") is notifier.prepare.return_value
        notifier.prepare.assert_called_once_with(publisher_id="svc.node-1")
    assert rpc.NOTIFIER is made
    saved, rpc.NOTIFIER = rpc.NOTIFIER, mock.Mock()
    try:
        assert rpc.get_notifier("svc") is rpc.NOTIFIER.prepare.return_value
    finally:
        rpc.NOTIFIER = saved
    assert rpc.get_notifier("svc").publisher_id == "svc.node-1"


def test_cleanup_closes_the_patched_transports_and_patch_restores(
        init_rpc):
    # nova's test of its rpc.cleanup(), on tacker_rpc.
    init_rpc()
    made = (rpc.TRANSPORT, rpc.NOTIFICATION_TRANSPORT, rpc.NOTIFIER)
    with mock.patch.object(rpc, "TRANSPORT") as transport, \
            mock.patch.object(rpc, "NOTIFICATION_TRANSPORT") as notes, \
            mock.patch.object(rpc, "NOTIFIER"):
        rpc.cleanup()
        transport.cleanup.assert_called_once_with()
        notes.cleanup.assert_called_once_with()
        assert (rpc.TRANSPORT, rpc.NOTIFICATION_TRANSPORT, rpc.NOTIFIER) == (
            None, None, None)
    assert (rpc.TRANSPORT, rpc.NOTIFICATION_TRANSPORT, rpc.NOTIFIER) == made


@pytest.mark.parametrize("name", ["TRANSPORT", "NOTIFICATION_TRANSPORT",
                                  "NOTIFIER"])
def test_patching_before_init_restores_none(name):
    with mock.patch.object(rpc, name) as patched:
        assert getattr(rpc, name) is patched
    assert getattr(rpc, name) is None
    assert name in dir(rpc)
    with pytest.raises(exceptions.NotInitializedError):
        rpc.get_client(oslo_messaging.Target(topic="t"))


def test_rpc_fixture_gives_back_what_was_assigned(other_transport):
    rpc.TRANSPORT = other_transport
    try:
        with RPCFixture():
            assert rpc.TRANSPORT not in (None, other_transport)
            rpc.NOTIFIER = mock.Mock()  # and not put back
        assert (rpc.TRANSPORT, rpc.NOTIFIER) == (other_transport, None)
    finally:
        rpc.TRANSPORT = None


class ServiceError(Exception):
    """An exception of the service's own module (tacker's
    tacker.common.exceptions)."""


class FailingManager:
    def fail(self, ctxt):
        raise ServiceError("the service's own error")


def test_the_services_own_exmods_survive_clear_extra_exmods():
    # tacker's test base, once per test: add_extra_exmods('tacker.test'),
    # init(CONF) (the migration module passes allowed_exmods), then
    # cleanup() and clear_extra_exmods().
    for _ in range(2):
        rpc.add_extra_exmods("tacker.test")
        rpc.init(make_conf(MEMORY_URL, rpc_response_timeout=10),
                 allowed_exmods=[__name__])
        assert rpc.get_allowed_exmods() == [
            "tacker_rpc.exceptions", __name__, "tacker.test"]
        connection = rpc.create_connection()
        connection.create_consumer("own-errors", [FailingManager()])
        connection.consume_in_threads()
        client = rpc.get_client(oslo_messaging.Target(topic="own-errors"))
        try:
            with pytest.raises(ServiceError, match="own error"):
                client.call({}, "fail")
        finally:
            connection.close()
        rpc.clear_extra_exmods()
        assert rpc.get_allowed_exmods() == ["tacker_rpc.exceptions",
                                            __name__]
        rpc.cleanup()
        assert rpc.get_allowed_exmods() == ["tacker_rpc.exceptions"]


@pytest.mark.parametrize("allowed", [[ServiceError], [None]])
def test_allowed_exmods_takes_module_names_only(allowed):
    with pytest.raises(TypeError, match="names of modules"):
        rpc.init(make_conf(MEMORY_URL), allowed_exmods=allowed)
    assert rpc.TRANSPORT is None


class Thing:
    """An object the service's serializer carries (tacker's VnfPackage)."""

    def __init__(self, name):
        self.name = name


class ThingSerializer(oslo_messaging.Serializer):
    """An object serializer of the service's (tacker's
    TackerObjectSerializer): a Thing travels as {"thing": name}."""

    def serialize_entity(self, ctxt, entity):
        if isinstance(entity, Thing):
            return {"thing": entity.name}
        return entity

    def deserialize_entity(self, ctxt, entity):
        if isinstance(entity, dict) and set(entity) == {"thing"}:
            return Thing(entity["thing"])
        return entity

    def serialize_context(self, ctxt):
        return ctxt

    def deserialize_context(self, ctxt):
        return ctxt


class ThingManager:
    def kind(self, ctxt, thing):
        return "%s %s" % (type(thing).__name__, getattr(thing, "name", ""))


@pytest.mark.parametrize("server", ["Service", "Connection", "get_server"])
def test_servers_built_without_a_serializer_use_inits(server):
    # tacker's VNFPackageRPCAPI passes TackerObjectSerializer to its
    # client; tacker.service builds rpc.Service(host, topic, manager) with
    # none, and tacker's create_consumer defaulted to that serializer.
    rpc.init(make_conf(MEMORY_URL), serializer=ThingSerializer())
    try:
        if server == "Service":
            running = rpc.Service("h", "things", manager=ThingManager())
            running.start()
        else:
            running = rpc.create_connection()
            if server == "Connection":
                running.create_consumer("things", [ThingManager()], host="h")
            else:
                running.servers.append(rpc.get_server(
                    oslo_messaging.Target(topic="things", server="h"),
                    [ThingManager()]))
            running.consume_in_threads()
        try:
            client = rpc.get_client(oslo_messaging.Target(topic="things"),
                                    serializer=ThingSerializer())
            assert client.call({}, "kind", thing=Thing("pkg")) == "Thing pkg"
            # A client given no serializer sends only what JSON carries.
            with pytest.raises(exceptions.SerializationError):
                rpc.get_client(oslo_messaging.Target(topic="things")).call(
                    {}, "kind", thing=Thing("pkg"))
        finally:
            running.stop() if server == "Service" else running.close()
    finally:
        rpc.cleanup()


def test_init_refuses_a_serializer_without_the_serializer_methods():
    with pytest.raises(TypeError, match="deserialize_entity"):
        rpc.init(make_conf(MEMORY_URL), serializer=object())
    assert rpc.TRANSPORT is None


@pytest.fixture
def migration_module():
    """A service's migration module, as doc/migrating.rst writes one."""
    module = types.ModuleType("service_common_rpc")
    sys.modules[module.__name__] = module
    exec(textwrap.dedent("""
        from tacker_rpc.rpc import *  # noqa
        from tacker_rpc import rpc as _toolkit

        def init(conf):
            _toolkit.init(conf, allowed_exmods=["service.exceptions"])

        _toolkit.share_state(__name__)
    """), module.__dict__)
    yield module
    del sys.modules[module.__name__]


def test_the_migration_modules_state_is_the_toolkits(
        migration_module, other_transport):
    service_rpc = migration_module
    assert service_rpc.TRANSPORT is None and not service_rpc.RPC_DISABLED
    service_rpc.init(make_conf(MEMORY_URL))
    try:
        assert service_rpc.TRANSPORT is rpc.TRANSPORT is not None
        assert "service.exceptions" in service_rpc.get_allowed_exmods()
        made = rpc.TRANSPORT
        with mock.patch.object(service_rpc, "TRANSPORT", other_transport):
            assert rpc.TRANSPORT is other_transport
            assert uses(other_transport)
        assert service_rpc.TRANSPORT is rpc.TRANSPORT is made
        with mock.patch.object(service_rpc, "RPC_DISABLED", True):
            assert rpc.RPC_DISABLED is True
            assert isinstance(rpc.create_connection(), rpc.VoidConnection)
        assert rpc.RPC_DISABLED is False
        saved, service_rpc.NOTIFIER = service_rpc.NOTIFIER, mock.Mock()
        assert rpc.get_notifier("svc") is rpc.NOTIFIER.prepare.return_value
        service_rpc.NOTIFIER = saved
        assert rpc.NOTIFIER is saved
    finally:
        service_rpc.cleanup()
    assert service_rpc.TRANSPORT is None


def test_rpc_fixture_inits_with_the_services_options():
    with RPCFixture(serializer=ThingSerializer(),
                    allowed_exmods=[__name__]):
        assert __name__ in rpc.get_allowed_exmods()
        service = rpc.Service("h", "fixture-things", manager=ThingManager())
        service.start()
        try:
            client = rpc.get_client(
                oslo_messaging.Target(topic="fixture-things"),
                serializer=ThingSerializer())
            assert client.call({}, "kind", thing=Thing("x")) == "Thing x"
        finally:
            service.stop()
    assert rpc.get_allowed_exmods() == ["tacker_rpc.exceptions"]
