"""An ActionError raised by a daemon on the real broker: it arrives
intact, and the daemon logs it as one INFO line."""

import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tacker_rpc import testing
from tests.functional import managers
from tests.functional import remote_errors


def test_action_error_from_a_daemon_arrives_intact(rpc_conf, topic,
                                                   start_server):
    server = start_server(topic, "h1")
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    with pytest.raises(exceptions.ActionError) as refused:
        client.call({}, "refuse", vnf_id="42")
    assert refused.value.errors == managers.refusal("42")
    testing.assert_action_error(refused.value, code="INVALID_ID",
                                field="vnf_id")
    with pytest.raises(oslo_messaging.RemoteError) as not_allowed:
        client.call({}, "refuse_extra", vnf_id="43")
    assert not_allowed.value.exc_type == "VnfRefused"
    # Refused, not timed out: the timeout table learns nothing of it.
    assert [e for e in rpc.get_backoff_snapshot()
            if e["method"] == "refuse"] == []
    log = server.log()
    assert ("INFO tacker_rpc.dispatcher RPC method refuse refused the "
            "request with ActionError: INVALID_ID (field vnf_id): not a "
            "VNF id; QUOTA: no room for another VNF") in log, log
    assert "ERROR" not in log and "Traceback" not in log, log


def test_subclass_of_an_allowed_module_arrives_as_itself(rpc_conf, topic,
                                                         start_server):
    start_server(topic, "h1")
    rpc.cleanup()
    rpc.add_extra_exmods(remote_errors.__name__)
    try:
        rpc.init(rpc_conf)
        client = rpc.get_client(oslo_messaging.Target(topic=topic))
        with pytest.raises(remote_errors.VnfRefused) as refused:
            client.call({}, "refuse_extra", vnf_id="44")
    finally:
        rpc.clear_extra_exmods()
    assert refused.value.errors == managers.refusal("44")
