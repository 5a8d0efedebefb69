"""Every oslo.messaging and oslo.service internal the toolkit leans on.

One test per hook: it checks that the hook exists with the shape the
toolkit relies on (signature, attributes), and fails naming the hook, the
installed release, the toolkit function that uses it and why, so that an
upgrade that removes or reshapes one is caught here and not in production.
They run on both ends of the supported range (constraints.txt and
constraints-oldest.txt).
"""

import functools
from importlib import metadata
import importlib.util
import inspect
import queue

from cotyledon import oslo_config_glue
import kombu
from oslo_config import cfg
from oslo_context import context as oslo_context
import oslo_messaging
from oslo_messaging._drivers import amqpdriver
from oslo_messaging._drivers import base as driver_base
from oslo_messaging._drivers import common as rpc_common
from oslo_messaging._drivers import impl_rabbit
from oslo_messaging.rpc import client as om_client
from oslo_messaging.rpc import dispatcher as om_dispatcher
from oslo_messaging.rpc import server as om_server
from oslo_service import backend
import pytest

from tacker_rpc import executor
from tests.config import MEMORY_URL
from tests.config import make_conf


def gone(hook, user, why, package="oslo.messaging"):
    """The failure message of a hook test."""
    return "%s %s no longer has %s, used by tacker_rpc.%s for %s" % (
        package, metadata.version(package), hook, user, why)


def parameters(owner, name):
    """The parameter names of ``owner.name``; None when it is not there."""
    function = getattr(owner, name, None)
    if not callable(function):
        return None
    return list(inspect.signature(function).parameters)


def hook_class(module, name, why):
    """``module.name``, failing with ``why`` unless it is a class."""
    cls = getattr(module, name, None)
    assert inspect.isclass(cls), why
    return cls


def memory_transport():
    return oslo_messaging.get_rpc_transport(make_conf(MEMORY_URL))


def test_oslo_service_threading_backend():
    why = gone("oslo_service.backend (get_backend_type, init_backend, "
               "BackendType.THREADING)", "__init__ (module level)",
               "running services on native threads instead of eventlet",
               package="oslo.service")
    assert callable(getattr(backend, "get_backend_type", None)), why
    assert parameters(backend, "init_backend") == ["type_"], \
        why
    assert backend.BackendType.THREADING.value == "threading", why
    # tacker_rpc.backend.select_threading (conftest called it) selected it.
    assert backend.get_backend_type() is backend.BackendType.THREADING, why


def test_threading_service_class():
    why = gone("backend._threading.service.Service (a ServiceBase built "
               "with threads=, with a threading thread group in tg)",
               "compat.threading_service_base",
               "the base class of rpc.Service whichever backend the process "
               "selected", package="oslo.service")
    module = "oslo_service.backend._threading.service"
    assert importlib.util.find_spec(module) is not None, why
    service_cls = hook_class(importlib.import_module(module), "Service", why)
    assert issubclass(service_cls, backend.base.ServiceBase), why
    assert parameters(service_cls, "__init__") == ["self", "threads"], why
    assert type(service_cls().tg).__module__ == (
        "oslo_service.backend._threading.threadgroup"), why


def test_cotyledon_service_options():
    why = gone("oslo_config_glue.service_opts (options named log_options "
               "and graceful_shutdown_timeout)",
               "compat.service_option_groups",
               "giving oslo.service < 4.5's threading launcher a conf it "
               "accepts", package="cotyledon")
    options = getattr(oslo_config_glue, "service_opts", None) or []
    assert {"log_options", "graceful_shutdown_timeout"} <= {
        o.name for o in options if isinstance(o, cfg.Opt)}, why


