"""The request store: schema, and the state machine of a request."""

import logging
import threading

import pytest
import sqlalchemy as sa

from tacker_rpc import exceptions
from tacker_rpc.reqresp import store as store_mod


@pytest.fixture
def store_url(tmp_path):
    """An empty store's URL: an SQLite file here; each real database in
    tests/functional/test_reqresp_store_databases.py, which runs every
    test of this module taking ``store`` or ``store_url``."""
    return "sqlite:///%s" % (tmp_path / "requests.db")


@pytest.fixture
def store(store_url):
    opened = store_mod.Store(store_url)
    yield opened
    opened.close()


def new(store, **fields):
    return store.create("CertRequest", "replies", "ca",
                        fields or {"common_name": "db1"})


def test_a_new_request_is_created_at_revision_1(store):
    row = new(store)
    assert (row["state"], row["revision"], row["deliveries"]) == (
        store_mod.CREATED, 1, 0)
    assert store.get(row["id"])["fields"] == {"common_name": "db1"}


def test_created_then_sent_then_answered(store):
    row = new(store)
    assert store.mark_sent(row["id"], 1)
    assert store.get(row["id"])["state"] == store_mod.SENT
    assert store.answer(row["id"], 1, {"cert": "c"}, None,
                        "host:1") == store_mod.APPLIED
    answered = store.get(row["id"])
    assert answered["state"] == store_mod.ANSWERED
    assert answered["response"] == {"cert": "c"}
    assert answered["answered_by"] == "host:1"
    assert answered["answered_at"] is not None


def test_an_error_fails_the_request(store):
    row = new(store)
    assert store.answer(row["id"], 1, None, "CA offline",
                        "h:1") == store_mod.APPLIED
    failed = store.get(row["id"])
    assert (failed["state"], failed["error"]) == (store_mod.FAILED,
                                                  "CA offline")


def test_a_duplicate_response_is_counted_not_applied(store):
    row = new(store)
    store.mark_sent(row["id"], 1)
    store.answer(row["id"], 1, {"cert": "first"}, None, "a:1")
    assert store.answer(row["id"], 1, {"cert": "second"}, None,
                        "b:2") == store_mod.DUPLICATE
    answered = store.get(row["id"])
    assert answered["response"] == {"cert": "first"}
    assert answered["answered_by"] == "a:1"
    assert answered["deliveries"] == 2


def test_a_response_before_sent_is_recorded_and_sent_does_not_undo_it(
        store):
    row = new(store)
    assert store.answer(row["id"], 1, {"cert": "c"}, None,
                        "a:1") == store_mod.APPLIED
    assert not store.mark_sent(row["id"], 1)
    assert store.get(row["id"])["state"] == store_mod.ANSWERED


def test_unknown_request(store):
    assert store.answer("nope", 1, {}, None, "a:1") == store_mod.UNKNOWN


def test_update_raises_the_revision_and_forgets_the_response(store):
    row = new(store)
    store.mark_sent(row["id"], 1)
    store.answer(row["id"], 1, {"cert": "old"}, None, "a:1")
    updated, action = store.create_or_update(
        "CertRequest", "replies", "ca", {"common_name": "db1"},
        {"common_name": "db1", "sans": ["x"]})
    assert action == "updated"
    assert updated["id"] == row["id"]
    again = store.get(row["id"])
    assert (again["state"], again["revision"], again["response"]) == (
        store_mod.CREATED, 2, None)
    assert again["fields"] == {"common_name": "db1", "sans": ["x"]}


def test_a_late_response_to_an_older_revision_is_stale(store):
    row = new(store)
    store.mark_sent(row["id"], 1)
    store.create_or_update("CertRequest", "replies", "ca",
                           {"common_name": "db1"},
                           {"common_name": "db1", "sans": ["x"]})
    assert store.answer(row["id"], 1, {"cert": "old"}, None,
                        "a:1") == store_mod.STALE
    assert store.get(row["id"])["state"] == store_mod.CREATED
    assert store.answer(row["id"], 2, {"cert": "new"}, None,
                        "a:1") == store_mod.APPLIED


