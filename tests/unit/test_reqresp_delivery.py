"""The configuration of the request/response transport (reqresp.delivery)."""

from oslo_config import cfg
import pytest

from tacker_rpc import exceptions
from tacker_rpc import reqresp
from tacker_rpc import stopping
from tacker_rpc.reqresp import delivery
from tests.config import MEMORY_URL
from tests.config import make_conf
from tests.functional.reqresp_main import CertRequest
from tests.functional.reqresp_main import certificate_for

RABBIT = "oslo_messaging_rabbit"


def test_the_service_settings_are_copied():
    service = make_conf(
        "rabbit://u:secret@broker:5671/vhost",
        executor_thread_pool_size=7,
        oslo_messaging_rabbit__ssl=True,
        oslo_messaging_rabbit__ssl_ca_file="/etc/ca.pem",
        oslo_messaging_rabbit__heartbeat_timeout_threshold=11,
        oslo_messaging_rabbit__rabbit_interval_max=3,
        oslo_messaging_rabbit__rabbit_quorum_queue=True,
        oslo_messaging_rabbit__rabbit_quorum_delivery_limit=5,
        oslo_messaging_notifications__retry=4)
    derived = delivery.durable_conf(service)
    assert derived is not service
    assert derived.transport_url == "rabbit://u:secret@broker:5671/vhost"
    assert derived.executor_thread_pool_size == 7
    assert derived[RABBIT].ssl is True
    assert derived[RABBIT].ssl_ca_file == "/etc/ca.pem"
    assert derived[RABBIT].heartbeat_timeout_threshold == 11
    assert derived[RABBIT].rabbit_interval_max == 3
    assert derived[RABBIT].rabbit_quorum_queue is True
    assert derived[RABBIT].rabbit_quorum_delivery_limit == 5
    assert derived.oslo_messaging_notifications.retry == 4


def test_values_from_the_service_config_file_are_copied(tmp_path):
    """Not only overrides: what the service read from its files."""
    path = tmp_path / "service.conf"
    path.write_text("[DEFAULT]\ntransport_url = rabbit://f:p@filehost:5672/\n"
                    "[oslo_messaging_rabbit]\nrabbit_retry_interval = 9\n"
                    "kombu_reconnect_delay = 0.5\n")
    service = cfg.ConfigOpts()
    service(["--config-file", str(path)], project="svc",
            default_config_files=[], default_config_dirs=[])
    derived = delivery.durable_conf(service)
    assert derived.transport_url == "rabbit://f:p@filehost:5672/"
    assert derived[RABBIT].rabbit_retry_interval == 9
    assert derived[RABBIT].kombu_reconnect_delay == 0.5


@pytest.mark.parametrize("durable,auto_delete", [(False, False),
                                                 (True, True)])
def test_durability_and_exchange_are_forced(durable, auto_delete):
    service = make_conf(MEMORY_URL, control_exchange="nova",
                        oslo_messaging_rabbit__amqp_durable_queues=durable,
                        oslo_messaging_rabbit__amqp_auto_delete=auto_delete)
    derived = delivery.durable_conf(service)
    assert derived.control_exchange == delivery.EXCHANGE
    assert delivery.EXCHANGE == "tacker_rpc_reqresp"
    assert derived[RABBIT].amqp_durable_queues is True
    assert derived[RABBIT].amqp_auto_delete is False
    # The service's own transport keeps its settings.
    assert service.control_exchange == "nova"
    assert service[RABBIT].amqp_durable_queues is durable
    assert service[RABBIT].amqp_auto_delete is auto_delete


def test_later_changes_of_the_service_do_not_reach_a_copy():
    service = make_conf(MEMORY_URL)
    derived = delivery.durable_conf(service)
    service.set_override("heartbeat_rate", 5, group=RABBIT)
    assert derived[RABBIT].heartbeat_rate != 5
    assert delivery.durable_conf(service)[RABBIT].heartbeat_rate == 5


def test_a_conf_that_is_not_a_configopts_is_refused_by_name():
    with pytest.raises(TypeError, match="conf must be an oslo_config"):
        delivery.durable_conf({"transport_url": MEMORY_URL})


def test_an_oslo_option_defined_otherwise_is_named():
    service = cfg.ConfigOpts()
    service.register_opt(cfg.BoolOpt("amqp_durable_queues"), group=RABBIT)
    with pytest.raises(exceptions.InvalidConfiguration,
                       match=r"\[oslo_messaging_rabbit\] "
                             r"amqp_durable_queues is registered"):
        delivery.durable_conf(service)


def test_a_side_given_a_bad_conf_says_so_when_it_connects(tmp_path):
    requester = reqresp.Requester(
        CertRequest, "ca", "ca-replies", conf=object(),
        store_url="sqlite:///%s" % (tmp_path / "r.db"))
    with pytest.raises(TypeError, match="conf must be an oslo_config"):
        requester.start()
    requester.stop()


def test_requests_and_responses_travel_on_the_derived_transport(tmp_path):
    """A service whose control exchange is another: the pair still meets,
    on the reqresp exchange (in-memory transport)."""
    service = make_conf(MEMORY_URL, control_exchange="nova")
    with reqresp.Responder("ca", {CertRequest: lambda r: r.respond(
            **certificate_for(r.fields))}, conf=service,
            store_url="sqlite:///%s" % (tmp_path / "responder.db")), \
            reqresp.Requester(CertRequest, "ca", "ca-replies", conf=service,
                              store_url="sqlite:///%s" % (tmp_path / "r.db"),
                              poll_interval=0.05) as requester:
        request = requester.send({}, common_name="db1")
        assert request.wait(10).key == "key-db1"
        made = requester._transport.conf
        assert made.control_exchange == delivery.EXCHANGE
        assert made[RABBIT].amqp_durable_queues is True


def test_a_side_looks_for_its_stop_often(tmp_path, monkeypatch):
    monkeypatch.setattr(stopping, "STOP_CHECK_INTERVAL", 0.01)
    with reqresp.Responder(
            "ca", {}, conf=make_conf(MEMORY_URL),
            store_url="sqlite:///%s" % (tmp_path / "responder.db")) as side:
        poll_listener = side._listener.listener._poll_style_listener
        assert poll_listener.conn.connection._poll_timeout == 0.01
