"""The recovery rules of the backoff (issue 3), on the TimeoutTable alone
and through BackingOffClient with the transport's ``_send`` replaced by a
simulated server on a simulated clock."""

import itertools
import json
import logging
import os
import random

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
import oslo_messaging
import pytest

from tacker_rpc import backoff
from tacker_rpc import client as client_mod
from tacker_rpc import rpc
from tests.functional.conftest import make_conf

DEFAULT = 10.0
CEILING = 100.0
KEY = backoff.CallKey("conductor", None, "get_vnf")


def settings(**overrides):
    values = dict(default_timeout=DEFAULT, max_timeout=CEILING)
    values.update(overrides)
    return backoff.BackoffSettings(**values)


class SimClock:
    """A clock that only moves when told to."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class SimServer:
    """Plays calls of one method against a TimeoutTable, as a client would.

    ``latency`` is what the method needs; a call whose timeout is shorter
    times out after waiting its timeout.
    """

    def __init__(self, table=None, key=KEY, config=None):
        self.clock = SimClock()
        self.table = table or backoff.TimeoutTable(
            rng=random.Random(7), clock=self.clock)
        self.key = key
        self.config = config or settings()
        self.used = []

    def call(self, latency):
        """One call; True when answered, False when it timed out."""
        attempt = self.table.start_call(self.key, self.config)
        self.used.append(attempt.timeout)
        if latency >= attempt.timeout:
            self.clock.now += attempt.timeout
            self.clock.now += self.table.record_timeout(
                self.key, attempt.timeout, self.config)
            return False
        self.clock.now += latency
        self.table.record_success(self.key, latency, self.config,
                                  measured=attempt.measured)
        return True

    def until_answered(self, latency):
        while not self.call(latency):
            pass

    @property
    def timeout(self):
        return self.table.timeout_for(self.key, self.config)

    def state(self):
        (entry,) = self.table.snapshot()
        return entry


def grow_to_ceiling(sim):
    while sim.timeout < sim.config.max_timeout:
        assert not sim.call(float("inf"))


# -- growth --------------------------------------------------------------

def test_each_timeout_doubles_up_to_the_ceiling():
    sim = SimServer()
    for _ in range(6):
        sim.call(float("inf"))
    assert sim.used == [10, 20, 40, 80, 100, 100]
    assert sim.timeout == CEILING


def test_growth_is_logged_at_warning(caplog):
    sim = SimServer()
    with caplog.at_level(logging.INFO, logger=backoff.__name__):
        sim.call(float("inf"))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "conductor:get_vnf" in record.getMessage()
    assert "from 10s to 20s" in record.getMessage()


def test_callers_timing_out_with_the_same_value_double_it_once():
    table = backoff.TimeoutTable(rng=random.Random(1))
    config = settings()
    attempts = [table.start_call(KEY, config) for _ in range(5)]
    for attempt in attempts:
        table.record_timeout(KEY, attempt.timeout, config)
    assert table.timeout_for(KEY, config) == 20


# -- recovery --------------------------------------------------------------

def back_to_default_after(sim, latency, limit=50):
    """How many answers of ``latency`` bring the timeout to the default."""
    for answers in range(1, limit + 1):
        assert sim.call(latency)
        if sim.timeout == sim.config.default_timeout:
            return answers
    raise AssertionError("timeout still %s after %s answers"
                         % (sim.timeout, limit))


def test_a_fast_method_is_back_to_default_within_3_answers_of_the_ceiling():
    sim = SimServer()
    grow_to_ceiling(sim)
    assert back_to_default_after(sim, 0.001) <= 3


def test_recovery_within_3_answers_when_the_outage_ends_mid_call():
    """The answer that ends an outage took as long as the outage; it must
    not be learned as the method's latency (Karn's rule)."""
    sim = SimServer()
    for _ in range(20):
        sim.call(0.001)
    grow_to_ceiling(sim)
    assert sim.call(90.0)
    assert sim.state().latency < 0.01
    assert back_to_default_after(sim, 0.001) <= 2


def test_back_to_default_is_logged_at_info_once(caplog):
    sim = SimServer()
    grow_to_ceiling(sim)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=backoff.__name__):
        for _ in range(5):
            sim.call(0.001)
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1
    assert "back to the default 10s" in infos[0].getMessage()
    assert all(r.levelno < logging.WARNING for r in caplog.records)


def test_an_answer_in_a_timeout_streak_ends_it_without_learning():
    sim = SimServer()
    sim.call(float("inf"))
    attempt = sim.table.start_call(KEY, sim.config)
    assert attempt == backoff.CallAttempt(20, False)
    sim.table.record_success(KEY, 15.0, sim.config, measured=False)
    state = sim.state()
    assert (state.timeout, state.latency, state.calls) == (20, None, 2)
    assert sim.table.start_call(KEY, sim.config).measured


def test_a_slow_but_healthy_method_keeps_a_safe_timeout_and_never_flaps():
    rng = random.Random(3)
    sim = SimServer()
    sim.until_answered(40.0)
    grown_calls = len(sim.used)
    for _ in range(500):
        assert sim.call(rng.uniform(35.0, 45.0))
        assert sim.timeout >= 1.5 * 45.0
    assert sim.state().timeouts == grown_calls - 1
    assert 35.0 < sim.state().latency < 45.0


def test_a_method_that_steadily_needs_40s_keeps_about_twice_that():
    sim = SimServer()
    sim.until_answered(40.0)
    for _ in range(200):
        assert sim.call(40.0)
    assert 80.0 <= sim.timeout <= 81.0


def test_alternating_fast_and_slow_answers_do_not_flap():
    sim = SimServer()
    sim.until_answered(40.0)
    for call in range(400):
        assert sim.call(0.001 if call % 2 else 40.0), call
    assert sim.timeout > 40.0


def test_runs_of_fast_answers_between_slow_ones_do_not_flap():
    sim = SimServer()
    sim.until_answered(40.0)
    for call in range(400):
        assert sim.call(40.0 if call % 4 == 0 else 0.001), call


def test_a_method_slow_for_a_while_then_fast_again_returns_to_default():
    """Slow answers are evidence, forgotten as the smoothed latency
    decays: a stall of 30 s answers (3x the default) then fast answers."""
    sim = SimServer()
    grow_to_ceiling(sim)
    for _ in range(10):
        assert sim.call(30.0)
    assert sim.timeout >= 60
    answers = back_to_default_after(sim, 0.001)
    assert 3 <= answers <= 30


def test_the_estimator_follows_rfc_6298_except_on_a_falling_latency():
    sim = SimServer()
    sim.call(8.0)
    assert (sim.state().latency, sim.state().latency_variation) == (8.0, 4.0)
    sim.call(9.0)
    # RFC 6298: rttvar += (|srtt - R| - rttvar) / 4; srtt += (R - srtt) / 8
    assert sim.state().latency_variation == 4.0 + (1.0 - 4.0) / 4
    assert sim.state().latency == 8.0 + 1.0 / 8
    variation = sim.state().latency_variation
    sim.call(0.5)
    # Falling: the variation decays instead of growing by |srtt - R|.
    assert sim.state().latency_variation == variation * 3 / 4
    assert sim.state().latency == 8.125 + (0.5 - 8.125) / 8


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 150)), max_size=60),
       st.booleans())
def test_timeout_stays_between_the_default_and_the_ceiling(latencies,
                                                         recovery):
    sim = SimServer(config=settings(recovery=recovery))
    for latency in latencies:
        sim.call(float("inf") if latency is None else latency)
        assert DEFAULT <= sim.timeout <= CEILING


def test_recovery_never_goes_below_what_answers_needed():
    """After any answer, the timeout is above the latency it just took."""
    rng = random.Random(11)
    sim = SimServer()
    for _ in range(2000):
        latency = rng.choice([0.001, 5.0, 25.0, 60.0, float("inf")])
        if sim.call(latency) and sim.state().latency is not None:
            assert sim.timeout > latency or latency < DEFAULT


# -- scope -------------------------------------------------------------------

def test_timeouts_are_kept_per_topic_namespace_and_method():
    table = backoff.TimeoutTable(rng=random.Random(2))
    config = settings()
    slow = backoff.CallKey("conductor", None, "sync")
    same_method_other_topic = backoff.CallKey("agent", None, "sync")
    other_namespace = backoff.CallKey("conductor", "vnfm", "sync")
    table.record_timeout(slow, 10, config)
    table.record_timeout(slow, 20, config)
    assert table.timeout_for(slow, config) == 40
    assert table.timeout_for(same_method_other_topic, config) == DEFAULT
    assert table.timeout_for(other_namespace, config) == DEFAULT
    assert table.start_call(same_method_other_topic, config).measured


# -- options -----------------------------------------------------------------

def test_recovery_off_only_grows_as_tacker_does():
    sim = SimServer(config=settings(recovery=False))
    grow_to_ceiling(sim)
    for _ in range(20):
        assert sim.call(0.001)
    assert sim.timeout == CEILING
    assert sim.used[:5] == [10, 20, 40, 80, 100]
    assert sim.state().latency < 0.01


def test_max_splay_zero_never_pauses():
    table = backoff.TimeoutTable(rng=random.Random(5))
    config = settings(max_splay=0)
    assert [table.record_timeout(KEY, t, config) for t in (10, 20, 40)] == [
        0.0, 0.0, 0.0]


def test_splay_is_bounded_by_max_splay_and_the_default():
    table = backoff.TimeoutTable(rng=random.Random(5))
    short = [table.record_timeout(KEY, 80, settings(max_splay=0.5))
             for _ in range(200)]
    assert max(short) <= 0.5 and len(set(short)) > 100
    wide = [table.record_timeout(KEY, 80, settings(max_splay=1000))
            for _ in range(200)]
    assert max(wide) <= DEFAULT and max(wide) > 0.5


@pytest.mark.parametrize("multiple", [1.5, 2.0, 3.0])
def test_latency_multiple_sets_the_floor_of_recovery(multiple):
    """From the ceiling, answers of a steady 40 s bring the timeout down to
    the multiple of 40 s, and no lower."""
    sim = SimServer(config=settings(latency_multiple=multiple,
                                    max_timeout=400))
    grow_to_ceiling(sim)
    for _ in range(300):
        assert sim.call(40.0)
    assert sim.timeout == pytest.approx(multiple * 40.0, rel=0.02)


@pytest.mark.parametrize("field, value", [
    ("default_timeout", -1), ("max_timeout", -1), ("max_splay", -0.1),
    ("latency_multiple", 0.5)])
def test_settings_refuse_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        settings(**{field: value})


def test_options_reach_the_settings():
    conf = make_conf("kombu+memory:////", rpc_response_timeout=4,
                     rpc_backoff_recovery=False, rpc_backoff_max_splay=0,
                     rpc_backoff_latency_multiple=3)
    assert client_mod.opts.backoff_settings(conf) == backoff.BackoffSettings(
        default_timeout=4, max_timeout=40, recovery=False, max_splay=0,
        latency_multiple=3)


# -- observability ----------------------------------------------------------

def test_snapshot_tells_timeout_latency_calls_timeouts_and_last_change():
    sim = SimServer()
    sim.call(float("inf"))
    sim.call(5.0)
    sim.call(3.0)
    state = sim.state().as_dict()
    assert json.loads(json.dumps(state)) == state
    assert state["key"] == "conductor:get_vnf"
    assert (state["topic"], state["namespace"], state["method"]) == (
        "conductor", None, "get_vnf")
    # 2 * (srtt + 4 * rttvar) with srtt = 3, rttvar = 1.5 from the one
    # measured answer; the 5 s answer ended the timeout streak unmeasured.
    assert state["timeout"] == 18
    assert state["default_timeout"] == DEFAULT
    assert state["latency"] == 3.0
    assert state["latency_variation"] == 1.5
    assert (state["calls"], state["timeouts"]) == (3, 1)
    assert state["last_change"] == sim.clock.now


def test_observers_see_every_change_and_a_failing_one_is_contained(caplog):
    sim = SimServer()
    seen = []

    def broken(change):
        raise RuntimeError("exporter down")

    sim.table.add_observer(broken)
    sim.table.add_observer(seen.append)
    grow_to_ceiling(sim)
    back_to_default_after(sim, 0.001)
    sim.table.set_max_timeout(5)
    sim.table.remove_observer(broken)
    assert [(c.old_timeout, c.new_timeout, c.reason) for c in seen] == [
        (10, 20, "timeout"), (20, 40, "timeout"), (40, 80, "timeout"),
        (80, 100, "timeout"), (100, 25, "recovery"), (25, 10, "recovery"),
        (10, 5, "cap")]
    assert {c.key for c in seen} == {KEY}
    assert {c.default_timeout for c in seen} == {DEFAULT}
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 7
    assert all("exporter down" in str(r.exc_info[1]) for r in failures)
    with pytest.raises(ValueError):
        sim.table.remove_observer(broken)


# -- through the client, with the transport's _send replaced ----------------

class SimTime:
    """Replaces the client module's ``time``: monotonic and sleep."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class SimulatedSend:
    """Stands in for ``transport._send``: each method takes
    ``latency[method]`` seconds of simulated time (a number, or an iterator
    giving one per call); a call whose timeout is shorter raises
    MessagingTimeout after waiting it."""

    def __init__(self, sim_time):
        self.time = sim_time
        self.latency = {}
        self.sent = []

    def __call__(self, target, ctxt, message, wait_for_reply=None,
                 timeout=None, call_monitor_timeout=None, retry=None,
                 transport_options=None):
        method = message["method"]
        self.sent.append((target.topic, method, timeout))
        needed = self.latency.get(method, 0.001)
        if not isinstance(needed, (int, float)):
            needed = next(needed)
        if needed >= timeout:
            self.time.now += timeout
            raise oslo_messaging.MessagingTimeout("simulated")
        self.time.now += needed
        return "done"