def test_call_context_class():
    why = gone("oslo_messaging.rpc.client._CallContext (a class with "
               "call(ctxt, method, **kwargs), _make_message(ctxt, method, "
               "args), prepare() and target, timeout, retry, transport in "
               "its __dict__, as RPCClient.prepare() returns it)",
               "client._BackingOffCallContext",
               "learning each call's timeout and naming unsendable "
               "arguments")
    context_cls = hook_class(om_client, "_CallContext", why)
    assert parameters(context_cls, "call") == [
        "self", "ctxt", "method", "kwargs"], why
    assert parameters(context_cls, "_make_message") == [
        "self", "ctxt", "method", "args"], why
    assert callable(getattr(context_cls, "prepare", None)), why
    transport = memory_transport()
    try:
        prepared = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic="t")).prepare(timeout=3)
        assert type(prepared) is context_cls, why
        assert not hasattr(context_cls, "__slots__"), why
        assert {"target", "timeout", "retry", "transport"} <= set(
            vars(prepared)), why
        assert prepared.timeout == 3, why
    finally:
        transport.cleanup()


def test_rpc_client_manual_load_argument():
    why = gone("RPCClient.__init__(..., _manual_load=...), which "
               "get_rpc_client(client_cls=...) passes",
               "client.BackingOffClient.__init__",
               "being built by get_rpc_client like any oslo.messaging "
               "client")
    init = parameters(oslo_messaging.RPCClient, "__init__") or []
    assert "_manual_load" in init, why
    factory = parameters(oslo_messaging, "get_rpc_client") or []
    assert "client_cls" in factory, why


def test_driver_connection_pool():
    why = gone("transport._driver with _reply_q (None before the first call) "
               "and _get_connection(purpose, retry), and "
               "_drivers.common.PURPOSE_SEND",
               "client._connect_within_retry",
               "failing a call with retry set when the broker refuses it, "
               "instead of hanging in the reply connection")
    assert isinstance(getattr(rpc_common, "PURPOSE_SEND", None), str), why
    transport = memory_transport()
    try:
        driver = getattr(transport, "_driver", None)
        assert driver is not None, why
        assert getattr(driver, "_reply_q", "missing") is None, why
        assert (parameters(driver, "_get_connection") or [])[:2] == [
            "purpose", "retry"], why
        with driver._get_connection(rpc_common.PURPOSE_SEND, 0):
            pass
    finally:
        transport.cleanup()


@pytest.mark.parametrize("kind", ["metrics", "tracing"])
def test_option_groups_every_call_reads(kind):
    group = "oslo_messaging_" + kind
    module = "oslo_messaging._%s" % kind
    why = gone("_%s.client.%s (a list of options, for tracing whenever its "
               "RPC client traces)" % (kind, group),
               "compat.global_only_option_groups",
               "registering [%s] on a service's own ConfigOpts, which every "
               "call reads" % group)
    if kind == "tracing" and importlib.util.find_spec(module) is None:
        # Before 18.3: no tracing, and the client must not read the group.
        assert not hasattr(om_client, "tracing"), why
        return
    options = getattr(importlib.import_module(module + ".client"), group,
                      None)
    assert options and all(isinstance(o, cfg.Opt) for o in options), why


def test_reply_waiters_queue():
    why = gone("_drivers.amqpdriver.ReplyWaiters with get(msg_id, timeout) "
               "and _queues, a dict of queue.Queue by message id",
               "compat.block_on_replies",
               "waking a caller as soon as its reply arrives on releases "
               "that poll for it every 0.5 s")
    waiters_cls = hook_class(amqpdriver, "ReplyWaiters", why)
    assert parameters(waiters_cls, "get") == ["self", "msg_id", "timeout"], why
    waiters = waiters_cls()
    waiters.add("id")
    assert isinstance(waiters._queues.get("id"), queue.Queue), why
    waiters.put("id", "reply")
    assert waiters.get("id", 1) == "reply", why


