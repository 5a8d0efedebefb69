"""The public API of tacker_rpc.rpc and its answers to bad input."""

import inspect

from oslo_config import cfg
import oslo_messaging
import pytest

from tacker_rpc import backoff
from tacker_rpc import dispatcher
from tacker_rpc import exceptions
from tacker_rpc import messaging
from tacker_rpc import rpc
from tests.config import MEMORY_URL
from tests.config import make_conf


def echo_client(topic):
    return rpc.get_client(oslo_messaging.Target(topic=topic))


def test_init_again_replaces_and_cleanup_closes_both(init_rpc,
                                                    memory_server):
    # tacker's test base runs config.init() (which calls rpc.init) and then
    # rpc.init(CONF) again, without cleanup: tacker replaced its globals.
    init_rpc()
    memory_server("twice")
    first_client = echo_client("twice")
    first = (rpc.TRANSPORT, rpc.NOTIFICATION_TRANSPORT, rpc.NOTIFIER)
    closed = []
    for transport in first[:2]:
        transport.cleanup = lambda t=transport: closed.append(t)
    second_conf = init_rpc(host="second")
    assert rpc.TRANSPORT not in first and rpc.NOTIFIER is not first[2]
    assert echo_client("twice").transport is rpc.TRANSPORT
    assert rpc.get_notifier("svc").publisher_id == "svc.second"
    assert messaging.current_conf() is second_conf
    # What was made from the first transport keeps working on it.
    assert first_client.call({}, "echo", value="still here") == "still here"
    assert closed == []
    rpc.init_action_rpc(make_conf(MEMORY_URL))
    assert rpc.NOTIFIER is not None
    rpc.cleanup()
    assert closed == list(first[:2])
    assert (rpc.TRANSPORT, rpc.NOTIFICATION_TRANSPORT, rpc.NOTIFIER) == (
        None, None, None)


def test_a_failed_init_again_keeps_the_running_state(init_rpc):
    init_rpc()
    running = (rpc.TRANSPORT, rpc.NOTIFIER)
    with pytest.raises(exceptions.InvalidTransportURL):
        init_rpc(transport_url="nosuchdriver://")
    assert (rpc.TRANSPORT, rpc.NOTIFIER) == running


def test_init_after_cleanup_works(init_rpc):
    init_rpc()
    rpc.cleanup()
    init_rpc()
    assert echo_client("again").transport is not None


def test_cleanup_before_init_is_a_clear_error():
    with pytest.raises(exceptions.NotInitializedError, match="init"):
        rpc.cleanup()


def test_cleanup_twice_is_a_clear_error(init_rpc):
    init_rpc()
    rpc.cleanup()
    with pytest.raises(exceptions.NotInitializedError):
        rpc.cleanup()


def test_factories_before_init_are_a_clear_error():
    target = oslo_messaging.Target(topic="t")
    with pytest.raises(exceptions.NotInitializedError):
        rpc.get_client(target)
    with pytest.raises(exceptions.NotInitializedError):
        rpc.get_server(target, [])
    with pytest.raises(exceptions.NotInitializedError):
        rpc.get_notifier("svc")


def test_cleanup_forgets_learned_timeouts(init_rpc, monkeypatch):
    init_rpc()
    table = backoff.TIMEOUTS
    key = backoff.CallKey("t", None, "work")
    settings = backoff.BackoffSettings(default_timeout=1, max_timeout=10)
    table.record_timeout(key, table.timeout_for(key, settings), settings)
    table.set_max_timeout(5)
    assert table.snapshot()
    rpc.cleanup()
    assert table.snapshot() == []
    assert table.timeout_for(key, backoff.BackoffSettings(
        default_timeout=30, max_timeout=300)) == 30


