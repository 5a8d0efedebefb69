"""Censoring and the logging middleware."""

import contextlib
import logging

from hypothesis import given
from hypothesis import strategies as st
import oslo_messaging
import pytest

from tacker_rpc import context
from tacker_rpc import exceptions
from tacker_rpc import redact
from tacker_rpc import request_log
from tacker_rpc import rpc
from tests.config import MEMORY_URL
from tests.config import make_conf

SECRET = "s3cr3t-VALUE"


def test_censor_hides_sensitive_keys_at_any_depth():
    value = {
        "name": "vnf-1",
        "Password": SECRET,
        "auth": {"os_token": SECRET, "user": "alice",
                 "nested": [{"private_key": SECRET}, ("ok", {"secret": 1})]},
        "vims": [{"credentials": {"anything": SECRET}}],
        "url": "rabbit://guest:%s@broker:5672/" % SECRET,
        "keys": [SECRET],
    }
    censored = redact.censor(value)
    assert censored == {
        "name": "vnf-1",
        "Password": "***",
        "auth": {"os_token": "***", "user": "alice",
                 "nested": [{"private_key": "***"},
                            ["ok", {"secret": "***"}]]},
        "vims": [{"credentials": "***"}],
        "url": "rabbit://guest:***@broker:5672/",
        "keys": "***",
    }
    assert value["Password"] == SECRET, "the argument itself is not changed"


def test_censor_words_are_configurable():
    assert redact.censor({"pin": 1, "password": 2}, ["PIN"]) == {
        "pin": "***", "password": 2}


sensitive_keys = st.builds(
    lambda prefix, word, suffix: prefix + word + suffix,
    st.text("abc_", max_size=3),
    st.sampled_from(["password", "TOKEN", "Secret", "key", "credential"]),
    st.text("xyz_", max_size=3))
plain_keys = st.text("abcdefghij_", min_size=1, max_size=6).filter(
    lambda key: not any(word in key for word in redact.SENSITIVE_KEYS))
leaves = st.one_of(st.integers(), st.text("0123456789", max_size=5),
                   st.none(), st.booleans())


def _with_secrets(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(plain_keys, children, max_size=4),
        st.builds(lambda plain, key, secret: {**plain, key: secret},
                  st.dictionaries(plain_keys, children, max_size=3),
                  sensitive_keys,
                  st.one_of(st.just(SECRET),
                            st.dictionaries(plain_keys, st.just(SECRET),
                                            min_size=1, max_size=2),
                            st.lists(st.just(SECRET), min_size=1))))


@given(st.recursive(leaves, _with_secrets, max_leaves=30))
def test_no_sensitive_value_is_ever_printed(args):
    text = request_log.LoggingMiddleware().arguments({"value": args})
    assert SECRET not in text


@pytest.fixture
def logged(caplog):
    """rpc.init with the logging middleware on both sides; an in-memory
    server; returns the request log records."""
    conf = make_conf(MEMORY_URL, rpc_client_middleware=["logging"],
                     rpc_server_middleware=["logging"])
    rpc.init(conf)
    server = rpc.get_server(oslo_messaging.Target(topic="logged",
                                                  server="unit-host"),
                            [Endpoint()])
    server.start()
    caplog.set_level(logging.INFO, logger=request_log.LOGGER_NAME)
    yield lambda: [r for r in caplog.records
                   if r.name == request_log.LOGGER_NAME]
    server.stop()
    server.wait()
    with contextlib.suppress(exceptions.NotInitializedError):
        rpc.cleanup()


class Endpoint:
    def login(self, ctxt, user, password, options):
        return "welcome"

    def fail(self, ctxt):
        raise exceptions.InvalidContext("bad things\nsecond line")


def test_one_line_per_request_per_side_without_secrets(logged):
    client = rpc.get_client(oslo_messaging.Target(topic="logged"))
    ctxt = context.RequestContext(request_id="req-log-1",
                                  global_request_id="req-global-1")
    client.call(ctxt, "login", user="alice", password=SECRET,
                options={"retries": 3, "api_token": SECRET})

    records = logged()
    assert [r.getMessage().split()[1] for r in records] == ["server",
                                                            "client"]
    server_line, client_line = (r.getMessage() for r in records)
    for line in (server_line, client_line):
        assert SECRET not in line
        assert "login -> ok in" in line
        assert "'user': 'alice'" in line and "'password': '***'" in line
        assert "'api_token': '***'" in line
    assert client_line.startswith("rpc client call logged:login -> ok")
    assert server_line.startswith("rpc server logged.unit-host:login")
    assert "request_id=req-log-1 global_request_id=req-global-1" \
        in server_line
    assert all(r.levelno == logging.INFO for r in records)


def test_failures_are_logged_with_the_exception_first_line(logged):
    client = rpc.get_client(oslo_messaging.Target(topic="logged"))
    with pytest.raises(exceptions.InvalidContext):
        client.call({}, "fail")
    records = logged()
    assert len(records) == 2
    for record in records:
        assert record.levelno == logging.WARNING
        assert "fail -> InvalidContext: bad things in" in record.getMessage()
        assert "second line" not in record.getMessage()


def test_long_arguments_are_cut():
    text = request_log.LoggingMiddleware(max_length=50).arguments(
        {"blob": "x" * 10000})
    assert len(text) <= 53