def test_server_executor_class():
    why = gone("MessageHandlingServer._executor_cls (called with "
               "max_workers at start(); the executor in _work_executor)",
               "executor.install",
               "running server handlers on StallGrowingExecutor")
    transport = memory_transport()
    server = om_server.RPCServer(
        transport, oslo_messaging.Target(topic="t", server="h"),
        om_dispatcher.RPCDispatcher(
            [], oslo_messaging.NoOpSerializer(),
            om_dispatcher.DefaultRPCAccessPolicy),
        "threading")
    try:
        assert hasattr(server, "_executor_cls"), why
        executor.install(server, 0.01)
        assert isinstance(server._executor_cls, functools.partial), why
        server.start()
        assert isinstance(getattr(server, "_work_executor", None),
                          executor.StallGrowingExecutor), why
    finally:
        server.stop()
        server.wait()
        transport.cleanup()


def test_dispatcher_dispatch():
    why = gone("rpc.dispatcher.RPCDispatcher(endpoints, serializer, "
               "access_policy).dispatch(incoming), the decoded message in "
               "incoming.message",
               "dispatcher.CheckingRPCDispatcher",
               "refusing malformed messages naming the faulty field")
    assert parameters(om_dispatcher.RPCDispatcher, "dispatch") == [
        "self", "incoming"], why
    init = parameters(om_dispatcher.RPCDispatcher, "__init__") or []
    assert init[:4] == [
        "self", "endpoints", "serializer", "access_policy"], why

    class Incoming(driver_base.RpcIncomingMessage):
        acknowledge = requeue = reply = heartbeat = None

    incoming = Incoming({}, {"method": "m"})
    assert incoming.message == {"method": "m"}, why


def test_dispatcher_do_dispatch():
    why = gone("rpc.dispatcher.RPCDispatcher._do_dispatch(endpoint, method, "
               "ctxt, args), called by dispatch() with the serialized "
               "context and arguments",
               "dispatcher.CheckingRPCDispatcher._do_dispatch",
               "making the request's context current and running the server "
               "middleware around the endpoint")
    assert parameters(om_dispatcher.RPCDispatcher, "_do_dispatch") == [
        "self", "endpoint", "method", "ctxt", "args"], why
    assert "self._do_dispatch(" in inspect.getsource(
        om_dispatcher.RPCDispatcher.dispatch), why


def test_ping_endpoint():
    why = gone("rpc.dispatcher.PingEndpoint, whose oslo_rpc_server_ping "
               "answers 'pong'", "messaging._answer_oslo_ping",
               "answering oslo_rpc_server_ping when rpc_ping_enabled is set "
               "on a conf other than the global CONF")
    ping = hook_class(om_dispatcher, "PingEndpoint", why)
    assert ping().oslo_rpc_server_ping({}) == "pong", why
    assert getattr(ping, "target", None) is None, why


def test_oslo_context_request_store():
    why = gone("context._request_store, the thread-local whose 'context' "
               "attribute get_current() reads",
               "correlation._restore_oslo_context",
               "clearing the current context after a request so that later "
               "log lines do not show its ids", package="oslo.context")
    store = getattr(oslo_context, "_request_store", None)
    assert store is not None, why
    previous = oslo_context.get_current()
    marker = oslo_context.RequestContext(overwrite=False)
    try:
        store.context = marker
        assert oslo_context.get_current() is marker, why
    finally:
        store.context = previous


def test_driver_reply_waiter():
    why = gone("AMQPDriverBase._get_reply_q() creating self._waiter, a "
               "_drivers.amqpdriver.ReplyWaiter with wait(msg_id, timeout, "
               "call_monitor_timeout, reply_q)",
               "deadline.install (_DeadlineDriverMixin)",
               "waiting for an answer only what is left of a call's "
               "deadline")
    waiter_cls = hook_class(amqpdriver, "ReplyWaiter", why)
    assert parameters(waiter_cls, "wait") == [
        "self", "msg_id", "timeout", "call_monitor_timeout", "reply_q"], why
    transport = memory_transport()
    try:
        driver = transport._driver
        assert isinstance(driver, amqpdriver.AMQPDriverBase), why
        assert parameters(driver, "_get_reply_q") == [], why
        driver._get_reply_q()
        assert type(getattr(driver, "_waiter", None)) is waiter_cls, why
    finally:
        transport.cleanup()


