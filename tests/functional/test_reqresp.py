"""Long-running requests on RabbitMQ, requester and responder in separate
processes (tests.functional.reqresp_main), killed and restarted."""

import json
import os
import signal
import subprocess
import sys
import uuid

import pytest

from tacker_rpc import reqresp
from tacker_rpc.reqresp import store as store_mod
from tests.config import lean_url
from tests.functional.cli.conftest import TACKER_RPC
from tests.functional.conftest import ServerProcess
from tests.functional.reqresp_main import CertRequest
from tests.functional.reqresp_main import certificate_for
from tests.polling import wait_until

#: Seconds a step may take before the test fails: far above what any step
#: needs, reached only when a request or response is lost.
DEADLINE = 90


def eventually(predicate, what):
    return wait_until(predicate, DEADLINE, what)


class Scenario:
    """A responder topic, a reply topic, a store, and the processes."""

    def __init__(self, broker_url, tmp_path):
        self.url = broker_url
        self.tmp = tmp_path
        self.topic = "ca-" + uuid.uuid4().hex[:8]
        self.reply_topic = self.topic + "-replies"
        self.store_url = "sqlite:///%s" % (tmp_path / "requests.db")
        self.dir = tmp_path / "ca"
        self.dir.mkdir()
        self.processes = []
        self._store = None

    def _start(self, *arguments):
        process = ServerProcess(None, self.topic, "reqresp", command=[
            sys.executable, "-m", "tests.functional.reqresp_main",
            *arguments, "--transport-url", self.url, "--topic", self.topic])
        self.processes.append(process)
        return process

    def responder(self, *options):
        return self._start("responder", "--dir", str(self.dir), *options)

    def requester(self, log, *options):
        return self._start("requester", "--reply-topic", self.reply_topic,
                           "--store", self.store_url,
                           "--log", str(self.tmp / log), *options)

    def go(self):
        (self.dir / "go").touch()

    def rows(self, states=None):
        if self._store is None:
            self._store = eventually(self._open, "the store is created")
        return self._store.list(self.reply_topic, CertRequest.KIND, states)

    def _open(self):
        try:
            return store_mod.Store(self.store_url, upgrade=False)
        except Exception:
            return None

    def count(self, states):
        return len(self.rows(states))

    def lines(self, name):
        path = self.tmp / name
        return path.read_text().split() if path.exists() else []

    def received(self):
        path = self.dir / "received.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()
                ] if path.exists() else []

    def close(self):
        for process in self.processes:
            process.stop()
        if self._store is not None:
            self._store.close()

    def assert_matched(self, expected):
        rows = self.rows()
        assert len(rows) == expected
        for row in rows:
            assert row["state"] == store_mod.ANSWERED, row
            assert row["response"] == certificate_for(row["fields"]), row


@pytest.fixture
def scenario(broker_url, tmp_path):
    made = Scenario(broker_url, tmp_path)
    yield made
    made.close()


def answered_by(process):
    return ":%d" % process.proc.pid


def test_100_requests_answered_out_of_order_are_matched(scenario):
    scenario.responder("--batch", "100")
    requester = scenario.requester("applied", "--send", "100")
    eventually(lambda: scenario.count(store_mod.DONE) == 100,
               "100 answered")
    scenario.assert_matched(100)
    sent_order = [row["id"] for row in scenario.rows()]
    applied = eventually(lambda: len(scenario.lines("applied")) == 100
                         and scenario.lines("applied"), "100 callbacks")
    assert sorted(applied) == sorted(sent_order)
    assert applied != sent_order
    assert {row["deliveries"] for row in scenario.rows()} == {1}
    assert all(row["answered_by"].endswith(answered_by(requester))
               for row in scenario.rows())


