"""What a service that swaps its own rpc.py for tacker_rpc relies on: its
own options, its own context class, the module state the peers expose,
lifecycle hooks kept local, and a notifier named without arguments."""

import os
import subprocess
import sys

from oslo_config import cfg
import oslo_messaging
import pytest

from tacker_rpc import context
from tacker_rpc import dispatcher
from tacker_rpc import exceptions
from tacker_rpc import opts
from tacker_rpc import rpc
from tacker_rpc import status
from tests.config import MEMORY_URL

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def service_conf(*own_opts, project="tacker"):
    """A ConfigOpts on which the service registered ``own_opts`` first, as
    tacker, nova and neutron do at import."""
    conf = cfg.ConfigOpts()
    conf.register_opts(list(own_opts))
    conf([], project=project)
    return conf


def init_memory(conf, **kwargs):
    opts.register_opts(conf)
    conf.set_override("transport_url", MEMORY_URL)
    rpc.init(conf, **kwargs)


@pytest.fixture
def cleanup_rpc():
    yield
    if rpc.TRANSPORT is not None:
        rpc.cleanup()


def test_init_reuses_the_services_own_host_option(cleanup_rpc):
    conf = service_conf(
        cfg.StrOpt("host", default="tacker-node-1",
                   help="The service's own help for host."),
        cfg.IntOpt("rpc_response_max_timeout", default=600,
                   help="neutron's own ceiling."))
    init_memory(conf)
    assert conf.host == "tacker-node-1"
    assert conf.rpc_response_max_timeout == 600
    assert conf._opts["host"]["opt"].help == (
        "The service's own help for host.")
    assert rpc.get_notifier("svc").publisher_id == "svc.tacker-node-1"
    opts.register_opts(conf)  # again: still no DuplicateOptError


def test_a_different_definition_of_an_oslo_messaging_option_is_named():
    conf = service_conf(cfg.IntOpt("rpc_response_timeout", default=120,
                                   help="The service's own timeout."))
    with pytest.raises(exceptions.InvalidConfiguration,
                       match=r"\[DEFAULT\] rpc_response_timeout is "
                             r"registered with a definition other than "
                             r"oslo.messaging's"):
        init_memory(conf)
    assert rpc.TRANSPORT is None


class ServiceContext:
    """A service's own context class, as tacker's ``Context``."""

    def __init__(self, user_id=None):
        self.user_id = user_id

    @classmethod
    def from_dict(cls, values):
        return cls(user_id=values.get("user_id"))

    def to_dict(self):
        return {"user_id": self.user_id}


class ContextRecorder:
    def __init__(self):
        self.received = []

    def record(self, ctxt):
        self.received.append(ctxt)
        return type(ctxt).__name__


def test_init_context_class_reaches_every_serializer_the_toolkit_builds(
        cleanup_rpc):
    init_memory(service_conf(), context_class=ServiceContext)
    endpoint = ContextRecorder()
    server = rpc.get_server(
        oslo_messaging.Target(topic="ctx", server="h"), [endpoint])
    server.start()
    try:
        client = rpc.get_client(oslo_messaging.Target(topic="ctx"))
        assert client.serializer.context_class is ServiceContext
        assert client.call(ServiceContext("u1"), "record") == (
            "ServiceContext")
    finally:
        server.stop()
        server.wait()
    assert endpoint.received[0].user_id == "u1"
    assert rpc.NOTIFIER._serializer.context_class is ServiceContext
    rpc.cleanup()
    init_memory(service_conf())
    client = rpc.get_client(oslo_messaging.Target(topic="ctx"))
    assert client.serializer.context_class is context.RequestContext


def test_init_refuses_a_context_class_without_from_dict(cleanup_rpc):
    with pytest.raises(TypeError, match="from_dict"):
        init_memory(service_conf(), context_class=object)
    assert rpc.TRANSPORT is None


