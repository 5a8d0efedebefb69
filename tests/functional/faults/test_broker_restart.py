"""Scenario 2: the (single-node) broker is stopped and started mid-stream.

The node is stopped (SIGTERM: RabbitMQ shuts down cleanly, writing durable
queues to disk) and started again from the same data directory. Clients and
the Service reconnect by themselves; nothing is restarted.
"""

import signal
import time

import oslo_messaging
import pytest

from tacker_rpc import rpc
from tests import broker as broker_mod
from tests.functional.faults import traffic as traffic_mod

DURABLE = "oslo_messaging_rabbit.amqp_durable_queues=True"
RESPONSE_TIMEOUT = 10
SPLAY = 1.0
# Caps the driver's pause between reconnection attempts, and so how far
# past its deadline a call may end while the broker is down.
INTERVAL_MAX = 2


@pytest.fixture
def own_broker():
    with broker_mod.RabbitBroker(name="trpcrs") as broker:
        yield broker


def test_broker_restart_reconnects_everyone(own_broker, rpc_on, servers,
                                            journal_dir, topic):
    url = own_broker.url()
    conf = rpc_on(url, rpc_response_timeout=RESPONSE_TIMEOUT,
                  rpc_backoff_max_splay=SPLAY,
                  oslo_messaging_rabbit__amqp_durable_queues=True,
                  oslo_messaging_rabbit__rabbit_interval_max=INTERVAL_MAX)
    daemons = [servers(url, topic, "restart-%d" % i, settings=[DURABLE])
               for i in range(2)]
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    pids = {d.host: client.prepare(server=d.host).call({}, "whoami")["pid"]
            for d in daemons}
    traffic = traffic_mod.Traffic(client, threads=6, per_thread=50,
                                  pause=0.05, name="rs").start()
    traffic.wait_answered(60)

    stopped_at = time.monotonic()
    own_broker.kill_node(0, signal.SIGTERM)
    down = time.monotonic()
    own_broker.start_node(0)
    started_at = time.monotonic()
    traffic.join(deadline=300)
    recovery = traffic.first_answer_after(started_at)

    figures = traffic_mod.stream_figures(traffic, journal_dir)
    figures.update({
        "broker stop (s)": "%.1f" % (down - stopped_at),
        "broker start (s)": "%.1f" % (started_at - down),
        "first answer after start (s)": (
            None if recovery is None else "%.2f" % recovery),
    })
    traffic_mod.print_figures("Broker restart (single node)", figures)

    assert traffic.count("failed") == 0, traffic.errors()
    assert recovery is not None
    assert traffic.longest_call() <= traffic_mod.call_bound(
        traffic, conf, broker_unreachable=True)
    assert figures["casts lost"] == 0
    # At least once across a broker stop: a cast whose publisher confirm
    # (one in flight per client thread) or whose ack (one per server) was
    # lost with the broker comes again. Nothing else may repeat.
    assert figures["casts received twice+"] <= (
        traffic.threads + len(daemons))
    assert not traffic.casts_failed
    for daemon in daemons:
        assert daemon.proc.poll() is None
        who = client.prepare(server=daemon.host).call({}, "whoami")
        assert who["pid"] == pids[daemon.host]
