"""Requester and responder on the in-memory transport."""

import threading
import time

import pytest

from tacker_rpc import exceptions
from tacker_rpc import reqresp
from tacker_rpc.cli import main as cli_main
from tacker_rpc.fields import Field
from tacker_rpc.reqresp import delivery
from tacker_rpc.reqresp import store as store_mod
from tests.config import make_conf
from tests.functional.reqresp_main import CertRequest
from tests.functional.reqresp_main import CertResponse
from tests.functional.reqresp_main import certificate_for
from tests.polling import wait_until

#: Seconds a test waits for a response on the in-memory transport: a
#: bound that only a lost response reaches.
WAIT = 10


def issue(request):
    request.respond(**certificate_for(request.fields))


@pytest.fixture
def pair(init_rpc, tmp_path):
    """``pair(handlers)``: a started responder on topic "ca" and a started
    requester of CertRequest with a store in tmp_path."""
    init_rpc()
    started = []

    def make(handlers=None, store="requests.db"):
        responder = reqresp.Responder(
            "ca", handlers if handlers is not None else {CertRequest: issue},
            store_url="sqlite:///%s" % (tmp_path / "responder.db"))
        requester = reqresp.Requester(
            CertRequest, "ca", "ca-replies",
            store_url="sqlite:///%s" % (tmp_path / store),
            poll_interval=0.05)
        started.extend([requester.start(), responder.start()])
        return requester, responder

    yield make
    # Each stop waits for its listener's poll to end: stop them together.
    stopping = [threading.Thread(target=side.stop) for side in started]
    for thread in stopping:
        thread.start()
    for thread in stopping:
        thread.join()


# Declaring.

def test_fields_are_declared_as_class_attributes():
    assert CertRequest.KIND == "CertRequest"
    assert [f["name"] for f in CertRequest.describe()] == [
        "common_name", "sans"]
    assert CertRequest.RESPONSE is CertResponse
    request = CertRequest("id", {"common_name": "db1", "sans": []}, "r")
    assert request.common_name == "db1"


def test_complete_checks_and_fills_defaults():
    assert CertRequest.complete({"common_name": "a"}) == {
        "common_name": "a", "sans": []}
    with pytest.raises(exceptions.InvalidArguments,
                       match="CertRequest: field 'sans'") as caught:
        CertRequest.complete({"common_name": "a", "sans": "x"})
    assert caught.value.field == "sans"
    with pytest.raises(exceptions.InvalidArguments, match="is missing"):
        CertRequest.complete({})


def test_a_default_is_not_shared_between_requests():
    first = CertRequest.complete({"common_name": "a"})
    first["sans"].append("x")
    assert CertRequest.complete({"common_name": "a"})["sans"] == []


def test_a_request_class_must_name_its_response_class():
    with pytest.raises(exceptions.InvalidDeclaration, match="RESPONSE"):
        class Broken(reqresp.Request):
            name = Field(str)


def test_kind_can_be_set():
    class Renamed(reqresp.Request):
        KIND = "ca.cert"
        RESPONSE = CertResponse
    assert Renamed.KIND == "ca.cert"


# Requester and responder.

def test_send_records_sends_and_matches_the_response(pair):
    requester, _ = pair()
    request = requester.send({}, common_name="db1", sans=["db1.local"])
    assert request.state == store_mod.SENT
    response = request.wait(WAIT)
    assert response.fields == {"key": "key-db1",
                               "cert": "cert-db1-db1.local"}
    assert response.key == "key-db1"
    stored = requester.get(request.id)
    assert stored.state == store_mod.ANSWERED
    assert stored.response.cert == "cert-db1-db1.local"
    assert requester.pending() == []
    assert [r.request.id for r in requester.responses()] == [request.id]


def test_bad_fields_are_refused_before_anything_is_recorded(pair):
    requester, _ = pair()
    with pytest.raises(exceptions.InvalidArguments, match="common_name"):
        requester.send({}, common_name=3)
    with pytest.raises(exceptions.InvalidArguments, match="not one of"):
        requester.send({}, common_name="a", colour="red")
    assert requester.requests() == []