@pytest.fixture
def simulate(monkeypatch):
    """``simulate(**options)``: rpc.init on the in-memory transport with
    rpc_response_timeout=10 and ``options``; every send then goes to the
    returned SimulatedSend, on simulated time."""
    initialized = []

    def start(**options):
        conf = make_conf("kombu+memory:////", rpc_response_timeout=10,
                         **options)
        rpc.init(conf)
        initialized.append(conf)
        sim_time = SimTime()
        monkeypatch.setattr(client_mod, "time", sim_time)
        send = SimulatedSend(sim_time)
        probe = rpc.get_client(oslo_messaging.Target(topic="any"))
        monkeypatch.setattr(probe.transport, "_send", send)
        return send

    yield start
    if initialized:
        rpc.cleanup()


@pytest.fixture
def simulated(simulate):
    """A SimulatedSend with the default options."""
    return simulate()


def call_until_answered(client, method):
    while True:
        try:
            return client.call({}, method)
        except oslo_messaging.MessagingTimeout:
            pass


def time_out(client, method, times):
    """Make ``times`` calls of ``method``; each must time out."""
    for _ in range(times):
        with pytest.raises(oslo_messaging.MessagingTimeout):
            client.call({}, method)


def sent_timeouts(send, method):
    return [timeout for _, name, timeout in send.sent if name == method]


