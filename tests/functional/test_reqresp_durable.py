"""Long-running requests survive a restart of the broker, while the
service's own transport is non-durable (oslo.messaging's default).

A private single node per test, stopped (SIGTERM: RabbitMQ shuts down
cleanly) and started again from the same data directory, as in
tests/functional/faults/test_broker_restart.py; requester and responder
in their own processes (tests.functional.reqresp_main).
"""

import json
import signal
import time

import oslo_messaging
from oslo_messaging import opts as om_opts
import pytest

from tacker_rpc import reqresp
from tacker_rpc.reqresp import delivery
from tacker_rpc.reqresp import store as store_mod
from tests import broker as broker_mod
from tests.config import lean_url
from tests.config import make_conf
from tests.functional.reqresp_main import CertRequest
from tests.functional.reqresp_main import certificate_for
from tests.functional.test_reqresp import DEADLINE
from tests.functional.test_reqresp import Scenario
from tests.functional.test_reqresp import answered_by
from tests.functional.test_reqresp import eventually
from tests.polling import wait_until

#: The longest pause of a process's reconnection attempts (oslo.messaging's
#: default ``rabbit_interval_max``, which the test processes keep): a
#: consumer that lived through the restart may take that long, after the
#: broker is back, to consume again.
RECONNECT = {opt.dest: opt.default for opt in dict(om_opts.list_opts())[
    "oslo_messaging_rabbit"]}["rabbit_interval_max"]

COUNT = 10


@pytest.fixture
def own_broker():
    with broker_mod.RabbitBroker(name="trpcrd") as broker:
        yield broker


@pytest.fixture(params=["rabbit", "lean-rabbit"])
def scenario(request, own_broker, tmp_path):
    """A :class:`Scenario` on the test's own broker, through oslo.messaging's
    driver or the lean one; the first version's non-durable queues (and the
    service's non-durable control exchange) are there already."""
    url = own_broker.url()
    if request.param == "lean-rabbit":
        url = lean_url(url)
    made = Scenario(url, tmp_path)
    publish_like_the_first_version(url, [made.topic, made.reply_topic])
    yield made
    made.close()


def publish_like_the_first_version(url, topics, event_type="old",
                                   payload=None):
    """What a service on the default transport and the first version of
    reqresp left on the broker: the control exchange ``openstack`` and
    queues ``<topic>.info``, non-durable, one message in each."""
    transport = oslo_messaging.get_notification_transport(make_conf(url),
                                                          url=url)
    try:
        for topic in topics:
            oslo_messaging.Notifier(transport, "old", driver="messagingv2",
                                    topics=[topic]).info({}, event_type,
                                                         payload or {})
    finally:
        transport.cleanup()


def queues(broker):
    """The broker's view of its queues, by name."""
    listed = broker.rabbitmqctl(
        "list_queues", "name", "durable", "type", "messages",
        "messages_persistent", "-q", "--formatter", "json")
    return {queue["name"]: queue for queue in json.loads(listed)}


def exchanges(broker):
    listed = broker.rabbitmqctl("list_exchanges", "name", "durable", "-q",
                                "--formatter", "json")
    return {entry["name"]: entry["durable"] for entry in json.loads(listed)}


def queue_of(topic):
    return delivery.TOPIC_PREFIX + topic + ".info"


def holds_persistent(broker, topic, count):
    """Wait until ``topic``'s queue holds ``count`` messages, all
    persistent, in a durable classic queue on a durable exchange."""
    def counted():
        queue = queues(broker).get(queue_of(topic))
        return queue is not None and queue["messages"] == count and queue
    queue = eventually(counted, "%d messages in %s" % (count,
                                                        queue_of(topic)))
    assert queue["durable"] is True
    assert queue["type"] == "classic"
    assert queue["messages_persistent"] == count
    assert exchanges(broker)[delivery.EXCHANGE] is True


def restart(broker, scenario):
    """Stop and start the node. The service's control exchange and the
    first version's queues, non-durable, are gone after it; so would ours
    be if they were."""
    old = [scenario.topic + ".info", scenario.reply_topic + ".info"]
    before = queues(broker)
    assert [before[name]["durable"] for name in old] == [False, False]
    assert exchanges(broker)["openstack"] is False
    stopping = time.monotonic()
    broker.kill_node(0, signal.SIGTERM)
    broker.start_node(0)
    took = time.monotonic() - stopping
    after = queues(broker)
    assert [name for name in old if name in after] == []
    assert "openstack" not in exchanges(broker)
    return took


def test_requests_sent_while_the_responder_is_down_survive_a_restart(
        own_broker, scenario):
    scenario.requester("applied", "--send", str(COUNT))
    eventually(lambda: scenario.count([store_mod.SENT]) == COUNT,
               "%d sent" % COUNT)
    holds_persistent(own_broker, scenario.topic, COUNT)

    restarted_in = restart(own_broker, scenario)
    holds_persistent(own_broker, scenario.topic, COUNT)
    started = time.monotonic()
    scenario.responder()
    # The requester lived through the restart: its reply consumer may
    # come back up to RECONNECT after the broker.
    wait_until(lambda: scenario.count(store_mod.DONE) == COUNT,
               DEADLINE + RECONNECT, "%d answered" % COUNT)
    print("\nbroker stop+start %.1f s; %d requests answered %.1f s after "
          "the responder started" % (restarted_in, COUNT,
                                     time.monotonic() - started))

    scenario.assert_matched(COUNT)
    rows = scenario.rows()
    assert sorted(r["id"] for r in scenario.received()) == sorted(
        r["id"] for r in rows)
    assert {r["deliveries"] for r in rows} == {1}
    applied = eventually(lambda: len(scenario.lines("applied")) == COUNT
                         and scenario.lines("applied"),
                         "%d callbacks" % COUNT)
    assert sorted(applied) == sorted(r["id"] for r in rows)


