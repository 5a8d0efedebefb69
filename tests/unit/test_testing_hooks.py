"""The internals of oslo.messaging, oslo.config and kombu the test kit
leans on, each through one function: these fail naming the hook when an
upgrade removes or changes it."""

import inspect

from kombu.transport import memory as kombu_memory
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import transport as om_transport
from oslo_messaging._drivers import common as om_common
from oslo_messaging.notify import notifier as om_notifier
from oslo_messaging.rpc import dispatcher as om_dispatcher

from tacker_rpc import exceptions
from tacker_rpc.testing import dispatch
from tacker_rpc.testing import fixture
from tacker_rpc.testing import sends


def test_transport_send_is_where_clients_hand_over_messages():
    """Hook of tacker_rpc.testing.sends._install."""
    parameters = list(inspect.signature(om_transport.Transport._send)
                      .parameters)
    assert parameters == [
        "self", "target", "ctxt", "message", "wait_for_reply", "timeout",
        "call_monitor_timeout", "retry", "transport_options"], (
        "oslo_messaging.transport.Transport._send changed: "
        "tacker_rpc.testing.sends._install must follow it")
    source = inspect.getsource(oslo_messaging.rpc.client._BaseCallContext)
    assert source.count("self.transport._send(") == 2, (
        "oslo.messaging's RPC client no longer sends its calls and casts "
        "through Transport._send: tacker_rpc.testing.sends must follow it")
    assert sends.Send._fields[-5:] == (
        "wait_for_reply", "timeout", "call_monitor_timeout", "retry",
        "transport_options")


def test_remote_exception_encoding_is_in_drivers_common():
    """Hook of tacker_rpc.testing.dispatch.as_caller_receives."""
    for name in ("serialize_remote_exception",
                 "deserialize_remote_exception"):
        assert callable(getattr(om_common, name, None)), (
            "oslo_messaging._drivers.common.%s is gone: "
            "tacker_rpc.testing.dispatch.as_caller_receives must follow it"
            % name)
    error = exceptions.ActionError(exceptions.Error("A", "m"))
    try:
        raise error
    except exceptions.ActionError as raised:
        received = dispatch.as_caller_receives(raised)
    assert isinstance(received, exceptions.ActionError)
    assert received.errors == error.errors


def test_the_dispatcher_reads_only_what_incoming_carries():
    """Hook of tacker_rpc.testing.dispatch._Incoming."""
    class Endpoint:
        def echo(self, ctxt, value):
            return value

    dispatcher = om_dispatcher.RPCDispatcher([Endpoint()], None)
    incoming = dispatch._Incoming({}, {"method": "echo",
                                       "args": {"value": 1}})
    assert dispatcher.dispatch(incoming) == 1, (
        "RPCDispatcher.dispatch reads more of an incoming message: "
        "tacker_rpc.testing.dispatch._Incoming must follow it")


def test_expected_exception_is_public():
    """The dispatcher hands ActionError to the server as one."""
    assert oslo_messaging.ExpectedException is (
        om_dispatcher.ExpectedException)


def test_config_overrides_are_readable():
    """Hook of tacker_rpc.testing.fixture._override_of."""
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt("name"))
    assert fixture._override_of(conf, "name", None) is None
    conf.set_override("name", "given")
    assert fixture._override_of(conf, "name", None) == "given", (
        "ConfigOpts._get_opt_info no longer holds overrides: "
        "tacker_rpc.testing.fixture._override_of must follow it")


def test_kombu_memory_broker_state_is_where_the_fixture_cleans():
    """Hook of tacker_rpc.testing.fixture._memory_queues."""
    assert isinstance(kombu_memory.Channel.__dict__.get("queues"), dict), (
        "kombu.transport.memory.Channel.queues moved: "
        "tacker_rpc.testing.fixture._memory_queues must follow it")
    state = kombu_memory.Transport.global_state
    assert hasattr(state, "queue_index") and callable(
        state.queue_bindings_delete), (
        "kombu.transport.memory.Transport.global_state changed: "
        "tacker_rpc.testing.fixture._delete_memory_queues must follow it")


def test_notification_drivers_take_conf_topics_transport():
    """Base of tacker_rpc.testing.notifications.RecordingDriver."""
    assert list(inspect.signature(om_notifier.Driver.__init__).parameters) \
        == ["self", "conf", "topics", "transport"]
