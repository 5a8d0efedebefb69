"""Every backoff rule of BackingOffClient, with the transport's _send
replaced so that each call times out, fails or answers on demand."""

import random
import threading
import time

import oslo_messaging
import pytest

from tacker_rpc import backoff
from tacker_rpc import exceptions
from tacker_rpc import rpc

TOPIC = "backoff-topic"


class ScriptedSend:
    """Stands in for ``transport._send``.

    Records the timeout of every message sent and answers with
    ``outcome``: an exception class or instance to raise, or a value to
    return.
    """

    def __init__(self):
        self.outcome = oslo_messaging.MessagingTimeout
        self.timeouts = []
        self.methods = []
        self._lock = threading.Lock()

    def __call__(self, target, ctxt, message, wait_for_reply=None,
                 timeout=None, call_monitor_timeout=None, retry=None,
                 transport_options=None):
        with self._lock:
            self.timeouts.append(timeout)
            self.methods.append(message["method"])
        if isinstance(self.outcome, BaseException) or (
                isinstance(self.outcome, type)
                and issubclass(self.outcome, BaseException)):
            raise self.outcome
        return self.outcome


class SplayRecorder:
    """Replaces the table's rng: records each splay bound, returns it."""

    def __init__(self):
        self.bounds = []

    def uniform(self, low, high):
        self.bounds.append((low, high))
        return high


@pytest.fixture(params=[{}, {"rpc_backoff_recovery": False}],
                ids=["recovery-as-configured", "no-recovery"])
def backoff_rpc(request, init_rpc, monkeypatch):
    """``backoff_rpc(**overrides)``: init on the in-memory transport with
    ``rpc_backoff_recovery`` as configured (on) and off, and a ScriptedSend
    in place of the transport's ``_send`` for every client of the process.
    ``time.sleep`` is recorded in ``backoff_rpc.sleeps`` instead of
    sleeping; ``backoff_rpc.recovery`` tells which run this is."""
    sleeps = []
    monkeypatch.setattr(time, "sleep", sleeps.append)

    def start(**overrides):
        overrides.setdefault("rpc_response_timeout", 1)
        conf = init_rpc(**request.param, **overrides)
        start.recovery = conf.rpc_backoff_recovery
        client = rpc.get_client(oslo_messaging.Target(topic=TOPIC))
        monkeypatch.setattr(client.transport, "_send", ScriptedSend())
        return conf

    start.sleeps = sleeps
    return start


def test_recovery_is_on_as_configured(init_rpc):
    assert init_rpc().rpc_backoff_recovery is True


def client_for(topic=TOPIC, **kwargs):
    return rpc.get_client(oslo_messaging.Target(topic=topic, **kwargs))


def timeouts_of(send, calls, method="work", client=None, **prepare):
    """Make ``calls`` calls of ``method``; each must raise MessagingTimeout.

    :returns: the timeouts the calls were sent with.
    """
    client = client or client_for()
    context = client.prepare(**prepare) if prepare else client
    first = len(send.timeouts)
    for _ in range(calls):
        with pytest.raises(oslo_messaging.MessagingTimeout):
            context.call({}, method)
    return send.timeouts[first:]


def sender():
    """The ScriptedSend installed by the backoff_rpc fixture."""
    return client_for().transport._send


def learned(method="work", topic=TOPIC, namespace=None):
    key = backoff.CallKey(topic, namespace, method)
    for entry in backoff.TIMEOUTS.snapshot():
        if entry.key == key:
            return entry
    return None


def test_first_call_uses_rpc_response_timeout(backoff_rpc):
    backoff_rpc(rpc_response_timeout=3)
    send = sender()
    send.outcome = "answer"
    assert client_for().call({}, "work") == "answer"
    assert send.timeouts == [3]


def test_timeout_doubles_up_to_ten_times_rpc_response_timeout(backoff_rpc):
    backoff_rpc(rpc_response_timeout=1)
    assert timeouts_of(sender(), 7) == [1, 2, 4, 8, 10, 10, 10]


def test_timeout_doubles_up_to_rpc_response_max_timeout(backoff_rpc):
    backoff_rpc(rpc_response_timeout=1, rpc_response_max_timeout=5)
    assert timeouts_of(sender(), 5) == [1, 2, 4, 5, 5]


def test_splay_is_bounded_by_response_timeout_and_error_reraised(
        backoff_rpc, monkeypatch):
    backoff_rpc(rpc_response_timeout=2)
    splay = SplayRecorder()
    monkeypatch.setattr(backoff.TIMEOUTS, "_rng", splay)
    assert timeouts_of(sender(), 3) == [2, 4, 8]
    assert splay.bounds == [(0, 2), (0, 2), (0, 2)]
    assert backoff_rpc.sleeps == [2, 2, 2]


