"""Request ids follow what a handler sends, on the in-memory transport."""

import logging

from oslo_context import context as oslo_context
import oslo_messaging
import pytest

from tacker_rpc import context
from tacker_rpc import correlation
from tacker_rpc import rpc
from tacker_rpc.serializer import RequestContextSerializer


class Relay:
    """Calls the next topic of ``chain`` with an empty context, as manager
    code that does not pass its context on would."""

    def __init__(self, name):
        self.name = name

    def relay(self, ctxt, chain):
        logging.getLogger("relay").info("relaying at %s", self.name)
        seen = [{"hop": self.name, "request_id": ctxt.request_id,
                 "global_request_id": ctxt.global_request_id,
                 "stored": oslo_context.get_current().global_request_id}]
        if chain:
            client = rpc.get_client(oslo_messaging.Target(topic=chain[0]))
            if self.name == "b-async":
                seen += client.call_async({}, "relay",
                                          chain=chain[1:]).result()
            else:
                seen += client.call({}, "relay", chain=chain[1:])
        return seen


@pytest.fixture
def relays(init_rpc):
    init_rpc()
    servers = []
    for name in ("b", "b-async", "c"):
        server = rpc.get_server(oslo_messaging.Target(
            topic="relay-" + name, server="unit-host"), [Relay(name)])
        server.start()
        servers.append(server)
    yield
    for server in servers:
        server.stop()
        server.wait()


def test_the_end_of_a_chain_sees_the_origin_global_request_id(relays):
    origin = context.RequestContext(request_id="req-origin")
    seen = rpc.get_client(oslo_messaging.Target(topic="relay-b")).call(
        origin, "relay", chain=["relay-c"])
    b, c = seen
    assert (b["request_id"], b["global_request_id"]) == ("req-origin", None)
    assert c["global_request_id"] == "req-origin"
    assert c["request_id"] not in (None, "req-origin")
    assert c["stored"] == "req-origin"


def test_a_call_async_from_a_handler_carries_the_id_too(relays):
    origin = context.RequestContext(request_id="req-async-origin")
    seen = rpc.get_client(oslo_messaging.Target(topic="relay-b-async")).call(
        origin, "relay", chain=["relay-c"])
    assert seen[1]["global_request_id"] == "req-async-origin"


def test_a_given_global_request_id_is_kept_along_the_chain(relays):
    origin = context.RequestContext(request_id="req-a",
                                    global_request_id="req-api")
    seen = rpc.get_client(oslo_messaging.Target(topic="relay-b")).call(
        origin, "relay", chain=["relay-c"])
    assert [hop["global_request_id"] for hop in seen] == ["req-api",
                                                          "req-api"]


def test_outgoing_contexts_get_the_current_id_without_being_changed():
    serializer = RequestContextSerializer()
    handled = context.RequestContext(request_id="req-h",
                                     global_request_id="req-g")
    own = {"user_id": "u"}
    assert serializer.serialize_context(own) == own
    with correlation.handling(lambda values: handled, {}):
        assert correlation.current() is handled
        sent = serializer.serialize_context(own)
        kept = serializer.serialize_context({"global_request_id": "req-x"})
        fresh = serializer.serialize_context(
            context.RequestContext(request_id="req-new", overwrite=False))
    assert sent == {"user_id": "u", "global_request_id": "req-g"}
    assert own == {"user_id": "u"}
    assert kept == {"global_request_id": "req-x"}
    assert (fresh["request_id"], fresh["global_request_id"]) == (
        "req-new", "req-g")
    assert correlation.current() is None


def test_oslo_context_store_is_restored_after_a_request():
    """Clearing it uses oslo.context's private _request_store: this fails
    naming it when an upgrade removes it."""
    assert hasattr(oslo_context, "_request_store"), (
        "oslo_context.context._request_store is gone; "
        "tacker_rpc.correlation._restore_oslo_context clears it")
    outer = context.RequestContext(request_id="req-outer")
    outer.update_store()
    incoming = {"request_id": "req-in"}
    with correlation.handling(context.RequestContext.from_dict, incoming):
        assert oslo_context.get_current().request_id == "req-in"
    assert oslo_context.get_current() is outer

    oslo_context._request_store.context = None
    with correlation.handling(context.RequestContext.from_dict, incoming):
        pass
    assert oslo_context.get_current() is None


def test_a_context_that_cannot_be_built_leaves_nothing_current():
    oslo_context._request_store.context = None
    with pytest.raises(ValueError):
        with correlation.handling(context.RequestContext.from_dict,
                                  {"roles": "admin"}):
            pass
    assert oslo_context.get_current() is None
    assert correlation.current() is None
