import oslo_messaging

from tacker_rpc import rpc


def test_call_reaches_server_process(rpc_conf, topic, start_server):
    start_server(topic, "smoke-host")
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    assert client.call({}, "echo", value={"a": [1, 2]}) == {"a": [1, 2]}
