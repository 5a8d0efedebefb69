"""A Service runs slow handlers side by side with either executor."""

import threading

import oslo_messaging
import pytest

from tacker_rpc import rpc

MANAGER = "tests.functional.executor_managers:MeetingManager"


@pytest.mark.parametrize("settings", [
    (), ("rpc_executor_grow_after=0",)], ids=["stall-growing", "oslo"])
def test_slow_calls_are_served_side_by_side(rpc_conf, topic, start_server,
                                            settings):
    start_server(topic, "meeting-host", manager=MANAGER, settings=settings)
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    parties = 6
    results = []

    def meet():
        results.append(client.prepare(timeout=60).call(
            {}, "meet", parties=parties, timeout=30))

    callers = [threading.Thread(target=meet) for _ in range(parties)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert results == [True] * parties
    assert client.call({}, "echo", value="still serving") == "still serving"