def test_client_grows_then_recovers_within_3_answers(simulated):
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    simulated.latency["get_vnf"] = float("inf")
    time_out(client, "get_vnf", 5)
    simulated.latency["get_vnf"] = 0.001
    for _ in range(4):
        assert client.call({}, "get_vnf") == "done"
    assert sent_timeouts(simulated, "get_vnf") == [
        10, 20, 40, 80, 100, 100, 100, 25, 10]
    assert len(simulated.time.sleeps) == 5
    assert all(0 <= pause <= 10 for pause in simulated.time.sleeps)


def test_client_keeps_a_40s_method_above_40s_without_flapping(simulated):
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    simulated.latency["build"] = 40.0
    call_until_answered(client, "build")
    learned = len(simulated.sent)
    for _ in range(100):
        assert client.call({}, "build") == "done"
    assert min(sent_timeouts(simulated, "build")[learned:]) >= 80
    (state,) = rpc.get_backoff_snapshot()
    assert state["timeouts"] == 3 and state["calls"] == 104
    assert state["latency"] == pytest.approx(40.0)


def test_client_does_not_flap_on_alternating_latencies(simulated):
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    simulated.latency["build"] = itertools.cycle([40.0, 0.001])
    for _ in range(10):  # the 40 s calls time out at 10, 20 and 40 s
        try:
            client.call({}, "build")
        except oslo_messaging.MessagingTimeout:
            pass
    assert rpc.get_backoff_snapshot()[0]["timeouts"] == 3
    learned = len(simulated.sent)
    for _ in range(200):
        assert client.call({}, "build") == "done"
    assert min(sent_timeouts(simulated, "build")[learned:]) > 40


