"""How a server stops: the listener's wait left as oslo.messaging sets it
but its socket reads short, and the fanout consumers cancelled before their
queues are deleted (tacker_rpc.stopping)."""

import kombu
from oslo_messaging._drivers import amqpdriver

from tacker_rpc import stopping


def test_listener_wait_is_left_as_oslo_messaging_sets_it(
        init_rpc, memory_server):
    # A listener reconnects inside its wait for the broker: bounding that
    # wait below kombu_reconnect_delay left servers retrying a dead cluster
    # node for ever instead of failing over (tacker_rpc.stopping).
    before = amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX
    init_rpc()
    memory_server("left-alone")
    assert amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX == before


def test_listener_reads_its_socket_briefly_to_see_a_stop(
        init_rpc, memory_server, monkeypatch):
    monkeypatch.setattr(stopping, "STOP_CHECK_INTERVAL", 0.01)
    init_rpc()
    server = memory_server("brief-reads")
    poll_listener = server.listener._poll_style_listener
    assert isinstance(poll_listener, amqpdriver.AMQPListener), (
        "oslo.messaging hook listener._poll_style_listener is gone: "
        "tacker_rpc.stopping.check_for_stop_often must change")
    assert hasattr(poll_listener.conn.connection, "_poll_timeout"), (
        "oslo.messaging hook conn.connection._poll_timeout is gone: "
        "tacker_rpc.stopping.check_for_stop_often must change")
    assert poll_listener.conn.connection._poll_timeout == 0.01


def test_a_listener_without_the_hook_keeps_its_reads_and_warns(caplog):
    class Connection:
        pass

    class Listener(amqpdriver.AMQPListener):
        def __init__(self):
            self.conn = type("Pooled", (), {"connection": Connection()})()

    assert stopping.check_for_stop_often(Listener()) is False
    assert "conn.connection._poll_timeout" in caplog.text


def test_fanout_consumer_is_cancelled_before_its_queue_is_deleted(
        init_rpc, memory_server, monkeypatch):
    events = []
    cancel, delete = kombu.Queue.cancel, kombu.Queue.delete

    def recording_cancel(queue, tag):
        events.append(("cancel", queue.name))
        return cancel(queue, tag)

    def recording_delete(queue, *args, **kwargs):
        events.append(("delete", queue.name))
        return delete(queue, *args, **kwargs)

    monkeypatch.setattr(kombu.Queue, "cancel", recording_cancel)
    monkeypatch.setattr(kombu.Queue, "delete", recording_delete)
    init_rpc()
    server = memory_server("quiet")
    poll_listener = server.listener._poll_style_listener
    assert isinstance(poll_listener, amqpdriver.AMQPListener), (
        "oslo.messaging hook listener._poll_style_listener is gone: "
        "tacker_rpc.stopping.cancel_fanout_consumers_on_close must change")
    assert isinstance(poll_listener.conn.connection._consumers, dict), (
        "oslo.messaging hook conn.connection._consumers is gone: "
        "tacker_rpc.stopping.cancel_fanout_consumers_on_close must change")
    server.stop()
    server.wait()
    fanout = [name for _, name in events if name.startswith("quiet_fanout_")]
    assert fanout, events
    assert events.index(("cancel", fanout[0])) < events.index(
        ("delete", fanout[0])), events


def test_a_listener_of_another_driver_is_left_alone():
    class OtherListener:
        conn = None

    listener = OtherListener()
    assert stopping.cancel_fanout_consumers_on_close(listener) is False
    assert stopping.check_for_stop_often(listener) is False
    assert listener.conn is None