@pytest.mark.parametrize("url, problem", [
    ("nosuchdriver://admin:s3cr3t@127.0.0.1:5672/", "nosuchdriver"),
    ("rabbit://admin:s3cr3t@127.0.0.1:notaport/", "notaport"),
    ("rabbit://admin:s3cr3t@[::1/", "IPv6"),
], ids=["unknown-scheme", "bad-port", "bad-ipv6-host"])
def test_unusable_transport_url_is_refused_with_the_password_masked(
        init_rpc, url, problem):
    with pytest.raises(exceptions.InvalidTransportURL) as info:
        init_rpc(transport_url=url)
    message = str(info.value)
    assert problem in message
    assert "admin:***@" in message
    assert "s3cr3t" not in message
    assert "s3cr3t" not in repr(info.value.__cause__)
    with pytest.raises(exceptions.NotInitializedError):
        rpc.cleanup()


def test_unusable_notification_url_is_named_as_such(tmp_path, init_rpc):
    config_file = tmp_path / "service.conf"
    config_file.write_text(
        "[DEFAULT]\ntransport_url = %s\n"
        "[oslo_messaging_notifications]\n"
        "transport_url = nosuchdriver://admin:s3cr3t@127.0.0.1:5672/\n"
        % MEMORY_URL)
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(config_file)], project="notify")
    with pytest.raises(exceptions.InvalidTransportURL) as info:
        rpc.init(conf)
    message = str(info.value)
    assert message.startswith("[oslo_messaging_notifications] transport_url "
                              "nosuchdriver://admin:***@")
    assert "s3cr3t" not in message
    with pytest.raises(exceptions.NotInitializedError):
        rpc.cleanup()


def test_a_refused_url_leaves_rpc_ready_for_a_good_one(init_rpc):
    with pytest.raises(exceptions.InvalidTransportURL):
        init_rpc(transport_url="nosuchdriver:///")
    init_rpc(transport_url=MEMORY_URL)
    assert echo_client("t").transport is not None


@pytest.mark.parametrize("target", ["topic", {"topic": "t"}, None])
def test_non_target_is_refused(init_rpc, target):
    init_rpc()
    name = type(target).__name__
    with pytest.raises(TypeError, match="oslo_messaging.Target.*" + name):
        rpc.get_client(target)
    with pytest.raises(TypeError, match="oslo_messaging.Target.*" + name):
        rpc.get_server(target, [])
    with pytest.raises(TypeError, match="oslo_messaging.Target.*" + name):
        rpc.BackingOffClient(echo_client("t").transport, target)


@pytest.mark.parametrize("endpoints", [object(), "endpoint", None])
def test_endpoints_that_are_not_a_list_are_refused(init_rpc, endpoints):
    init_rpc()
    with pytest.raises(TypeError, match="endpoints.*list.*"
                       + type(endpoints).__name__):
        rpc.get_server(oslo_messaging.Target(topic="t", server="h"),
                       endpoints)


def test_init_with_a_private_conf_then_a_call_works(tmp_path, init_rpc,
                                                   memory_server):
    # oslo.messaging registers [oslo_messaging_metrics] (and from 18.3
    # [oslo_messaging_tracing]) only on the global cfg.CONF, yet every
    # call() reads them from the transport's own conf. This conf is private
    # and nobody but rpc.init registers anything on it, so without
    # tacker_rpc.opts.register_opts registering those groups the call below
    # raises cfg.NoSuchOptError (checked by deleting that registration: the
    # test then fails with "no such option oslo_messaging_tracing", or
    # oslo_messaging_metrics before 18.3).
    config_file = tmp_path / "service.conf"
    config_file.write_text("[DEFAULT]\ntransport_url = %s\n" % MEMORY_URL)
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(config_file)], project="private")
    assert "oslo_messaging_metrics" not in conf
    rpc.init(conf)
    memory_server("private")
    assert echo_client("private").call({}, "echo", value=[1]) == [1]
    assert conf.oslo_messaging_metrics.metrics_enabled is False


