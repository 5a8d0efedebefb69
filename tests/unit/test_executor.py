"""StallGrowingExecutor: few threads for quick work, growth for slow work,
nothing lost."""

import functools
import threading

from oslo_config import cfg
import oslo_messaging
import pytest

from tacker_rpc import executor
from tacker_rpc import opts
from tacker_rpc import rpc

WAIT = 30  # generous: the machine may be busy


@pytest.fixture
def pool():
    pools = []

    def make(max_workers, grow_after=0.01):
        made = executor.StallGrowingExecutor(max_workers, grow_after)
        pools.append(made)
        return made

    yield make
    for made in pools:
        made.shutdown()


def test_quick_work_one_after_another_stays_on_one_thread(pool):
    ex = pool(8)
    for i in range(200):
        assert ex.submit(lambda n: n * 2, i).result(WAIT) == i * 2
    assert ex.thread_count == 1


def test_slow_work_gets_threads_side_by_side(pool):
    ex = pool(4)
    meeting = threading.Barrier(4, timeout=WAIT)
    futures = [ex.submit(meeting.wait) for _ in range(4)]
    assert sorted(f.result(WAIT) for f in futures) == [0, 1, 2, 3]
    assert ex.thread_count == 4


def test_never_more_threads_than_max_workers(pool):
    ex = pool(3)
    release = threading.Event()
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def hold():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(WAIT)
        with lock:
            running[0] -= 1

    futures = [ex.submit(hold) for _ in range(7)]
    meeting_deadline = threading.Event()
    while running[0] < 3 and not meeting_deadline.wait(0.01):
        pass
    release.set()
    for future in futures:
        future.result(WAIT)
    assert peak[0] == 3
    assert ex.thread_count <= 3


def test_an_exception_reaches_the_future_and_the_pool_keeps_working(pool):
    ex = pool(2)
    failed = ex.submit(functools.partial(int, "not a number"))
    assert isinstance(failed.exception(WAIT), ValueError)
    assert ex.submit(str.upper, "ok").result(WAIT) == "OK"


def test_shutdown_runs_what_was_submitted_then_refuses_more():
    ex = executor.StallGrowingExecutor(1, grow_after=60)
    release = threading.Event()
    done = []
    ex.submit(release.wait, WAIT)
    for i in range(5):
        ex.submit(done.append, i)
    # Shut down while work is still queued behind a busy thread, as a
    # server stopping under load does.
    stopper = threading.Thread(target=ex.shutdown, kwargs={"wait": True},
                               daemon=True)
    stopper.start()
    release.set()
    stopper.join(WAIT)
    assert not stopper.is_alive(), "shutdown(wait=True) never returned"
    assert done == [0, 1, 2, 3, 4]
    assert ex.thread_count == 0
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(done.append, 5)


def test_threads_without_work_end_down_to_one(pool, monkeypatch):
    monkeypatch.setattr(executor, "IDLE_TIMEOUT", 0.05)
    ex = pool(3)
    meeting = threading.Barrier(3, timeout=WAIT)
    for future in [ex.submit(meeting.wait) for _ in range(3)]:
        future.result(WAIT)
    ended = threading.Event()
    while ex.thread_count > 1 and not ended.wait(0.02):
        pass
    assert ex.thread_count == 1
    assert ex.submit(len, "abc").result(WAIT) == 3


@pytest.mark.parametrize("max_workers, grow_after, message", [
    (0, 0.01, "max_workers must be at least 1"),
    (2, -1, "grow_after must be >= 0"),
])
def test_bad_settings_are_refused(max_workers, grow_after, message):
    with pytest.raises(ValueError, match=message):
        executor.StallGrowingExecutor(max_workers, grow_after)


@pytest.mark.parametrize("grow_after, expected", [
    (0.02, executor.StallGrowingExecutor), (0, None)])
def test_get_server_installs_the_executor_unless_the_option_is_0(
        grow_after, expected):
    conf = cfg.ConfigOpts()
    conf([])
    opts.register_opts(conf)
    conf.set_override("transport_url", "kombu+memory:////")
    conf.set_override("rpc_executor_grow_after", grow_after)
    rpc.init(conf)
    try:
        server = rpc.get_server(
            oslo_messaging.Target(topic="t", server="h"), [])
        executor_cls = server._executor_cls
        if expected is None:
            assert not isinstance(executor_cls, functools.partial)
        else:
            assert executor_cls.func is expected
            assert executor_cls.keywords == {"grow_after": grow_after}
    finally:
        rpc.cleanup()