def test_module_state_is_a_view_of_the_current_transports(cleanup_rpc):
    assert (rpc.TRANSPORT, rpc.NOTIFICATION_TRANSPORT, rpc.NOTIFIER) == (
        None, None, None)
    init_memory(service_conf())
    assert isinstance(rpc.TRANSPORT, oslo_messaging.Transport)
    assert rpc.get_client(
        oslo_messaging.Target(topic="t")).transport is rpc.TRANSPORT
    assert isinstance(rpc.NOTIFICATION_TRANSPORT, oslo_messaging.Transport)
    assert rpc.NOTIFIER.transport is rpc.NOTIFICATION_TRANSPORT
    # What a service builds a notification listener on.
    listener = oslo_messaging.get_notification_listener(
        rpc.NOTIFICATION_TRANSPORT,
        [oslo_messaging.Target(topic="notifications")], [],
        executor="threading")
    assert listener.transport is rpc.NOTIFICATION_TRANSPORT
    rpc.cleanup()
    assert (rpc.TRANSPORT, rpc.NOTIFICATION_TRANSPORT, rpc.NOTIFIER) == (
        None, None, None)
    assert {"TRANSPORT", "NOTIFIER", "NOTIFICATION_TRANSPORT"} <= set(
        dir(rpc))


def test_other_module_attributes_stay_assignable(monkeypatch):
    monkeypatch.setattr(rpc, "RPC_DISABLED", True)
    assert isinstance(rpc.create_connection(), rpc.VoidConnection)
    with pytest.raises(AttributeError, match="no attribute 'NOTHING'"):
        rpc.NOTHING  # noqa: B018


class Manager:
    def initialize_service_hook(self, service):
        raise AssertionError("a lifecycle hook ran from a message")

    def init_host(self):
        raise AssertionError("a lifecycle hook ran from a message")

    def periodic_tasks(self, ctxt, raise_on_error=False):
        raise AssertionError("a lifecycle hook ran from a message")

    def get_vnf(self, ctxt, vnf_id):
        """Return the VNF."""
        return vnf_id


@pytest.mark.parametrize("hook", sorted(dispatcher.NEVER_CALLABLE))
def test_lifecycle_hooks_are_never_callable(hook):
    assert not dispatcher.callable_remotely(hook)
    assert not dispatcher.AccessPolicy().is_allowed(Manager(), hook)


def test_a_lifecycle_hook_is_refused_like_a_private_method(init_rpc):
    init_rpc()
    server = rpc.get_server(
        oslo_messaging.Target(topic="hooks", server="h"), [Manager()])
    server.start()
    try:
        client = rpc.get_client(oslo_messaging.Target(topic="hooks"))
        for method in ("initialize_service_hook", "init_host",
                       "periodic_tasks", "_private"):
            with pytest.raises(oslo_messaging.RemoteError) as info:
                client.call({}, method)
            assert info.value.exc_type == "NoSuchMethod", method
        assert client.call({}, "get_vnf", vnf_id="v1") == "v1"
    finally:
        server.stop()
        server.wait()


def test_describe_does_not_list_lifecycle_hooks(init_rpc):
    init_rpc()

    class FakeService:
        host, topic, manager = "h", "hooks", Manager()

    described = status.StatusEndpoint(FakeService()).describe({})
    assert [m["name"] for m in described["methods"]] == ["get_vnf"]


@pytest.mark.parametrize("project, expected", [
    ("tacker", "tacker.node-1"),
    (None, "-c.node-1"),
])
def test_notifier_without_service_is_named_after_the_project(
        cleanup_rpc, monkeypatch, project, expected):
    monkeypatch.setattr("sys.argv", ["-c"])
    conf = cfg.ConfigOpts()
    conf([], project=project)
    opts.register_opts(conf)
    conf.set_override("host", "node-1")
    init_memory(conf)
    assert rpc.get_notifier().publisher_id == expected
    assert rpc.get_notifier("vnfm").publisher_id == "vnfm.node-1"
    assert rpc.get_notifier(publisher_id="x.y").publisher_id == "x.y"
    assert "None" not in rpc.get_notifier(host="h2").publisher_id


def readme_dropin_example():
    """The code block of the README's "Replacing a service's rpc.py"."""
    readme = os.path.join(REPO_ROOT, "README.rst")
    with open(readme, encoding="utf-8") as source:
        text = source.read()
    section = text.split("Replacing a service's rpc.py\n", 1)[1]
    block = section.split("::\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


def test_readme_dropin_example_prints_what_its_comments_say():
    code = readme_dropin_example()
    expected = [line.split("# ")[-1].strip() for line in code.splitlines()
                if line.strip().startswith("print(")]
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
    assert expected == ["Context 42", "NoSuchMethod", "tacker.node-1",
                        "True"]