def test_splay_is_bounded_by_a_timeout_below_response_timeout(
        backoff_rpc, monkeypatch):
    backoff_rpc(rpc_response_timeout=2)
    splay = SplayRecorder()
    monkeypatch.setattr(backoff.TIMEOUTS, "_rng", splay)
    rpc.BackingOffClient.set_max_timeout(0.5)
    assert timeouts_of(sender(), 2) == [0.5, 0.5]
    assert splay.bounds == [(0, 0.5), (0, 0.5)]


def test_splay_is_random_within_its_bound(backoff_rpc, monkeypatch):
    backoff_rpc(rpc_response_timeout=1)
    monkeypatch.setattr(backoff.TIMEOUTS, "_rng", random.Random(42))
    timeouts_of(sender(), 20)
    assert len(backoff_rpc.sleeps) == 20
    assert all(0 <= pause <= 1 for pause in backoff_rpc.sleeps)
    assert len(set(backoff_rpc.sleeps)) > 10


def test_sleep_happens_before_the_timeout_reaches_the_caller(backoff_rpc):
    backoff_rpc()
    with pytest.raises(oslo_messaging.MessagingTimeout):
        client_for().call({}, "work")
    assert len(backoff_rpc.sleeps) == 1


def test_rpc_backoff_max_splay_bounds_the_pause(backoff_rpc, monkeypatch):
    backoff_rpc(rpc_response_timeout=4, rpc_backoff_max_splay=0.25)
    splay = SplayRecorder()
    monkeypatch.setattr(backoff.TIMEOUTS, "_rng", splay)
    timeouts_of(sender(), 2)
    assert splay.bounds == [(0, 0.25), (0, 0.25)]


def test_a_larger_max_splay_does_not_lift_the_bound(backoff_rpc,
                                                    monkeypatch):
    backoff_rpc(rpc_response_timeout=1, rpc_backoff_max_splay=5)
    splay = SplayRecorder()
    monkeypatch.setattr(backoff.TIMEOUTS, "_rng", splay)
    timeouts_of(sender(), 3)
    assert splay.bounds == [(0, 1), (0, 1), (0, 1)]


def test_rpc_backoff_max_splay_zero_never_sleeps(backoff_rpc):
    backoff_rpc(rpc_backoff_max_splay=0)
    assert timeouts_of(sender(), 3) == [1, 2, 4]
    assert backoff_rpc.sleeps == []


@pytest.mark.parametrize("error", [
    oslo_messaging.RemoteError("ValueError", "bad value"),
    oslo_messaging.MessageDeliveryFailure("broker gone"),
    ValueError("local failure"),
], ids=["RemoteError", "MessageDeliveryFailure", "ValueError"])
def test_other_exceptions_leave_the_timeout_alone(backoff_rpc, error):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 2)
    send.outcome = error
    client = client_for()
    for _ in range(3):
        with pytest.raises(type(error)):
            client.call({}, "work")
    assert send.timeouts == [1, 2, 4, 4, 4]
    assert len(backoff_rpc.sleeps) == 2
    assert learned().timeout == 4


@pytest.mark.parametrize("error", [
    oslo_messaging.RemoteError("ValueError", "bad value"),
    ValueError("local failure"),
], ids=["RemoteError", "ValueError"])
def test_other_exceptions_leave_no_entry_for_a_new_method(backoff_rpc,
                                                         error):
    backoff_rpc()
    sender().outcome = error
    with pytest.raises(type(error)):
        client_for().call({}, "work")
    assert learned() is None


def test_prepared_timeout_is_never_changed_and_never_sleeps(backoff_rpc):
    backoff_rpc()
    send = sender()
    assert timeouts_of(send, 3, timeout=3) == [3, 3, 3]
    assert backoff_rpc.sleeps == []
    assert learned() is None
    assert timeouts_of(send, 1) == [1]


def test_client_timeout_argument_is_respected(backoff_rpc):
    backoff_rpc()
    client = rpc.get_client(oslo_messaging.Target(topic=TOPIC), timeout=7)
    send = sender()
    assert timeouts_of(send, 3, client=client) == [7, 7, 7]
    assert backoff_rpc.sleeps == []
    assert learned() is None


def test_prepare_without_timeout_backs_off_with_plain_calls(backoff_rpc):
    backoff_rpc()
    send = sender()
    assert timeouts_of(send, 2) == [1, 2]
    assert timeouts_of(send, 2, version="1.0") == [4, 8]