def test_response_by_request_fields(pair):
    requester, _ = pair()
    for name in ("db1", "db2"):
        requester.send({}, common_name=name).wait(WAIT)
    assert requester.response_by(common_name="db2").key == "key-db2"
    assert requester.response_by(common_name="db3") is None
    with pytest.raises(exceptions.InvalidArguments, match="'colour'"):
        requester.response_by(colour="red")


def test_create_or_update_does_not_duplicate(pair):
    requester, _ = pair()
    first = requester.create_or_update({}, ["common_name"],
                                       common_name="db1")
    first.wait(WAIT)
    same = requester.create_or_update({}, ["common_name"],
                                      common_name="db1")
    assert (same.id, same.revision, same.state) == (
        first.id, 1, store_mod.ANSWERED)
    updated = requester.create_or_update({}, ["common_name"],
                                         common_name="db1", sans=["x"])
    assert (updated.id, updated.revision) == (first.id, 2)
    assert updated.wait(WAIT).cert == "cert-db1-x"
    assert len(requester.requests()) == 1
    with pytest.raises(exceptions.InvalidArguments, match="match field"):
        requester.create_or_update({}, ["sans"], common_name="db1")


def test_callbacks_when_a_response_arrives_and_when_all_are_answered(pair):
    held = []
    requester, _ = pair({CertRequest: held.append})
    arrived, all_done = [], threading.Event()
    requester.on_response(arrived.append)
    requester.on_all_answered(lambda r: all_done.set())
    requests = [requester.send({}, common_name="h%d" % i) for i in range(5)]
    wait_until(lambda: len(held) == 5, WAIT)
    assert not all_done.is_set()
    for request in held:
        issue(request)
    assert all_done.wait(WAIT)
    wait_until(lambda: len(arrived) == 5, WAIT)
    assert sorted(r.request.id for r in arrived) == sorted(
        r.id for r in requests)


def test_a_handler_may_answer_later_from_another_thread(pair):
    held = []
    requester, _ = pair({CertRequest: held.append})
    request = requester.send({}, common_name="db1")
    with pytest.raises(exceptions.RequestTimeout, match="still sent"):
        request.wait(0.2)
    wait_until(lambda: held, WAIT)
    threading.Thread(target=issue, args=(held[0],)).start()
    assert request.wait(WAIT).key == "key-db1"


def test_a_stored_request_is_answered_by_another_responder(pair, tmp_path):
    """A responder that restarted answers from what it stored."""
    stored = []
    requester, _ = pair({CertRequest: lambda r: stored.append(r.to_dict())})
    request = requester.send({}, common_name="db1")
    wait_until(lambda: stored, WAIT)
    restarted = reqresp.Responder(
        "ca", {CertRequest: issue},
        store_url="sqlite:///%s" % (tmp_path / "elsewhere.db"))
    try:
        restored = restarted.restore(
            {"id": stored[0]["id"], "reply_topic": stored[0]["reply_topic"]})
        restored.respond(key="k", cert="c")
        assert request.wait(WAIT).key == "k"
        with pytest.raises(exceptions.InvalidArguments,
                           match="no handler for requests of kind 'Other'"):
            restarted.restore({"kind": "Other", "id": "x",
                               "reply_topic": "r"})
    finally:
        restarted.stop()


def test_fail_and_handler_errors_reach_the_requester(pair):
    def refuse(request):
        if request.common_name == "bad":
            raise ValueError("no such domain")
        request.fail("CA offline")
    requester, _ = pair({CertRequest: refuse})
    with pytest.raises(exceptions.RequestFailed, match="CA offline"):
        requester.send({}, common_name="db1").wait(WAIT)
    with pytest.raises(exceptions.RequestFailed,
                       match="ValueError: no such domain") as caught:
        requester.send({}, common_name="bad").wait(WAIT)
    assert caught.value.error == "ValueError: no such domain"
    assert [r.failed for r in requester.responses()] == [True, True]