def test_responses_sent_while_the_requester_is_down_survive_a_restart(
        own_broker, scenario):
    scenario.responder("--hold")
    first = scenario.requester("applied-1", "--send", str(COUNT))
    eventually(lambda: len(scenario.received()) == COUNT,
               "the responder recorded %d requests" % COUNT)
    first.stop()
    scenario.go()
    eventually(lambda: len(scenario.lines("ca/answered")) == COUNT,
               "the responder sent %d responses" % COUNT)
    holds_persistent(own_broker, scenario.reply_topic, COUNT)

    restarted_in = restart(own_broker, scenario)
    holds_persistent(own_broker, scenario.reply_topic, COUNT)
    started = time.monotonic()
    second = scenario.requester("applied-2")
    eventually(lambda: scenario.count(store_mod.DONE) == COUNT,
               "%d answered" % COUNT)
    print("\nbroker stop+start %.1f s; %d responses matched %.1f s after "
          "the requester started" % (restarted_in, COUNT,
                                     time.monotonic() - started))

    scenario.assert_matched(COUNT)
    rows = scenario.rows()
    assert {r["deliveries"] for r in rows} == {1}
    assert all(r["answered_by"].endswith(answered_by(second)) for r in rows)
    applied = eventually(lambda: len(scenario.lines("applied-2")) == COUNT
                         and scenario.lines("applied-2"),
                         "%d callbacks" % COUNT)
    assert sorted(applied) == sorted(r["id"] for r in rows)
    assert scenario.lines("applied-1") == []
    holds_persistent(own_broker, scenario.reply_topic, 0)


def quorum_queues(broker, tmp_path):
    """Send one request from a service with ``rabbit_quorum_queue`` on
    (no responder); the broker's view of its request and reply queues."""
    conf = make_conf(broker.url(),
                     oslo_messaging_rabbit__rabbit_quorum_queue=True)
    with reqresp.Requester(CertRequest, "qca", "qca-replies", conf=conf,
                           store_url="sqlite:///%s" % (tmp_path / "r.db")
                           ) as requester:
        requester.send({}, common_name="db1")
        eventually(lambda: queues(broker).get(queue_of("qca"), {}).get(
            "messages") == 1, "the request is queued")
    listed = json.loads(broker.rabbitmqctl(
        "list_queues", "name", "durable", "type", "members", "-q",
        "--formatter", "json"))
    return [queue for queue in listed if queue["name"] in (
        queue_of("qca"), queue_of("qca-replies"))]


def test_queues_are_quorum_when_the_service_says_so(own_broker, tmp_path):
    """``rabbit_quorum_queue`` is kept: quorum queues, durable, on a single
    node too."""
    listed = quorum_queues(own_broker, tmp_path)
    assert [(q["type"], q["durable"]) for q in listed] == [
        ("quorum", True)] * 2


@pytest.mark.cluster
def test_queues_are_replicated_quorum_queues_on_a_cluster(tmp_path):
    """On three nodes, each queue has a member on every node: a response
    survives the loss of any one."""
    with broker_mod.RabbitBroker(cluster=True, name="trpcrq") as cluster:
        listed = quorum_queues(cluster, tmp_path)
        assert [(q["type"], sorted(q["members"])) for q in listed] == [
            ("quorum", sorted(cluster.nodes))] * 2


def test_a_request_pending_in_the_first_versions_queue_is_resent(
        broker_url, tmp_path, topic):
    """The upgrade: a request the first version sent to ``<topic>.info``
    and recorded ``sent``; the upgraded responder does not read that
    queue, ``resend_pending`` sends it again to the new one."""
    store_url = "sqlite:///%s" % (tmp_path / "r.db")
    reply_topic = topic + "-replies"
    old = store_mod.Store(store_url)
    row = old.create(CertRequest.KIND, reply_topic, topic,
                     {"common_name": "old", "sans": []})
    old.mark_sent(row["id"], row["revision"])
    old.close()
    publish_like_the_first_version(
        broker_url, [topic], delivery.REQUEST_EVENT, {
        "kind": CertRequest.KIND, "id": row["id"], "revision": 1,
        "reply_topic": reply_topic, "fields": row["fields"]})
    conf = make_conf(broker_url)
    with reqresp.Responder(topic, {CertRequest: lambda r: r.respond(
            **certificate_for(r.fields))}, conf=conf, store_url=store_url), \
            reqresp.Requester(CertRequest, topic, reply_topic, conf=conf,
                              store_url=store_url) as requester:
        [resent] = requester.resend_pending({})
        assert resent.id == row["id"]
        assert resent.wait(DEADLINE).key == "key-old"