def test_cast_is_never_delayed_nor_learned(backoff_rpc):
    backoff_rpc()
    send = sender()
    send.outcome = None
    client_for().cast({}, "work")
    assert send.timeouts == [None]
    assert backoff_rpc.sleeps == []
    assert learned() is None


def test_cast_that_cannot_be_delivered_raises(backoff_rpc):
    # tacker's behaviour; neutron-lib's client later chose to log and
    # swallow it, which leaves the caller believing the cast went out.
    backoff_rpc()
    sender().outcome = oslo_messaging.MessageDeliveryFailure("no broker")
    with pytest.raises(oslo_messaging.MessageDeliveryFailure,
                       match="no broker"):
        client_for().cast({}, "work")


def test_namespace_and_method_are_tracked_separately(backoff_rpc):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 3, client=client_for(namespace="ns"))
    assert learned(namespace="ns").timeout == 8
    assert timeouts_of(send, 1) == [1]
    assert timeouts_of(send, 1, method="other",
                       client=client_for(namespace="ns")) == [1]
    assert timeouts_of(send, 1, namespace="ns") == [8]
    assert timeouts_of(send, 1, namespace="ns2") == [1]


def test_methods_are_tracked_per_topic(backoff_rpc):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 2, client=client_for("topic-a"))
    assert timeouts_of(send, 1, client=client_for("topic-b")) == [1]
    assert timeouts_of(send, 1, client=client_for("topic-a")) == [4]


def test_learned_timeouts_are_shared_by_all_clients(backoff_rpc):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 2, client=client_for())
    other = rpc.get_client(oslo_messaging.Target(topic=TOPIC))
    assert other is not client_for()
    assert timeouts_of(send, 1, client=other) == [4]


def test_answers_keep_a_grown_timeout_only_when_recovery_is_off(
        backoff_rpc):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 3)
    send.outcome = "answer"
    client = client_for()
    for _ in range(5):
        assert client.call({}, "work") == "answer"
    if backoff_rpc.recovery:
        assert learned().timeout == 1
    else:
        # tacker's behaviour: a timeout only grows until restart.
        assert send.timeouts[3:] == [8] * 5
        assert learned().timeout == 8


def test_set_max_timeout_caps_current_and_future_timeouts(backoff_rpc):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 3)
    rpc.BackingOffClient.set_max_timeout(3)
    assert timeouts_of(send, 3) == [3, 3, 3]
    later = rpc.get_client(oslo_messaging.Target(topic=TOPIC))
    assert timeouts_of(send, 1, client=later) == [3]


def test_set_max_timeout_keeps_lower_timeouts(backoff_rpc):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 1, method="slow")
    timeouts_of(send, 4, method="slower")
    rpc.BackingOffClient.set_max_timeout(4)
    assert learned("slow").timeout == 2
    assert learned("slower").timeout == 4
    assert timeouts_of(send, 3, method="slow") == [2, 4, 4]


def test_first_seen_method_starts_at_response_timeout_below_the_cap(
        backoff_rpc):
    backoff_rpc(rpc_response_timeout=1)
    client_for().set_max_timeout(5)
    assert timeouts_of(sender(), 4, method="new") == [1, 2, 4, 5]


def test_first_seen_method_starts_at_the_cap_below_response_timeout(
        backoff_rpc):
    backoff_rpc(rpc_response_timeout=2)
    rpc.BackingOffClient.set_max_timeout(1.5)
    assert timeouts_of(sender(), 2, method="new") == [1.5, 1.5]


@pytest.mark.parametrize("bad", [0, -1, -0.5, "10", None, True])
def test_set_max_timeout_refuses_what_is_not_above_zero(backoff_rpc, bad):
    backoff_rpc()
    send = sender()
    timeouts_of(send, 2)
    with pytest.raises(ValueError, match="max_timeout") as info:
        rpc.BackingOffClient.set_max_timeout(bad)
    assert repr(bad) in str(info.value)
    assert timeouts_of(send, 4) == [4, 8, 10, 10]


def run_threads(count, target):
    """Run ``target(index)`` on ``count`` threads at once; return what
    each raised (None when it returned)."""
    errors = [None] * count

    def run(index):
        try:
            target(index)
        except BaseException as exc:
            errors[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


class TimeoutTogether(ScriptedSend):
    """Every call waits until ``parties`` calls are in flight, then all time
    out together."""

    def __init__(self, parties):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=30)

    def __call__(self, *args, **kwargs):
        self.barrier.wait()
        return super().__call__(*args, **kwargs)