def test_a_responder_without_handler_for_the_kind_fails_it(pair):
    requester, _ = pair({})
    with pytest.raises(exceptions.RequestFailed,
                       match="no handler for requests of kind "
                             "'CertRequest'"):
        requester.send({}, common_name="db1").wait(WAIT)


def test_an_invalid_response_fails_the_request(pair):
    requester, _ = pair({CertRequest: lambda r: r._owner._answer(
        r.KIND, r.id, r.revision, r.reply_topic, {"key": 1}, None)})
    with pytest.raises(exceptions.RequestFailed,
                       match="invalid response: CertResponse: field 'key'"):
        requester.send({}, common_name="db1").wait(WAIT)


def test_respond_checks_the_response_fields(pair):
    errors = []

    def handler(request):
        try:
            request.respond(key="k")
        except exceptions.InvalidArguments as exc:
            errors.append(exc)
            issue(request)
    requester, _ = pair({CertRequest: handler})
    requester.send({}, common_name="db1").wait(WAIT)
    assert errors[0].field == "cert"


def test_wait_and_respond_belong_to_their_sides(pair):
    held = []
    requester, _ = pair({CertRequest: held.append})
    sent = requester.send({}, common_name="db1")
    wait_until(lambda: held, WAIT)
    with pytest.raises(exceptions.InvalidArguments, match="Responder"):
        sent.respond(key="k", cert="c")
    with pytest.raises(exceptions.InvalidArguments, match="Requester"):
        held[0].wait(1)


def test_expired_requests_ignore_late_responses(pair, monkeypatch):
    held, outcomes = [], []
    real_answer = store_mod.Store.answer
    monkeypatch.setattr(store_mod.Store, "answer", lambda self, *args: (
        outcomes.append(real_answer(self, *args)) or outcomes[-1]))
    requester, _ = pair({CertRequest: held.append})
    request = requester.send({}, common_name="db1")
    wait_until(lambda: held, WAIT)
    assert [r.id for r in requester.expire(0)] == [request.id]
    issue(held[0])
    wait_until(lambda: outcomes, WAIT)
    assert outcomes == [store_mod.STALE]
    with pytest.raises(exceptions.RequestFailed, match="expired"):
        request.wait(WAIT)
    assert requester.get(request.id).state == store_mod.EXPIRED


def responder_record(tmp_path, request_id):
    """The responder's record of a request (the pair's responder store)."""
    store = store_mod.Store("sqlite:///%s" % (tmp_path / "responder.db"))
    try:
        return next((row for row in store.received("ca")
                     if row["request_id"] == request_id), None)
    finally:
        store.close()


def test_a_resent_request_is_recognised_and_not_handled_again(pair,
                                                              tmp_path):
    received = []
    requester, _ = pair({CertRequest: received.append})
    request = requester.send({}, common_name="db1")
    assert [r.id for r in requester.resend_pending({}, older_than=3600)] \
        == []
    wait_until(lambda: responder_record(tmp_path, request.id), WAIT)
    assert [r.id for r in requester.resend_pending({})] == [request.id]
    wait_until(lambda: responder_record(tmp_path, request.id)[
        "deliveries"] == 2, WAIT)
    assert [(r.id, r.revision) for r in received] == [(request.id, 1)]
    issue(received[0])
    assert request.wait(WAIT).key == "key-db1"


def test_a_copy_of_an_answered_request_gets_the_same_answer(pair, tmp_path):
    received = []

    def answer_once(request):
        received.append(request)
        issue(request)
    requester, _ = pair({CertRequest: answer_once})
    request = requester.send({}, common_name="db1")
    request.wait(WAIT)
    # The same request comes again (a redelivery): same id and revision.
    requester._send_row({}, requester._db().get(request.id))
    wait_until(lambda: requester.get(request.id).record["deliveries"] == 2,
               WAIT)
    assert len(received) == 1
    assert responder_record(tmp_path, request.id)["deliveries"] == 2