def test_allowed_exmods_start_with_the_toolkit_then_extras_in_order():
    rpc.clear_extra_exmods()
    assert rpc.get_allowed_exmods() == ["tacker_rpc.exceptions"]
    rpc.add_extra_exmods("svc.exceptions", "svc.other")
    rpc.add_extra_exmods("lib.errors")
    try:
        assert rpc.get_allowed_exmods() == [
            "tacker_rpc.exceptions", "svc.exceptions", "svc.other",
            "lib.errors"]
        rpc.get_allowed_exmods().append("not.kept")
        assert "not.kept" not in rpc.get_allowed_exmods()
    finally:
        rpc.clear_extra_exmods()
    assert rpc.get_allowed_exmods() == ["tacker_rpc.exceptions"]


def test_init_gives_the_allowed_exmods_to_the_transport(init_rpc,
                                                        monkeypatch):
    given = []
    real = oslo_messaging.get_rpc_transport

    def get_rpc_transport(conf, **kwargs):
        given.append(kwargs["allowed_remote_exmods"])
        return real(conf, **kwargs)

    monkeypatch.setattr(oslo_messaging, "get_rpc_transport",
                        get_rpc_transport)
    rpc.add_extra_exmods("svc.exceptions")
    init_rpc()
    assert given == [["tacker_rpc.exceptions", "svc.exceptions"]]


def test_notifier_publisher_id_is_service_dot_configured_host(init_rpc):
    init_rpc(host="node-7")
    assert rpc.get_notifier("vnfm").publisher_id == "vnfm.node-7"


def test_notifier_publisher_id_uses_the_host_given(init_rpc):
    init_rpc(host="node-7")
    assert rpc.get_notifier("vnfm", host="node-9").publisher_id == \
        "vnfm.node-9"


def test_notifier_publisher_id_given_is_used_as_it_is(init_rpc):
    init_rpc(host="node-7")
    notifier = rpc.get_notifier("vnfm", host="node-9",
                                publisher_id="custom.id")
    assert notifier.publisher_id == "custom.id"


def test_action_rpc_has_a_transport_and_no_notifier(memory_server):
    rpc.init_action_rpc(make_conf(MEMORY_URL))
    memory_server("action")
    assert echo_client("action").call({}, "echo", value=1) == 1
    with pytest.raises(exceptions.NotInitializedError,
                       match="init_action_rpc"):
        rpc.get_notifier("vnfm")


def test_create_connection_is_void_when_rpc_is_disabled(init_rpc,
                                                        monkeypatch):
    init_rpc()
    assert type(rpc.create_connection()) is rpc.Connection
    monkeypatch.setattr(rpc, "RPC_DISABLED", True)
    connection = rpc.create_connection()
    assert type(connection) is rpc.VoidConnection
    connection.create_consumer("t", [object()], fanout=True, exchange="x",
                               host="h", serializer=None)
    assert connection.consume_in_threads() == []
    connection.close()


@pytest.mark.parametrize("method", ["create_consumer", "consume_in_threads",
                                    "close"])
def test_void_connection_methods_take_the_same_parameters(method):
    assert inspect.signature(getattr(rpc.VoidConnection, method)) == \
        inspect.signature(getattr(rpc.Connection, method))


def test_get_server_runs_threading_refusing_private_methods(
        init_rpc, memory_server):
    init_rpc()
    server = memory_server("policy")
    assert server.executor_type == "threading"
    assert isinstance(server.dispatcher.access_policy,
                      dispatcher.AccessPolicy)
    client = echo_client("policy")
    with pytest.raises(oslo_messaging.RemoteError) as info:
        client.call({}, "_private")
    assert info.value.exc_type == "NoSuchMethod"
    assert client.call({}, "echo", value="served") == "served"


def test_get_client_passes_the_client_options(init_rpc):
    init_rpc()
    client = rpc.get_client(
        oslo_messaging.Target(topic="t"), version_cap="1.5", timeout=9,
        retry=2, call_monitor_timeout=3)
    assert isinstance(client, rpc.BackingOffClient)
    assert (client.version_cap, client.timeout, client.retry,
            client.call_monitor_timeout) == ("1.5", 9, 2, 3)
    assert isinstance(client.serializer, rpc.RequestContextSerializer)