def test_client_with_max_splay_zero_never_sleeps(simulate):
    simulated = simulate(rpc_backoff_max_splay=0)
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    simulated.latency["get_vnf"] = float("inf")
    time_out(client, "get_vnf", 4)
    assert simulated.time.sleeps == []
    assert sent_timeouts(simulated, "get_vnf") == [10, 20, 40, 80]


def test_client_scopes_timeouts_by_topic(simulated):
    conductor = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    agent = rpc.get_client(oslo_messaging.Target(topic="agent"))
    simulated.latency["sync"] = float("inf")
    time_out(conductor, "sync", 3)
    simulated.latency["sync"] = 0.001
    agent.call({}, "sync")
    assert simulated.sent[-1] == ("agent", "sync", 10)
    timeouts = {s["topic"]: s["timeout"] for s in rpc.get_backoff_snapshot()}
    assert timeouts == {"agent": 10, "conductor": 80}


def test_client_with_recovery_off_only_grows(simulate):
    simulated = simulate(rpc_backoff_recovery=False)
    client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    simulated.latency["get_vnf"] = float("inf")
    time_out(client, "get_vnf", 2)
    simulated.latency["get_vnf"] = 0.001
    for _ in range(5):
        client.call({}, "get_vnf")
    assert sent_timeouts(simulated, "get_vnf") == [10, 20] + [40] * 5


