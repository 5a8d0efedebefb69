"""The backoff on a real RabbitMQ: a server that stalls, then answers fast.

The caller's timeout for the stalled method grows while requests are held
longer than it, and comes back to ``rpc_response_timeout`` once the server
answers quickly again. The timeline is printed (pytest -s shows it).
"""

import time

import oslo_messaging

from tacker_rpc import rpc

STALL_MANAGER = "tests.functional.stall_manager:StallManager"
# The stall outlasts two timeouts (2 s, then 4 s) and their splays.
DEFAULT = 2
STALL = 10.0


def learned(topic, method):
    for entry in rpc.get_backoff_snapshot():
        if (entry["topic"], entry["method"]) == (topic, method):
            return entry
    raise AssertionError("no learned state for %s:%s" % (topic, method))


def test_timeouts_grow_during_a_stall_then_return_to_default(
        rpc_conf, topic, start_server):
    rpc_conf.set_override("rpc_response_timeout", DEFAULT)
    start_server(topic, "stall-host", manager=STALL_MANAGER)
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    for _ in range(3):
        assert client.call({}, "work") == "stall-host"
    assert learned(topic, "work")["timeout"] == DEFAULT

    control = client.prepare(timeout=30)
    begin = time.time()
    assert control.call({}, "stall_until", deadline=begin + STALL) > 0

    timeline = []
    answers_after_stall = 0
    while answers_after_stall < 10 and time.time() - begin < 120:
        used = learned(topic, "work")["timeout"]
        sent = time.time()
        try:
            client.call({}, "work")
            outcome = "answer"
            if sent >= begin + STALL:
                answers_after_stall += 1
        except oslo_messaging.MessagingTimeout:
            outcome = "timeout"
        timeline.append((sent - begin, used, outcome,
                         time.time() - sent,
                         learned(topic, "work")["timeout"]))
        if answers_after_stall and timeline[-1][4] == DEFAULT:
            break

    print("\n  start(s)  timeout(s)  outcome   waited(s)  next timeout(s)")
    for start, used, outcome, waited, after in timeline:
        print("  %8.2f  %10.2f  %-8s  %9.2f  %15.2f"
              % (start, used, outcome, waited, after))
    final = learned(topic, "work")
    print("  learned state: %s" % final)

    outcomes = [row[2] for row in timeline]
    grown = [row[1] for row in timeline if row[2] == "timeout"]
    assert grown[:2] == [DEFAULT, 2 * DEFAULT], timeline
    assert max(row[4] for row in timeline) >= 4 * DEFAULT
    assert outcomes[-1] == "answer"
    assert final["timeout"] == DEFAULT, timeline
    assert final["timeouts"] == len(grown)
    assert answers_after_stall <= 3, timeline