def test_a_response_without_revision_answers_the_current_one(store):
    row = new(store)
    assert store.answer(row["id"], None, {"cert": "c"}, None,
                        "a:1") == store_mod.APPLIED


@pytest.mark.parametrize("answered, action", [
    (False, "resend"), (True, "unchanged")])
def test_create_or_update_with_the_same_fields(store, answered, action):
    row = new(store)
    if answered:
        store.answer(row["id"], 1, {"cert": "c"}, None, "a:1")
    again, done = store.create_or_update(
        "CertRequest", "replies", "ca", {"common_name": "db1"},
        {"common_name": "db1"})
    assert (again["id"], again["revision"], done) == (row["id"], 1, action)
    assert len(store.list()) == 1


def test_create_or_update_creates_when_nothing_matches(store):
    new(store)
    row, action = store.create_or_update(
        "CertRequest", "replies", "ca", {"common_name": "db2"},
        {"common_name": "db2"})
    assert action == "created"
    assert [r["fields"]["common_name"] for r in store.list()] == [
        "db1", "db2"]


def test_create_or_update_at_once_from_two_stores_creates_one(store_url):
    """Two processes' stores on one database (two engines here), 8
    threads each: one request."""
    stores = [store_mod.Store(store_url), store_mod.Store(store_url)]
    actions = []

    def update(opened):
        actions.append(opened.create_or_update(
            "CertRequest", "replies", "ca", {"common_name": "db1"},
            {"common_name": "db1"})[1])
    threads = [threading.Thread(target=update, args=(stores[n % 2],))
               for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(actions) == ["created"] + ["resend"] * 15
    assert len(stores[0].list()) == 1
    for opened in stores:
        opened.close()


def test_create_or_update_matches_within_its_topic_and_kind(store):
    new(store)
    _, action = store.create_or_update(
        "CertRequest", "other-replies", "ca", {"common_name": "db1"},
        {"common_name": "db1"})
    assert action == "created"


def test_expire_pending_requests_older_than(store):
    old = new(store)
    store.mark_sent(old["id"], 1)
    answered = new(store, common_name="db2")
    store.answer(answered["id"], 1, {}, None, "a:1")
    assert store.expire("replies", "CertRequest", 3600) == []
    expired = store.expire("replies", "CertRequest", 0)
    assert [row["id"] for row in expired] == [old["id"]]
    assert store.get(old["id"])["state"] == store_mod.EXPIRED
    assert store.get(answered["id"])["state"] == store_mod.ANSWERED
    assert store.answer(old["id"], 1, {}, None,
                        "a:1") == store_mod.STALE


def test_an_expired_request_comes_back_when_updated(store):
    row = new(store)
    store.expire("replies", "CertRequest", 0)
    _, action = store.create_or_update(
        "CertRequest", "replies", "ca", {"common_name": "db1"},
        {"common_name": "db1", "sans": []})
    assert action == "updated"
    assert store.get(row["id"])["state"] == store_mod.CREATED


def test_every_transition_leads_to_a_known_state():
    for events in store_mod.TRANSITIONS.values():
        assert set(events.values()) <= set(store_mod.TRANSITIONS)
    assert set(store_mod.PENDING + store_mod.DONE) < set(
        store_mod.TRANSITIONS)


def test_list_filters_by_topic_kind_and_state(store):
    a = new(store)
    store.create("Other", "replies", "ca", {})
    store.create("CertRequest", "elsewhere", "ca", {})
    store.answer(a["id"], 1, {}, None, "a:1")
    assert len(store.list()) == 3
    assert [r["id"] for r in store.list("replies", "CertRequest",
                                        store_mod.DONE)] == [a["id"]]
    assert store.count("replies", "CertRequest", store_mod.PENDING) == 0


def test_list_is_oldest_first_within_one_second(store):
    """Ordered by creation time to the microsecond (MySQL's plain
    DATETIME would keep whole seconds, leaving the order to the ids)."""
    made = [new(store, common_name="db%d" % n)["id"] for n in range(20)]
    assert [row["id"] for row in store.list()] == made


def test_first_match_finds_by_every_field_given(store):
    new(store, common_name="db1", sans=["a"])
    wanted = new(store, common_name="db1", sans=["b"], ttl=3)
    new(store, common_name="db2", sans=["b"])
    found = store.first_match("replies", "CertRequest",
                              {"common_name": "db1", "sans": ["b"]})
    assert found["id"] == wanted["id"]
    assert store.first_match("replies", "CertRequest",
                             {"common_name": "db3"}) is None
    assert store.first_match("replies", "CertRequest",
                             {"ttl": None}) is None
    assert store.first_match("elsewhere", "CertRequest",
                             {"common_name": "db1"}) is None


def test_first_match_of_a_value_json_cannot_hold_is_none(store):
    new(store, common_name="db1", sans=["a"])
    assert store.first_match("replies", "CertRequest",
                             {"sans": {"a"}}) is None


def test_first_match_takes_the_oldest_in_the_states_given(store):
    first = new(store)
    second = new(store)
    store.answer(second["id"], 1, {"cert": "c"}, None, "a:1")
    assert store.first_match("replies", "CertRequest",
                             {"common_name": "db1"})["id"] == first["id"]
    assert store.first_match("replies", "CertRequest",
                             {"common_name": "db1"},
                             store_mod.DONE)["id"] == second["id"]
    assert store.first_match("replies", "CertRequest", {},
                             store_mod.DONE)["id"] == second["id"]


def test_first_match_compares_values_the_digests_say_are_equal(
        store, monkeypatch):
    monkeypatch.setattr(store_mod, "_digest", lambda *args: "0" * 64)
    new(store, common_name="db1")
    wanted = new(store, common_name="db2")
    assert store.first_match("replies", "CertRequest",
                             {"common_name": "db2"})["id"] == wanted["id"]


def test_an_update_reindexes_the_fields(store):
    row = new(store, common_name="db1", sans=["a"])
    store.create_or_update("CertRequest", "replies", "ca",
                           {"common_name": "db1"},
                           {"common_name": "db1", "sans": ["b"]})
    assert store.first_match("replies", "CertRequest",
                             {"sans": ["a"]}) is None
    assert store.first_match("replies", "CertRequest",
                             {"sans": ["b"]})["id"] == row["id"]


class _Deadlock(Exception):
    """What PyMySQL raises for a deadlock victim."""

    def __init__(self):
        super().__init__(1213, "Deadlock found when trying to get lock")


def test_a_deadlock_victim_transaction_runs_again(store):
    attempts = []

    def work(conn):
        attempts.append(1)
        if len(attempts) < store_mod.DEADLOCK_ATTEMPTS:
            raise sa.exc.OperationalError("UPDATE", {}, _Deadlock())
        return "done"

    assert store._transaction(work) == "done"
    assert len(attempts) == store_mod.DEADLOCK_ATTEMPTS


def test_deadlocks_beyond_the_attempts_and_other_errors_are_raised(store):
    attempts = []

    def deadlocked(conn):
        attempts.append(1)
        raise sa.exc.OperationalError("UPDATE", {}, _Deadlock())

    with pytest.raises(sa.exc.OperationalError, match="Deadlock"):
        store._transaction(deadlocked)
    assert len(attempts) == store_mod.DEADLOCK_ATTEMPTS

    def broken(conn):
        attempts.append(1)
        raise sa.exc.OperationalError("UPDATE", {}, Exception(2006, "gone"))

    with pytest.raises(sa.exc.OperationalError, match="gone"):
        store._transaction(broken)
    assert len(attempts) == store_mod.DEADLOCK_ATTEMPTS + 1


# Schema.

def _version(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(sa.text(
            "SELECT version FROM tacker_rpc_schema WHERE component = "
            ":c"), {"c": store_mod.COMPONENT}).scalar()
    engine.dispose()
    return version


def test_opening_creates_the_schema_at_the_current_version(store_url):
    store_mod.Store(store_url).close()
    assert _version(store_url) == store_mod.SCHEMA_VERSION
    reopened = store_mod.Store(store_url)
    assert reopened.list() == []
    reopened.close()


def test_a_store_newer_than_the_code_is_refused(store_url):
    store_mod.Store(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE tacker_rpc_schema SET version = 99"))
    engine.dispose()
    with pytest.raises(exceptions.StoreError, match="version 99"):
        store_mod.Store(store_url)


def test_reading_a_store_without_schema_is_refused(store_url):
    with pytest.raises(exceptions.StoreError, match="no request store"):
        store_mod.Store(store_url, upgrade=False)


def test_migrations_run_in_order_from_the_recorded_version(
        store_url, monkeypatch):
    store_mod.Store(store_url).close()
    ran = []
    following = store_mod.SCHEMA_VERSION + 1

    def next_version(conn):
        ran.append(following)
        conn.execute(sa.text(
            "ALTER TABLE tacker_rpc_requests ADD COLUMN note TEXT"))

    monkeypatch.setattr(store_mod, "_MIGRATIONS",
                        store_mod._MIGRATIONS + (next_version,))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", following)
    store_mod.Store(store_url).close()
    store_mod.Store(store_url).close()
    assert ran == [following]
    assert _version(store_url) == following


def test_a_bad_url_is_named(tmp_path):
    with pytest.raises(exceptions.StoreError, match="request store URL"):
        store_mod.Store("not a url")
    with pytest.raises(exceptions.StoreError, match="no directory"):
        store_mod.Store("sqlite:///%s/missing/s.db" % tmp_path)
    with pytest.raises(exceptions.StoreError, match="database driver"):
        store_mod.Store("mysql+nosuchdriver://u:p@127.0.0.1/db")


def version_1_store(url, monkeypatch):
    """Make the store at ``url`` as version 1 left it, with two requests
    of CertRequest on "replies": request-0 (db0, sent) and request-1
    (db1, answered)."""
    with monkeypatch.context() as version_1:
        version_1.setattr(store_mod, "_MIGRATIONS",
                          store_mod._MIGRATIONS[:1])
        version_1.setattr(store_mod, "SCHEMA_VERSION", 1)
        store_mod.Store(url).close()
    engine = sa.create_engine(url)
    now = store_mod.utcnow()
    with engine.begin() as conn:
        for n, state in enumerate([store_mod.SENT, store_mod.ANSWERED]):
            conn.execute(store_mod._requests.insert().values(
                id="request-%d" % n, reply_topic="replies",
                responder_topic="ca", kind="CertRequest", state=state,
                revision=1, fields='{"common_name": "db%d"}' % n,
                response='{"cert": "c%d"}' % n if n else None,
                deliveries=n, created_at=now, updated_at=now))
    engine.dispose()


def test_a_version_1_store_is_upgraded_and_its_requests_matched(
        store_url, monkeypatch):
    version_1_store(store_url, monkeypatch)
    upgraded = store_mod.Store(store_url)
    try:
        assert _version(store_url) == store_mod.SCHEMA_VERSION == 3
        assert upgraded.unanswered("ca") == []
        row, action = upgraded.create_or_update(
            "CertRequest", "replies", "ca", {"common_name": "db0"},
            {"common_name": "db0"})
        assert (row["id"], action) == ("request-0", "resend")
        assert upgraded.first_match(
            "replies", "CertRequest", {"common_name": "db1"},
            store_mod.DONE)["response"] == {"cert": "c1"}
        new(upgraded, common_name="db2")
        assert [r["fields"]["common_name"] for r in upgraded.list()] == [
            "db0", "db1", "db2"]
    finally:
        upgraded.close()


# What a responder records.

def delivered(revision=1, request_id="r-1", **fields):
    return {"id": request_id, "kind": "CertRequest", "revision": revision,
            "reply_topic": "replies",
            "fields": fields or {"common_name": "db1"}}


def test_a_request_not_seen_is_handled_and_recorded_when_its_handler_returns(
        store):
    assert store.receive("ca", delivered()) == (store_mod.HANDLE, None)
    assert store.unanswered("ca") == []
    store.handled("ca", delivered())
    [row] = store.unanswered("ca")
    assert (row["request_id"], row["revision"], row["state"],
            row["fields"], row["deliveries"]) == (
        "r-1", 1, store_mod.RECEIVED, {"common_name": "db1"}, 1)
    assert store.unanswered("elsewhere") == []


def test_a_copy_of_a_request_in_hand_is_not_handled_again(store):
    store.handled("ca", delivered())
    verdict, row = store.receive("ca", delivered())
    assert verdict == store_mod.IN_HAND
    assert store.unanswered("ca")[0]["deliveries"] == 2


def test_a_copy_of_an_answered_request_is_answered_again(store):
    store.responded("ca", delivered(), {"key": "k"}, None)
    store.handled("ca", delivered())  # after respond(): stays answered
    verdict, row = store.receive("ca", delivered())
    assert (verdict, row["state"], row["response"], row["error"]) == (
        store_mod.ANSWER_AGAIN, store_mod.ANSWERED, {"key": "k"}, None)
    store.responded("ca", delivered(request_id="r-2"), None, "no CA")
    verdict, row = store.receive("ca", delivered(request_id="r-2"))
    assert (verdict, row["state"], row["error"]) == (
        store_mod.ANSWER_AGAIN, store_mod.FAILED, "no CA")
    assert store.unanswered("ca") == []


def test_a_newer_revision_is_handled_and_an_older_one_dropped(store):
    store.responded("ca", delivered(), {"key": "k"}, None)
    newer = delivered(revision=2, common_name="db1", sans=["x"])
    assert store.receive("ca", newer)[0] == store_mod.HANDLE
    store.handled("ca", newer)
    [row] = store.unanswered("ca")
    assert (row["revision"], row["fields"], row["response"]) == (
        2, newer["fields"], None)
    assert store.receive("ca", delivered())[0] == store_mod.OLDER
    store.responded("ca", delivered(), {"key": "old"}, None)
    assert store.unanswered("ca")[0]["revision"] == 2


def test_a_request_restored_without_revision_answers_the_current_one(store):
    store.handled("ca", delivered(revision=3))
    store.responded("ca", delivered(revision=None), {"key": "k"}, None)
    verdict, row = store.receive("ca", delivered(revision=3))
    assert (verdict, row["revision"], row["response"]) == (
        store_mod.ANSWER_AGAIN, 3, {"key": "k"})


def test_answered_records_are_forgotten_when_old_enough(store):
    store.responded("ca", delivered(), {"key": "k"}, None)
    store.handled("ca", delivered(request_id="r-2"))
    assert store.forget_answered("ca", older_than=3600) == 0
    assert store.forget_answered("ca", older_than=0) == 1
    assert store.receive("ca", delivered())[0] == store_mod.HANDLE
    assert [row["request_id"] for row in store.unanswered("ca")] == ["r-2"]


def _store_log(caplog):
    return [record.getMessage() for record in caplog.records
            if record.name == store_mod.__name__]


def test_a_new_store_is_created_at_the_current_version_in_one_line(
        store_url, caplog):
    caplog.set_level(logging.INFO, logger=store_mod.__name__)
    store_mod.Store(store_url).close()
    (line,) = _store_log(caplog)
    assert line.endswith("created at schema version %d"
                         % store_mod.SCHEMA_VERSION)
    caplog.clear()
    store_mod.Store(store_url).close()
    assert _store_log(caplog) == []


def test_an_old_store_is_upgraded_in_one_line(store_url, monkeypatch,
                                              caplog):
    version_1_store(store_url, monkeypatch)
    caplog.set_level(logging.INFO, logger=store_mod.__name__)
    store_mod.Store(store_url).close()
    (line,) = _store_log(caplog)
    assert line.endswith("upgraded from schema version 1 to %d"
                         % store_mod.SCHEMA_VERSION)
    assert _version(store_url) == store_mod.SCHEMA_VERSION