def test_32_threads_timing_out_together_double_the_timeout_once(
        backoff_rpc, monkeypatch):
    backoff_rpc()
    client = client_for()
    send = TimeoutTogether(32)
    monkeypatch.setattr(client.transport, "_send", send)

    for expired, grown in [(1, 2), (2, 4), (4, 8)]:
        errors = run_threads(32, lambda i: client.call({}, "work"))
        assert all(isinstance(error, oslo_messaging.MessagingTimeout)
                   for error in errors), errors
        assert send.timeouts[-32:] == [expired] * 32
        assert learned().timeout == grown

    state = learned()
    assert (state.calls, state.timeouts) == (96, 96)
    assert len(backoff_rpc.sleeps) == 96


def test_threads_on_many_methods_each_double_their_own_once(
        backoff_rpc, monkeypatch):
    backoff_rpc()
    client = client_for()
    monkeypatch.setattr(client.transport, "_send", TimeoutTogether(32))
    errors = run_threads(32, lambda i: client.call({}, "m%d" % (i % 8)))
    assert all(isinstance(error, oslo_messaging.MessagingTimeout)
               for error in errors), errors
    for index in range(8):
        state = learned("m%d" % index)
        assert (state.timeout, state.calls, state.timeouts) == (2, 4, 4)


def test_many_threads_mixing_outcomes_keep_the_table_consistent(
        backoff_rpc, monkeypatch):
    backoff_rpc(rpc_response_timeout=1)
    client = client_for()
    outcomes = random.Random(3)
    sent = []

    def send(target, ctxt, message, timeout=None, **kwargs):
        sent.append(timeout)
        if outcomes.random() < 0.5:
            raise oslo_messaging.MessagingTimeout()
        return "answer"

    monkeypatch.setattr(client.transport, "_send", send)

    def caller(index):
        for _ in range(50):
            try:
                client.call({}, "work")
            except oslo_messaging.MessagingTimeout:
                pass
            rpc.BackingOffClient.set_max_timeout(8 if index % 2 else 10)

    errors = run_threads(16, caller)
    assert errors == [None] * 16
    state = learned()
    assert state.calls == len(sent) == 16 * 50
    assert all(1 <= timeout <= 10 for timeout in sent)
    if not backoff_rpc.recovery:
        assert set(sent) <= {1, 2, 4, 8, 10}
    assert 1 <= state.timeout <= 10


def test_max_timeout_overridden_after_client_is_built(backoff_rpc):
    conf = backoff_rpc(rpc_response_timeout=1)
    client = client_for()
    conf.set_override("rpc_response_max_timeout", 4)
    assert timeouts_of(sender(), 5, client=client) == [1, 2, 4, 4, 4]


def test_response_timeout_overridden_after_client_is_built(backoff_rpc):
    conf = backoff_rpc(rpc_response_timeout=1)
    client = client_for()
    conf.set_override("rpc_response_timeout", 3)
    assert timeouts_of(sender(), 2, client=client, method="fresh") == [3, 6]
    conf.clear_override("rpc_response_timeout")
    assert timeouts_of(sender(), 1, client=client, method="other") == [
        conf.rpc_response_timeout]


def test_mutated_config_file_takes_effect_on_next_call(backoff_rpc,
                                                       tmp_path):
    conf = backoff_rpc(rpc_response_timeout=1)
    conf.clear_override("rpc_response_max_timeout")
    path = tmp_path / "service.conf"
    path.write_text("[DEFAULT]\nrpc_response_max_timeout = 8\n")
    conf(["--config-file", str(path)], project="tacker_rpc_test")
    client = client_for()
    assert timeouts_of(sender(), 5, client=client) == [1, 2, 4, 8, 8]
    path.write_text("[DEFAULT]\nrpc_response_max_timeout = 2\n")
    conf.mutate_config_files()
    assert timeouts_of(sender(), 3, client=client, method="next") == [
        1, 2, 2]


def test_zero_response_timeout_means_calls_do_not_wait(backoff_rpc):
    backoff_rpc(rpc_response_timeout=0)
    client = client_for()
    assert timeouts_of(sender(), 3, client=client) == [0, 0, 0]
    assert backoff_rpc.sleeps == []
    assert learned().timeout == 0
    sender().outcome = None
    client.cast({}, "refresh")
    assert sender().methods[-1] == "refresh"


def test_negative_response_timeout_is_refused_naming_the_option(
        backoff_rpc):
    conf = backoff_rpc(rpc_response_timeout=1)
    client = client_for()
    conf.set_override("rpc_response_timeout", -1)
    with pytest.raises(exceptions.InvalidConfiguration,
                       match=r"\[DEFAULT\] rpc_response_timeout = -1"):
        client.call({}, "work")
    with pytest.raises(exceptions.InvalidConfiguration,
                       match="rpc_response_timeout"):
        client_for()
