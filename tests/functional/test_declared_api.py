"""Declared RPC APIs on the real broker, servers in their own processes:
declared client and server, version caps, the server's argument checks,
a mismatching manager, interoperation with plain oslo.messaging, and many
calls at once (call_parallel, call_each_server with a server killed)."""

import time

import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import parallel
from tacker_rpc import rpc
from tacker_rpc import status
from tests.functional.declared import EchoAPI
from tests.functional.declared import InventoryAPI
from tests.polling import wait_until

DECLARED = "tests.functional.declared:InventoryManager"


@pytest.fixture
def inventory(rpc_conf, topic, start_server):
    """A declared InventoryManager daemon on ``topic`` as host inv1, and a
    declared client of it."""
    start_server(topic, "inv1", manager=DECLARED)
    return InventoryAPI(topic=topic)


def test_declared_client_and_declared_server(inventory):
    item = inventory.get_item({}, "i1", detail=True)
    assert (item["id"], item["detail"], item["host"]) == ("i1", True, "inv1")
    assert inventory.get_item({}, "i2")["detail"] is False
    inventory.record({}, "t1")
    wait_until(lambda: inventory.recorded({}) == ["t1"], 10, "cast kept")
    assert inventory.newest({}) == "1.2"
    with pytest.raises(KeyError, match="boom"):
        inventory.fail({}, "boom")


def test_version_capped_call_is_refused_before_sending(inventory):
    capped = InventoryAPI(topic=inventory.topic, version_cap="1.0")
    with pytest.raises(oslo_messaging.RPCVersionCapError):
        capped.record({}, "never sent")
    with pytest.raises(oslo_messaging.RPCVersionCapError):
        capped.newest({})
    assert capped.get_item({}, "i1")["id"] == "i1"
    inventory.record({}, "sent")
    wait_until(lambda: inventory.recorded({}) == ["sent"], 10, "cast kept")
    assert inventory.reached({})["methods"] == {"get_item": 1}


def test_bad_arguments_are_refused_by_the_server_naming_the_field(
        inventory):
    plain = rpc.get_client(oslo_messaging.Target(
        topic=inventory.topic, version="1.0"), timeout=10)
    for arguments, field, problem in [
            ({"item_id": 7}, "item_id", "must be str, got int 7"),
            ({}, "item_id", "is missing"),
            ({"item_id": "i", "colour": "red"}, "colour", "is not one of"),
            ({"item_id": "i", "detail": "yes"}, "detail", "must be bool")]:
        with pytest.raises(exceptions.InvalidArguments) as error:
            plain.call({}, "get_item", **arguments)
        assert error.value.field == field
        assert error.value.method == "InventoryAPI.get_item()"
        [refusal] = error.value.errors
        assert (refusal.code, refusal.field) == ("INVALID_ARGUMENT", field)
        assert "argument %r %s" % (field, problem) in str(error.value)
    plain.prepare(version="1.1").cast({}, "record", token=["not", "str"])
    inventory.record({}, "good")
    wait_until(lambda: inventory.recorded({}) == ["good"], 10, "cast kept")
    assert inventory.reached({})["methods"] == {}
    assert inventory.get_item({}, "still served")["id"] == "still served"


def test_undeclared_and_private_methods_are_not_served(inventory):
    plain = rpc.get_client(oslo_messaging.Target(topic=inventory.topic),
                           timeout=10)
    for name in ("_count", "initialize_service_hook", "nothing"):
        with pytest.raises(oslo_messaging.RemoteError) as error:
            plain.call({}, name)
        assert error.value.exc_type == "NoSuchMethod"