def test_requester_killed_with_20_responses_in_flight(scenario):
    """SIGKILLed with 5 responses taken and not acknowledged (their
    callbacks still running) and 15 still to come; restarted, every
    response is matched once."""
    scenario.responder("--hold", "--pause-after", "5")
    first = scenario.requester("applied-1", "--send", "20",
                               "--callback-delay", str(DEADLINE))
    eventually(lambda: scenario.count([store_mod.SENT]) == 20, "20 sent")
    scenario.go()
    eventually(lambda: scenario.count(store_mod.DONE) == 5, "5 answered")
    first.kill()
    (scenario.dir / "resume").touch()
    eventually(lambda: len(scenario.lines("ca/answered")) == 20,
               "the responder sent 20 responses")
    assert scenario.count(store_mod.DONE) == 5
    second = scenario.requester("applied-2")
    eventually(lambda: scenario.count(store_mod.DONE) == 20, "20 answered")
    scenario.assert_matched(20)
    rows = scenario.rows()
    by_first = {r["id"] for r in rows
                if r["answered_by"].endswith(answered_by(first))}
    by_second = {r["id"] for r in rows
                 if r["answered_by"].endswith(answered_by(second))}
    assert (len(by_first), len(by_second)) == (5, 15)
    # The first process died in its callbacks, before acknowledging: the
    # 5 responses it had applied came again to the second, which counted
    # them as duplicates and ran no callback for them.
    assert scenario.lines("applied-1") == []
    applied = eventually(lambda: len(scenario.lines("applied-2")) == 15
                         and scenario.lines("applied-2"),
                         "the second's 15 callbacks")
    assert set(applied) == by_second and len(applied) == 15
    eventually(lambda: sum(r["deliveries"] for r in scenario.rows()) == 25,
               "5 duplicates counted")
    assert {r["id"] for r in scenario.rows()
            if r["deliveries"] == 2} == by_first


def test_responder_restarted_before_answering(scenario, rpc_conf):
    scenario.responder("--hold")
    with reqresp.Requester(CertRequest, scenario.topic,
                           scenario.reply_topic,
                           store_url=scenario.store_url) as requester:
        before = [requester.send({}, common_name="before-%d" % n)
                  for n in range(10)]
        eventually(lambda: len(scenario.received()) == 10,
                   "the responder recorded 10 requests")
        scenario.processes[0].kill()
        during = [requester.send({}, common_name="during-%d" % n)
                  for n in range(10)]
        scenario.go()
        scenario.responder()
        for request in before + during:
            response = request.wait(DEADLINE)
            assert response.fields == certificate_for(request.fields)
        assert requester.pending() == []


def test_requests_resent_to_a_restarted_responder_are_not_handled_again(
        scenario, rpc_conf):
    """The responder's handler returned for 10 requests without answering;
    SIGKILLed and restarted, it finds them in its store, and the copies
    the requester sends again are recognised, not handed to the handler:
    each request is received once and answered once."""
    scenario.responder("--hold")
    responder_store = "sqlite:///%s" % (scenario.dir / "responder.db")
    with reqresp.Requester(CertRequest, scenario.topic,
                           scenario.reply_topic,
                           store_url=scenario.store_url) as requester:
        requests = [requester.send({}, common_name="db-%d" % n)
                    for n in range(10)]
        eventually(lambda: len(_unanswered(responder_store,
                                           scenario.topic)) == 10,
                   "the responder recorded 10 requests in hand")
        scenario.processes[0].kill()
        scenario.responder("--hold")
        assert len(requester.resend_pending({})) == 10
        # At least 2 deliveries each: a request recorded but not yet
        # acknowledged when the first responder died comes a third time.
        eventually(lambda: [row["deliveries"] >= 2 for row in _unanswered(
            responder_store, scenario.topic)] == [True] * 10,
                   "the 10 copies reached the restarted responder")
        scenario.go()
        for request in requests:
            assert request.wait(DEADLINE).fields == certificate_for(
                request.fields)
        assert [row["deliveries"] for row in scenario.rows()] == [1] * 10
    assert sorted(r["id"] for r in scenario.received()) == sorted(
        r.id for r in requests)


def _unanswered(url, topic):
    try:
        store = store_mod.Store(url, upgrade=False)
    except Exception:
        return []  # not created yet
    try:
        return store.unanswered(topic)
    finally:
        store.close()


