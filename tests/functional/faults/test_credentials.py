"""The transport URL's password never shows in logs or exception messages.

Every log record of a run at DEBUG (the test process's, and the server
process's log file) and every exception message is searched for the
password, through a successful run and through failed logins.
"""

import logging
import uuid

import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tests import broker as broker_mod
from tests.functional.faults import traffic

USER = "trpc-redact"


class Capture(logging.Handler):
    """Every record, formatted with its traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs():
    capture = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    root.setLevel(old_level)


@pytest.fixture(scope="module")
def broker_with_user():
    password = "pw-" + uuid.uuid4().hex
    with broker_mod.RabbitBroker(name="trpcpw") as broker:
        broker.rabbitmqctl("add_user", USER, password)
        broker.rabbitmqctl("set_permissions", USER, ".*", ".*", ".*")
        yield broker, password


def test_password_never_logged_nor_in_errors(broker_with_user, debug_logs,
                                             rpc_on, servers, topic):
    broker, password = broker_with_user
    url = broker.url(username=USER, password=password)
    wrong = "wrong-" + uuid.uuid4().hex
    errors = []

    rpc_on(url, rpc_response_timeout=5)
    daemon = servers(url, topic, "redact")
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    assert client.call({}, "echo", value=1) == 1
    client.cast({}, "record", token="t")
    for method in ("fail_allowed", "fail_not_allowed", "no_such_method"):
        with pytest.raises(Exception) as raised:
            client.call({}, method, message="boom")
        errors.append(raised.value)
    rpc.get_notifier("redact").info({}, "redact.test", {"ok": True})
    rpc.cleanup()

    # A second init with a wrong password: the login fails.
    bad_url = broker.url(username=USER, password=wrong)
    rpc.init(rpc_on.make_conf(bad_url))
    bad_client = rpc.get_client(oslo_messaging.Target(topic=topic), retry=1)
    with pytest.raises(oslo_messaging.MessageDeliveryFailure) as raised:
        traffic.bounded(lambda: bad_client.call({}, "echo", value=1), 60)
    errors.append(raised.value)
    assert "ACCESS_REFUSED" in str(raised.value)
    with pytest.raises(Exception) as raised:
        traffic.bounded(lambda: bad_client.cast({}, "echo", value=1), 60)
    errors.append(raised.value)
    rpc.cleanup()

    # A URL init refuses names the URL, masked.
    with pytest.raises(exceptions.InvalidTransportURL) as raised:
        rpc.init(rpc_on.make_conf(
            "nosuchdriver://%s:%s@127.0.0.1:1/" % (USER, password)))
    errors.append(raised.value)
    rpc.init(rpc_on.make_conf(url))

    server_log = daemon.log()
    texts = debug_logs.lines + [str(e) for e in errors] + [server_log]
    print("\n%d log records and %d error messages searched"
          % (len(debug_logs.lines), len(errors)))
    assert len(debug_logs.lines) > 50
    for secret in (password, wrong):
        leaks = [text for text in texts if secret in text]
        assert not leaks, leaks[:3]