def test_a_copy_of_an_older_revision_is_dropped(pair, tmp_path):
    received = []
    requester, responder = pair({CertRequest: received.append})
    first = requester.create_or_update({}, ["common_name"],
                                       common_name="db1")
    wait_until(lambda: len(received) == 1, WAIT)
    second = requester.create_or_update({}, ["common_name"],
                                        common_name="db1", sans=["x"])
    assert (second.id, second.revision) == (first.id, 2)
    wait_until(lambda: len(received) == 2, WAIT)
    responder._receive({}, {"kind": CertRequest.KIND, "id": first.id,
                            "revision": 1, "reply_topic": "ca-replies",
                            "fields": first.fields})
    assert [r.revision for r in received] == [1, 2]
    assert responder_record(tmp_path, first.id)["revision"] == 2


def test_unanswered_requests_are_listed_after_a_restart(pair, tmp_path):
    requester, responder = pair({CertRequest: lambda request: None})
    requests = [requester.send({}, common_name=name)
                for name in ("db1", "db2")]
    wait_until(lambda: len(responder.unanswered()) == 2, WAIT)
    responder.stop()
    restarted = reqresp.Responder(
        "ca", {CertRequest: issue},
        store_url="sqlite:///%s" % (tmp_path / "responder.db"))
    try:
        left = restarted.unanswered()
        assert [(r.id, r.fields) for r in left] == [
            (r.id, r.fields) for r in requests]
        for request in left:
            issue(request)
        assert [r.wait(WAIT).key for r in requests] == ["key-db1",
                                                        "key-db2"]
        assert restarted.unanswered() == []
        assert restarted.forget_answered(older_than=3600) == 0
        assert restarted.forget_answered(older_than=0) == 2
    finally:
        restarted.stop()


def test_duplicate_responses_are_applied_once(pair):
    arrived = []

    def twice(request):
        issue(request)
        issue(request)
    requester, _ = pair({CertRequest: twice})
    requester.on_response(arrived.append)
    request = requester.send({}, common_name="db1")
    request.wait(WAIT)
    wait_until(lambda: requester.get(request.id).record["deliveries"] == 2,
               WAIT)
    requester.stop()  # waits for the listener's threads: callbacks done
    assert len(arrived) == 1


def test_a_response_whose_store_write_fails_comes_again(pair, monkeypatch):
    monkeypatch.setattr(delivery, "REQUEUE_DELAY", 0)
    requester, _ = pair()
    real_answer = store_mod.Store.answer
    calls = []

    def flaky(self, *args):
        calls.append(args[0])
        if len(calls) == 1:
            raise RuntimeError("database is down")
        return real_answer(self, *args)
    monkeypatch.setattr(store_mod.Store, "answer", flaky)
    request = requester.send({}, common_name="db1")
    assert request.wait(WAIT).key == "key-db1"
    assert calls == [request.id, request.id]


def test_two_requesters_share_one_store(pair, tmp_path):
    requester, _ = pair()
    other = reqresp.Requester(
        CertRequest, "ca", "ca-replies",
        store_url="sqlite:///%s" % (tmp_path / "requests.db")).start()
    try:
        request = requester.send({}, common_name="db1")
        assert other.get(request.id).wait(WAIT).key == "key-db1"
    finally:
        other.stop()


def test_a_requester_must_be_started(tmp_path):
    requester = reqresp.Requester(CertRequest, "ca", "ca-replies",
                                  store_url="sqlite:///%s" % tmp_path)
    with pytest.raises(exceptions.NotInitializedError, match="start()"):
        requester.pending()


# The operator's command.