def test_create_or_update_does_not_duplicate(scenario, rpc_conf):
    scenario.responder()
    with reqresp.Requester(CertRequest, scenario.topic,
                           scenario.reply_topic,
                           store_url=scenario.store_url) as requester:
        first = requester.create_or_update({}, ["common_name"],
                                           common_name="db1")
        first.wait(DEADLINE)
        again = requester.create_or_update({}, ["common_name"],
                                           common_name="db1")
        updated = requester.create_or_update(
            {}, ["common_name"], common_name="db1", sans=["db1.local"])
        assert first.id == again.id == updated.id
        assert updated.revision == 2
        assert updated.wait(DEADLINE).cert == "cert-db1-db1.local"
        assert [r.id for r in requester.requests()] == [first.id]
        assert requester.response_by(common_name="db1").cert == \
            "cert-db1-db1.local"
    assert [(r["id"], r["revision"]) for r in scenario.received()] == [
        (first.id, 1), (first.id, 2)]


def test_two_requesters_share_one_store(scenario):
    """A response to a request sent by one process is taken by the
    other."""
    scenario.responder("--hold")
    sender = scenario.requester("applied-sender", "--send", "10")
    eventually(lambda: scenario.count([store_mod.SENT]) == 10, "10 sent")
    sender.signal(signal.SIGTERM)
    sender.wait(DEADLINE)
    taker = scenario.requester("applied-taker")
    eventually(lambda: os.path.exists(taker.log_path) and "ready" in
               taker.log().splitlines(), "the second requester is ready")
    scenario.go()
    eventually(lambda: scenario.count(store_mod.DONE) == 10, "10 answered")
    scenario.assert_matched(10)
    assert all(row["answered_by"].endswith(answered_by(taker))
               for row in scenario.rows())
    assert sorted(eventually(
        lambda: len(scenario.lines("applied-taker")) == 10
        and scenario.lines("applied-taker"), "10 callbacks")) == sorted(
            row["id"] for row in scenario.rows())
    assert scenario.lines("applied-sender") == []
    listed = subprocess.run(
        [TACKER_RPC, "requests", "--store", scenario.store_url, "--topic",
         scenario.reply_topic, "--format", "json"],
        capture_output=True, text=True, timeout=DEADLINE, check=True)
    assert sorted((r["id"], r["state"], r["response"]["key"])
                  for r in json.loads(listed.stdout)) == sorted(
        (r["id"], "answered", "key-" + r["fields"]["common_name"])
        for r in scenario.rows())


@pytest.fixture(params=["rabbit", "lean-rabbit"])
def either_driver(request, broker_url, tmp_path):
    """A :class:`Scenario` through oslo.messaging's driver or the lean
    one."""
    url = lean_url(broker_url) if request.param == "lean-rabbit" else (
        broker_url)
    made = Scenario(url, tmp_path)
    yield made
    made.close()


def test_restarted_requester_resends_nothing_answered(either_driver):
    """Responses sent while no requester ran are taken by start(): the
    create_or_update that follows at once sends nothing again, the
    responder sees each request once, and the requester stops with no
    warning."""
    scenario = either_driver
    responder = scenario.responder("--hold")
    first = scenario.requester("applied-1", "--create-or-update", "5")
    eventually(lambda: scenario.count([store_mod.SENT]) == 5, "5 sent")
    first.signal(signal.SIGTERM)
    first.wait(DEADLINE)
    scenario.go()
    eventually(lambda: len(scenario.lines("ca/answered")) == 5,
               "the responder sent 5 responses")
    assert scenario.count(store_mod.DONE) == 0
    second = scenario.requester("applied-2", "--create-or-update", "5")
    eventually(lambda: "ready" in second.log().splitlines(),
               "the second requester ran")
    second.signal(signal.SIGTERM)
    assert second.wait(DEADLINE) == 0, second.log()
    assert second.log().split().count("left") == 5, second.log()
    assert "WARNING" not in second.log() and "ERROR" not in second.log()
    scenario.assert_matched(5)
    assert [row["deliveries"] for row in scenario.rows()] == [1] * 5
    assert len(scenario.received()) == 5
    assert "came again" not in responder.log()
