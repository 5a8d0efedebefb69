"""Scenarios 3 and 4: the Service process crashes, or is stopped under load.

Both run on the session's RabbitMQ; the Service is a separate process
(``tests.functional.server_main``) running the journaling manager.
"""

import signal
import time

import oslo_messaging

from tacker_rpc import backoff
from tacker_rpc import rpc
from tests.functional.faults import traffic as traffic_mod

RESPONSE_TIMEOUT = 2
MAX_TIMEOUT = 16
SPLAY = 0.5


def learned(topic, method="logged_call"):
    for entry in backoff.TIMEOUTS.snapshot():
        if entry.key.topic == topic and entry.key.method == method:
            return entry.timeout
    return None


def wait_for(predicate, deadline, what):
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("%s did not happen within %ss"
                                 % (what, deadline))
        time.sleep(0.1)


def test_server_crash_times_out_backs_off_and_recovers(
        broker_url, rpc_on, servers, journal_dir, topic):
    conf = rpc_on(broker_url, rpc_response_timeout=RESPONSE_TIMEOUT,
                  rpc_response_max_timeout=MAX_TIMEOUT,
                  rpc_backoff_max_splay=SPLAY)
    daemon = servers(broker_url, topic, "crash")
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    traffic = traffic_mod.Traffic(client, threads=4, per_thread=60,
                                  pause=0.05, call_seconds=0.2,
                                  name="crash").start()
    traffic.wait_answered(40)
    daemon.kill()
    killed_at = time.monotonic()
    # Let the callers time out until their timeout has doubled twice.
    wait_for(lambda: learned(topic) >= 4 * RESPONSE_TIMEOUT, 120,
             "backoff to %ss" % (4 * RESPONSE_TIMEOUT))
    timeouts_before_restart = traffic.count("timed_out")
    restarted_at = time.monotonic()
    servers(broker_url, topic, "crash", ready=False)
    traffic.join(deadline=300)
    received = traffic_mod.read_journals(journal_dir)
    recovery = traffic.first_answer_after(restarted_at)

    figures = traffic_mod.stream_figures(traffic, journal_dir)
    figures.update({
        "timeouts before restart": timeouts_before_restart,
        "server down (s)": "%.1f" % (restarted_at - killed_at),
        "learned timeout at the end (s)": "%.2f" % learned(topic),
        "first answer after restart (s)": (
            None if recovery is None else "%.2f" % recovery),
    })
    traffic_mod.print_figures("Server crash (SIGKILL of the Service)",
                              figures)

    assert traffic.count("failed") == 0, traffic.errors()
    assert timeouts_before_restart >= 3
    assert traffic.peak_timeout >= 4 * RESPONSE_TIMEOUT
    assert traffic.longest_call() <= traffic_mod.call_bound(
        traffic, conf, broker_unreachable=False)
    assert recovery is not None
    assert learned(topic) < traffic.peak_timeout
    # oslo.messaging acknowledges a message before it dispatches it (at
    # most once): a cast the killed process had taken but not yet handled
    # is gone with it. That window is a few instructions wide per client
    # thread; nothing else may be lost, and nothing is handled twice.
    assert figures["casts lost"] <= traffic.threads
    assert figures["casts received twice+"] == 0
    # Each call was answered at most once, and what timed out was never
    # answered.
    answered = {c.token for c in traffic.calls if c.outcome == "answered"}
    assert all(received["reply"][token] <= 1 for token in answered)


def test_sigterm_answers_every_call_in_flight(broker_url, rpc_on, servers,
                                              journal_dir, topic):
    rpc_on(broker_url, rpc_response_timeout=60)
    daemon = servers(broker_url, topic, "graceful")
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    traffic = traffic_mod.Traffic(client, threads=50, per_thread=1,
                                  call_seconds=3, casts=False,
                                  name="term").start()
    wait_for(lambda: len(traffic_mod.read_journals(journal_dir)["call"])
             == 50, 60, "50 calls in flight")
    in_flight = 50 - len(traffic_mod.read_journals(journal_dir)["reply"])
    stopped_at = time.monotonic()
    daemon.signal(signal.SIGTERM)
    traffic.join(deadline=120)
    exit_status = daemon.wait(60)
    received = traffic_mod.read_journals(journal_dir)

    figures = traffic_mod.call_figures(traffic)
    figures.update({
        "in flight at SIGTERM": in_flight,
        "handled more than once": sum(
            1 for n in received["call"].values() if n > 1),
        "replied more than once": sum(
            1 for n in received["reply"].values() if n > 1),
        "service exit status": exit_status,
        "SIGTERM to exit (s)": "%.2f" % (time.monotonic() - stopped_at),
    })
    traffic_mod.print_figures("Graceful stop (SIGTERM, 50 calls in flight)",
                              figures)

    assert in_flight == 50
    assert traffic.count("answered") == 50, traffic.errors()
    tokens = {call.token for call in traffic.calls}
    assert set(received["call"]) == tokens
    assert all(n == 1 for n in received["call"].values())
    assert all(n == 1 for n in received["reply"].values())
    assert exit_status == 0