def test_the_requests_command_lists_a_store(pair, tmp_path, capsys):
    requester, _ = pair({CertRequest: lambda r: None})
    request = requester.send({}, common_name="db1")
    url = "sqlite:///%s" % (tmp_path / "requests.db")
    assert cli_main.main(["requests", "--store", url, "--topic",
                          "ca-replies"]) == 0
    table = capsys.readouterr().out
    assert request.id in table and "sent" in table
    assert cli_main.main(["requests", "--store", url, "--state", "done",
                          "--format", "json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_the_requests_command_lists_what_a_responder_received(
        pair, tmp_path, capsys):
    requester, responder = pair({CertRequest: lambda r: None})
    request = requester.send({}, common_name="db1")
    wait_until(lambda: responder.unanswered(), WAIT)
    url = "sqlite:///%s" % (tmp_path / "responder.db")
    assert cli_main.main(["requests", "--store", url, "--received",
                          "--topic", "ca", "--state", "received"]) == 0
    table = capsys.readouterr().out
    assert request.id in table and "ca-replies" in table
    assert cli_main.main(["requests", "--store", url, "--received",
                          "--state", "done", "--format", "json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert cli_main.main(["requests", "--store", url, "--received",
                          "--state", "pending"]) == 1
    assert "--state pending is not a state of --received" in \
        capsys.readouterr().err


def test_the_requests_command_names_a_missing_store(tmp_path, capsys):
    url = "sqlite:///%s" % (tmp_path / "none.db")
    assert cli_main.main(["requests", "--store", url]) == 1
    assert "no request store at %s" % url in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_the_requests_command_never_prints_a_password(capsys):
    assert cli_main.main(["requests", "--store",
                          "mysql+nodriver://ca:s3cret@127.0.0.1/ca"]) == 1
    err = capsys.readouterr().err
    assert "mysql+nodriver://ca:***@127.0.0.1/ca" in err
    assert "s3cret" not in err


# What start() waits for (the counting of the queue is RabbitMQ's; here
# the count is given, the responses come through the in-memory transport).

def _requester(tmp_path, **options):
    return reqresp.Requester(
        CertRequest, "ca", "ca-replies",
        store_url="sqlite:///%s" % (tmp_path / "requests.db"),
        poll_interval=0.05, **options)


def test_start_returns_once_the_queued_responses_are_applied(
        init_rpc, tmp_path, monkeypatch):
    init_rpc()
    with _requester(tmp_path) as first:
        requests = [first.send({}, common_name="db%d" % n) for n in range(3)]
    with reqresp.Responder("ca", {CertRequest: issue}, store_url="sqlite:///"
                           "%s" % (tmp_path / "responder.db")):
        wait_until(lambda: len(_received(tmp_path)) == 3, WAIT)
        monkeypatch.setattr(reqresp.Requester, "queued", lambda self, t: 3)
        with _requester(tmp_path) as second:
            assert [r.id for r in second.pending()] == []
            assert [second.get(r.id).state for r in requests] == [
                store_mod.ANSWERED] * 3


def _received(tmp_path):
    store = store_mod.Store("sqlite:///%s" % (tmp_path / "responder.db"))
    try:
        return store.received("ca", [store_mod.ANSWERED])
    finally:
        store.close()


def test_start_waits_no_longer_than_start_timeout(init_rpc, tmp_path,
                                                  monkeypatch, caplog):
    init_rpc()
    with _requester(tmp_path) as first:
        first.send({}, common_name="db1")
    monkeypatch.setattr(reqresp.Requester, "queued", lambda self, t: 2)
    caplog.set_level("INFO", logger="tacker_rpc.reqresp.requester")
    timeout = 0.3
    started = time.monotonic()
    with _requester(tmp_path, start_timeout=timeout) as second:
        assert time.monotonic() - started >= timeout
        assert len(second.pending()) == 1
    assert "0 of the 2 responses queued on ca-replies taken" in caplog.text


def test_start_does_not_wait_when_nothing_is_pending(init_rpc, tmp_path,
                                                     monkeypatch):
    init_rpc()
    monkeypatch.setattr(reqresp.Requester, "queued", lambda self, t: 5)
    started = time.monotonic()
    with _requester(tmp_path, start_timeout=WAIT):
        assert time.monotonic() - started < WAIT


def test_an_unreachable_broker_is_not_counted(tmp_path, caplog):
    conf = make_conf("rabbit://guest:secret@127.0.0.1:1/")
    side = _requester(tmp_path, conf=conf)
    with caplog.at_level("WARNING"):
        assert side.queued("ca-replies") is None
    assert "cannot count the messages queued on " \
        "tacker_rpc_reqresp.ca-replies.info" in caplog.text
    assert "secret" not in caplog.text