def test_client_observer_hook_and_snapshot_until_cleanup(simulate):
    simulated = simulate()
    changes = []
    rpc.add_backoff_observer(changes.append)
    try:
        client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
        simulated.latency["get_vnf"] = float("inf")
        time_out(client, "get_vnf", 1)
        assert rpc.get_backoff_snapshot()[0]["timeouts"] == 1
        rpc.cleanup()
        assert rpc.get_backoff_snapshot() == []
        simulated = simulate()
        simulated.latency["get_vnf"] = float("inf")
        client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
        time_out(client, "get_vnf", 1)
    finally:
        rpc.remove_backoff_observer(changes.append)
    assert [(str(c.key), c.new_timeout) for c in changes] == [
        ("conductor:get_vnf", 20), ("conductor:get_vnf", 20)]


def test_backoff_options_are_listed_and_in_the_sample_config():
    listed = {opt.name for _, group in client_mod.opts.list_opts()
              for opt in group}
    sample_path = os.path.join(os.path.dirname(__file__), os.pardir,
                               os.pardir, "etc", "tacker_rpc.conf.sample")
    with open(sample_path) as sample:
        text = sample.read()
    for name in ("rpc_backoff_recovery", "rpc_backoff_max_splay",
                 "rpc_backoff_latency_multiple", "rpc_response_max_timeout"):
        assert name in listed
        assert "\n#%s = " % name in text