def test_driver_connection_pool_class_and_items():
    why = gone("the driver's _connection_pool with connection_cls "
               "(impl_rabbit.Connection) and _items, (watch, connection) "
               "pairs of the idle connections",
               "deadline.install",
               "making the rabbit connections honour call deadlines")
    transport = memory_transport()
    try:
        pool = getattr(transport._driver, "_connection_pool", None)
        assert getattr(pool, "connection_cls", None) is \
            impl_rabbit.Connection, why
        with transport._driver._get_connection(rpc_common.PURPOSE_SEND):
            pass
        items = list(getattr(pool, "_items", []))
        assert items and all(
            len(item) == 2 and isinstance(item[1], impl_rabbit.Connection)
            for item in items), why
    finally:
        transport.cleanup()


def test_rabbit_connection_ensure_and_publish():
    why = gone("impl_rabbit.Connection.ensure(method, retry, "
               "recoverable_error_callback, error_callback, "
               "timeout_is_error) and _publish(exchange, msg, ...), and "
               "_drivers.common.Timeout(info=...)",
               "deadline._DeadlineConnection",
               "publishing nothing and reconnecting no more once a call's "
               "deadline has passed")
    connection_cls = hook_class(impl_rabbit, "Connection", why)
    assert parameters(connection_cls, "ensure") == [
        "self", "method", "retry", "recoverable_error_callback",
        "error_callback", "timeout_is_error"], why
    assert (parameters(connection_cls, "_publish") or [])[:3] == [
        "self", "exchange", "msg"], why
    assert "info" in (parameters(rpc_common.Timeout, "__init__") or []), why


def test_listener_connection_reads_and_consumers():
    why = gone("PollStyleListenerAdapter._poll_style_listener, and "
               "impl_rabbit.Connection.consume reading self._poll_timeout "
               "per socket read and checking self._consume_loop_stopped "
               "between reads, and Connection._consumers",
               "stopping.check_for_stop_often, "
               "check_started_server_for_stop_often (through "
               "MessageHandlingServer.listener) and "
               "cancel_fanout_consumers_on_close",
               "an idle server that stops within STOP_CHECK_INTERVAL and "
               "closes without a warning")
    connection_cls = hook_class(impl_rabbit, "Connection", why)
    consume = inspect.getsource(connection_cls.consume)
    assert "self._poll_timeout" in consume, why
    assert "self._consume_loop_stopped" in consume, why
    init = inspect.getsource(connection_cls.__init__)
    assert "self._poll_timeout =" in init, why
    assert "self._consumers =" in init, why
    assert "self._poll_style_listener =" in inspect.getsource(
        driver_base.PollStyleListenerAdapter), why
    assert "self.listener = self._create_listener()" in inspect.getsource(
        oslo_messaging.MessageHandlingServer), why


def test_rabbit_connection_ensure_connection_one_attempt():
    why = gone("impl_rabbit.Connection.ensure_connection() passing "
               "self.max_retries and self.interval_start, interval_stepping "
               "and interval_max to kombu's ensure_connection, and kombu's "
               "Connection.connect_timeout and maybe_switch_next()",
               "deadline._DeadlineConnection.ensure_connection",
               "connecting for a call no longer than its deadline, one "
               "attempt at a time")
    connection_cls = hook_class(impl_rabbit, "Connection", why)
    assert parameters(connection_cls, "ensure_connection") == ["self"], why
    source = inspect.getsource(connection_cls.ensure_connection)
    for attribute in ("max_retries", "interval_start", "interval_stepping",
                      "interval_max"):
        assert "self.%s" % attribute in source, why
    init = inspect.getsource(connection_cls.__init__)
    assert "self.ensure_connection()" in init, why
    kombu_connection = kombu.Connection("memory://")
    assert isinstance(kombu_connection.connect_timeout, (int, float)), why
    assert callable(getattr(kombu_connection, "maybe_switch_next", None)), why
