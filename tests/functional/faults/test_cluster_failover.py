"""Scenario 1: the cluster node every client and server uses dies.

Three clustered RabbitMQ nodes, quorum queues, a transport URL listing the
three. Mid-stream, the node the connections are on is SIGKILLed; the
clients and the two Service processes move to the surviving nodes by
themselves.
"""

import collections
import time

import oslo_messaging
import pytest

from tacker_rpc import rpc
from tests import broker as broker_mod
from tests.functional.faults import traffic as traffic_mod

pytestmark = pytest.mark.cluster

# Quorum queues; heartbeats every few seconds so that idle pooled
# connections notice a closed connection (and reconnect) quickly.
SETTINGS = ["oslo_messaging_rabbit.rabbit_quorum_queue=True",
            "oslo_messaging_rabbit.heartbeat_timeout_threshold=10"]
RESPONSE_TIMEOUT = 10
SPLAY = 1.0
# Caps the driver's pause between reconnection attempts, and so how far
# past its deadline a call may end while its node is gone.
INTERVAL_MAX = 2


@pytest.fixture
def cluster():
    """A fresh three-node cluster for each run: the scenario kills a node,
    and it runs once per driver."""
    with broker_mod.RabbitBroker(cluster=True, name="trpcfo") as cluster:
        yield cluster


def set_listeners(cluster, indexes, accept):
    """Suspend or resume the client listeners of nodes, as maintenance mode
    does, but leaving their quorum queue replicas running."""
    call = ("resume_all_client_listeners" if accept
            else "suspend_all_client_listeners")
    for index in indexes:
        cluster.rabbitmqctl("eval", "rabbit_maintenance:%s()." % call,
                            index=index)


def herd_connections(cluster, onto, others, deadline=120):
    """Move every client connection of the cluster to node ``onto``.

    oslo.messaging shuffles the hosts of the URL, so connections start
    spread over the three nodes. With the listeners of ``others``
    suspended, their connections are closed until all have reconnected to
    ``onto``; new connections go there too until the listeners resume.
    """
    set_listeners(cluster, others, accept=False)
    end = time.monotonic() + deadline
    while True:
        ports = cluster.connection_ports(onto)
        if set(ports) == {cluster.ports[onto]}:
            return
        if time.monotonic() > end:
            raise AssertionError("connections did not all move to node %d: "
                                 "%s" % (onto, ports))
        for index in others:
            if cluster.ports[index] in ports:
                cluster.rabbitmqctl("close_all_connections",
                                    "moving clients to node %d" % onto,
                                    index=index)
        time.sleep(2)


def connections_per_node(cluster, asked=0):
    ports = collections.Counter(cluster.connection_ports(asked))
    return {cluster.nodes[cluster.ports.index(port)]: count
            for port, count in ports.items()}


def test_killing_the_connected_node_loses_nothing(cluster, rpc_on, servers,
                                                   journal_dir, topic):
    url = cluster.url()
    conf = rpc_on(url, rpc_response_timeout=RESPONSE_TIMEOUT,
                  rpc_response_max_timeout=4 * RESPONSE_TIMEOUT,
                  rpc_backoff_max_splay=SPLAY,
                  oslo_messaging_rabbit__rabbit_quorum_queue=True,
                  oslo_messaging_rabbit__heartbeat_timeout_threshold=10,
                  oslo_messaging_rabbit__rabbit_interval_max=INTERVAL_MAX)
    daemons = [servers(url, topic, "failover-%d" % i, settings=SETTINGS)
               for i in range(2)]
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    pids = {d.host: client.prepare(server=d.host).call({}, "whoami")["pid"]
            for d in daemons}
    victim, others = 0, [1, 2]
    herd_connections(cluster, victim, others)
    print("\nqueues before the kill:\n" + cluster.rabbitmqctl(
        "list_queues", "name", "type", "consumers", "leader", "members",
        "-q", index=1))
    traffic = traffic_mod.Traffic(client, threads=6, per_thread=80,
                                  pause=0.1, name="fo").start()
    traffic.wait_answered(30)
    before = connections_per_node(cluster)
    # The survivors accept clients again; then the node everyone is on dies.
    set_listeners(cluster, others, accept=True)
    killed_at = time.monotonic()
    cluster.kill_node(victim)
    try:
        traffic.join(deadline=150)
    finally:
        print("\nqueues after the failover:\n" + cluster.rabbitmqctl(
            "list_queues", "name", "type", "messages", "consumers",
            "leader", "members", "-q", index=1))
    recovery = traffic.first_answer_after(killed_at)

    after = connections_per_node(cluster, asked=1)
    figures = {"connections per node before": before,
               "connections per node after": after,
               "node killed": cluster.nodes[victim]}
    figures.update(traffic_mod.stream_figures(traffic, journal_dir))
    figures["first answer after kill (s)"] = (
        None if recovery is None else "%.2f" % recovery)
    traffic_mod.print_figures("Cluster failover (SIGKILL of %s)"
                              % cluster.nodes[victim], figures)

    assert traffic.count("failed") == 0, traffic.errors()
    assert recovery is not None and recovery < 60
    assert traffic.longest_call() <= traffic_mod.call_bound(
        traffic, conf, broker_unreachable=True)
    assert set(before) == {cluster.nodes[victim]}
    assert cluster.nodes[victim] not in after
    assert figures["casts lost"] == 0
    # At least once across a node kill: a cast whose publisher confirm
    # (one in flight per client thread) or whose ack (one per server) died
    # with the node comes again. Nothing else may repeat.
    assert figures["casts received twice+"] <= (
        traffic.threads + len(daemons))
    assert not traffic.casts_failed
    # The last round of every thread was answered: calls resumed.
    last = {call.token.rsplit("-", 1)[0]: call for call in
            sorted(traffic.calls, key=lambda c: c.started)}
    assert all(c.outcome == "answered" for c in last.values())
    # Nobody was restarted: the same processes answer after the failover.
    for daemon in daemons:
        assert daemon.proc.poll() is None
        who = client.prepare(server=daemon.host).call({}, "whoami")
        assert who["pid"] == pids[daemon.host]
