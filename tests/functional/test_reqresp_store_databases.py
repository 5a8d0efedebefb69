"""The request store on real databases: private PostgreSQL and MariaDB
servers (tests.databases), and an SQLite file, shared by separate
processes doing the same thing at the same moment.

Every test of tests/unit/test_reqresp_store.py that takes ``store`` or
``store_url`` runs here again on each real database (no broker needed).
"""

import contextlib
import inspect
import multiprocessing

import pytest
import sqlalchemy as sa

from tacker_rpc.reqresp import store as store_mod
from tests.unit import test_reqresp_store as unit

REAL = ("postgresql", "mariadb")

#: Processes racing each other, and rounds of the race.
PROCESSES = 6
ROUNDS = 10

#: Seconds a process may take for its part; far above what one needs,
#: reached only when a process is stuck (a lock never released).
DEADLINE = 120

store = unit.store  # the unit tests' fixture, opened on store_url below
globals().update(
    (name, test) for name, test in vars(unit).items()
    if name.startswith("test_") and {"store", "store_url"} & set(
        inspect.signature(test).parameters))


@pytest.fixture(params=REAL)
def store_url(request, database_server):
    """A new database on each real server (replaces the unit tests'
    SQLite file)."""
    return database_server(request.param).new_database()


@pytest.fixture(params=("sqlite",) + REAL)
def shared_url(request, database_server, tmp_path):
    """A new store shared by separate processes: an SQLite file, or a
    database on each real server."""
    if request.param == "sqlite":
        return "sqlite:///%s" % (tmp_path / "shared.db")
    return database_server(request.param).new_database()


def _create_or_update(url, barrier, rounds):
    opened = store_mod.Store(url)
    actions = []
    for number in range(rounds):
        barrier.wait(DEADLINE)
        fields = {"common_name": "db%d" % number}
        actions.append(opened.create_or_update(
            "CertRequest", "replies", "ca", fields, fields)[1])
    opened.close()
    return actions


def _answer(url, barrier, request_ids, by):
    opened = store_mod.Store(url)
    outcomes = []
    for request_id in request_ids:
        barrier.wait(DEADLINE)
        outcomes.append(opened.answer(request_id, 1, {"cert": by}, None,
                                      by))
    opened.close()
    return outcomes


def _upgrade_and_match(url, barrier):
    barrier.wait(DEADLINE)
    opened = store_mod.Store(url)
    row = opened.first_match("replies", "CertRequest", {"common_name": "db0"})
    opened.close()
    return row["id"]


def _report(results, number, target, *args):
    try:
        results.put((number, target(*args)))
    except BaseException as exc:
        results.put((number, exc))
        raise


def _run(target, url, arguments):
    """``target(url, barrier, *arguments[n])`` in one process for each
    entry of ``arguments``, at once (the barrier lines them up before
    each step); their returns, in order."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(arguments))
    results = context.Queue()
    processes = [context.Process(target=_report, args=(
        results, number, target, url, barrier, *args))
        for number, args in enumerate(arguments)]
    for process in processes:
        process.start()
    try:
        returned = dict(results.get(timeout=DEADLINE * ROUNDS)
                        for _ in processes)
    finally:
        for process in processes:
            process.join(DEADLINE)
            if process.is_alive():
                process.kill()
    failed = [value for value in returned.values()
              if isinstance(value, BaseException)]
    if failed:
        raise failed[0]
    return [returned[number] for number in range(len(arguments))]


def test_processes_creating_one_request_at_once_create_it_once(shared_url):
    store_mod.Store(shared_url).close()
    actions = _run(_create_or_update, shared_url, [(ROUNDS,)] * PROCESSES)
    for number in range(ROUNDS):
        assert sorted(done[number] for done in actions) == (
            ["created"] + ["resend"] * (PROCESSES - 1)), number
    opened = store_mod.Store(shared_url)
    rows = opened.list()
    opened.close()
    assert sorted(row["fields"]["common_name"] for row in rows) == sorted(
        "db%d" % number for number in range(ROUNDS))


def test_processes_taking_one_response_at_once_apply_it_once(shared_url):
    with contextlib.closing(store_mod.Store(shared_url)) as opened:
        ids = [opened.create("CertRequest", "replies", "ca",
                             {"common_name": "db%d" % n})["id"]
               for n in range(ROUNDS)]
        outcomes = _run(_answer, shared_url, [
            (ids, "p%d" % number) for number in range(PROCESSES)])
        for index, request_id in enumerate(ids):
            assert sorted(done[index] for done in outcomes) == (
                [store_mod.APPLIED]
                + [store_mod.DUPLICATE] * (PROCESSES - 1))
            row = opened.get(request_id)
            assert row["deliveries"] == PROCESSES
            assert row["response"] == {"cert": row["answered_by"]}
            assert outcomes[int(row["answered_by"][1:])][index] == (
                store_mod.APPLIED)


def test_processes_upgrading_one_version_1_store_at_once(shared_url,
                                                         monkeypatch):
    """Several processes of a service started at once on new code: the
    store is upgraded once, its requests indexed once."""
    unit.version_1_store(shared_url, monkeypatch)
    assert _run(_upgrade_and_match, shared_url, [()] * PROCESSES) == [
        "request-0"] * PROCESSES
    assert unit._version(shared_url) == store_mod.SCHEMA_VERSION
    engine = sa.create_engine(shared_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(
            store_mod._fields)).scalar() == 2
    engine.dispose()