def test_a_mismatching_manager_fails_at_start_naming_the_mismatch(
        rpc_conf, topic, start_server):
    server = start_server(topic, "bad1",
                          manager="tests.functional.declared:"
                                  "MismatchedManager", ready=False)
    mismatch = ("ImplementationMismatch: MismatchedManager does not "
                "implement what it declares: MismatchedManager.get_item() "
                "has no argument 'detail' that InventoryAPI.get_item() "
                "declares; MismatchedManager.record() requires 'when', "
                "which InventoryAPI.record() does not declare")
    wait_until(lambda: mismatch in server.log(), 60, "mismatch logged")
    # The launcher's worker exits at start: nothing serves the topic.
    wait_until(lambda: "exited with status 1" in server.log(), 30,
               "worker exit")
    with pytest.raises(oslo_messaging.MessagingTimeout):
        rpc.get_client(oslo_messaging.Target(topic=topic),
                       timeout=2).call({}, "echo", value=1)


def test_plain_oslo_messaging_client_calls_a_declared_server(
        inventory, rpc_conf):
    transport = oslo_messaging.get_rpc_transport(rpc_conf)
    try:
        bare = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=inventory.topic,
                                             version="1.0"), timeout=10)
        assert bare.call({}, "get_item", item_id="bare")["id"] == "bare"
        with pytest.raises(oslo_messaging.RemoteError) as error:
            bare.call({}, "get_item", item_id=1)
        # Not in the bare transport's allowed modules: a RemoteError that
        # still names the class and the field.
        assert error.value.exc_type == "InvalidArguments"
        assert "argument 'item_id' must be str" in error.value.value
    finally:
        transport.cleanup()


def test_declared_client_calls_a_plain_server(rpc_conf, topic,
                                              start_server):
    start_server(topic, "plain1")
    echo = EchoAPI(topic=topic)
    assert echo.echo({}, {"a": [1]}) == {"a": [1]}
    assert echo.whoami({})["host"] == "plain1"


def test_describe_returns_the_declaration(inventory):
    described = rpc.get_client(oslo_messaging.Target(
        topic=inventory.topic, namespace=status.NAMESPACE,
        version=status.VERSION), timeout=10).call({}, "describe")
    assert described["apis"] == [InventoryAPI.describe()]
    get_item = [m for m in described["apis"][0]["methods"]
                if m["name"] == "get_item"][0]
    assert get_item["arguments"][0] == {
        "name": "item_id", "type": "str", "description": "the item's id",
        "required": True}


def test_call_parallel_of_50_calls(inventory):
    calls = [inventory.slow_echo.bind({}, i, 0.2) for i in range(50)]
    calls[10] = inventory.fail.bind({}, "ten")
    calls[40] = inventory.fail.bind({}, "forty")
    results = parallel.call_parallel(calls, max_workers=16)
    assert len(results) == 50
    for index, result in enumerate(results):
        if index in (10, 40):
            assert isinstance(result, KeyError), result
            assert ("ten" if index == 10 else "forty") in str(result)
        else:
            assert result == index
    assert inventory.reached({})["most_slow_echo_at_once"] > 1


def test_call_async_futures(inventory):
    futures = [inventory.slow_echo.call_async({}, i, 0.1) for i in range(5)]
    assert [future.result(30) for future in futures] == list(range(5))


def test_call_each_server_across_three_servers_with_one_killed(
        rpc_conf, topic, start_server):
    servers = {host: start_server(topic, host, manager=DECLARED)
               for host in ("each1", "each2", "each3")}
    inventory = InventoryAPI(topic=topic)
    answers = inventory.get_item.each_server({}, "x", timeout=10)
    assert sorted(answers) == ["each1", "each2", "each3"]
    assert all(answer["host"] == host for host, answer in answers.items())

    servers["each2"].kill()
    timeout = 6
    started = time.monotonic()
    answers = inventory.call_each_server(
        {}, "get_item", hosts=["each1", "each2", "each3"], timeout=timeout,
        item_id="y")
    took = time.monotonic() - started
    assert isinstance(answers["each2"], oslo_messaging.MessagingTimeout)
    assert answers["each1"]["host"] == "each1"
    assert answers["each3"]["host"] == "each3"
    # One overall timeout: the killed server's call ends at the deadline.
    assert timeout <= took < timeout + 2

    discovered = inventory.get_item.each_server({}, "z", timeout=10)
    assert sorted(discovered) == ["each1", "each3"]
