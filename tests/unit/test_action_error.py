"""Structured remote errors: Error and ActionError, from an endpoint to
the caller on the in-memory transport, in the server's log, the backoff
and ``tacker-rpc call``."""

import json
import logging
import pickle

import oslo_messaging
import pytest

from tacker_rpc import rpc
from tacker_rpc import testing
from tacker_rpc.cli import main
from tacker_rpc.exceptions import ActionError
from tacker_rpc.exceptions import Error
from tests.unit import action_errors

TWO_ERRORS = [Error("INVALID_ID", "not a VNF id", field="vnf_id",
                    details={"got": "42", "pattern": ("vnf-", 1)}),
              Error("QUOTA", "too many VNFs", details=[1, 2.5, None])]


class Refuser:
    def refuse(self, ctxt):
        raise ActionError(TWO_ERRORS)

    def refuse_quota(self, ctxt):
        raise action_errors.QuotaExceeded(Error("QUOTA", "no room"))


def test_error_compares_field_by_field_and_keeps_details_as_json():
    error = Error("A", "m", field="f", details={"t": (1, 2), 3: "x"})
    assert error.details == {"t": [1, 2], "3": "x"}
    assert error == Error("A", "m", "f", {"t": [1, 2], "3": "x"})
    assert error != Error("A", "m", "g", {"t": [1, 2], "3": "x"})
    assert Error.from_dict(error.to_dict()) == error
    assert str(error) == "A (field f): m"


@pytest.mark.parametrize("arguments, problem", [
    (("", "m"), "code must not be empty"),
    ((7, "m"), "Error code must be a string, got int"),
    (("A", None), "Error message must be a string, got NoneType"),
    (("A", "m", 3), "Error field must be a string, got int"),
    (("A", "m", None, {"when": object()}),
     "Error 'A': details cannot be sent as JSON"),
])
def test_bad_error_arguments_are_named(arguments, problem):
    with pytest.raises(TypeError, match=problem):
        Error(*arguments)


@pytest.mark.parametrize("errors, kind, problem", [
    ([], ValueError, "at least one Error"),
    ("oops", TypeError, "takes an Error or a list of Error, got str"),
    ([{"code": "A"}], TypeError, "keys code, message"),
    ([{"code": "A", "message": "m", "extra": 1}], TypeError, "'extra'"),
])
def test_bad_action_errors_are_named(errors, kind, problem):
    with pytest.raises(kind, match=problem):
        ActionError(errors)


def test_action_error_takes_one_error_or_dicts_and_pickles():
    assert ActionError(TWO_ERRORS[0]).errors == TWO_ERRORS[:1]
    as_dicts = ActionError([error.to_dict() for error in TWO_ERRORS])
    assert as_dicts.errors == TWO_ERRORS
    assert pickle.loads(pickle.dumps(as_dicts)).errors == TWO_ERRORS
    assert str(as_dicts) == ("INVALID_ID (field vnf_id): not a VNF id; "
                             "QUOTA: too many VNFs")


@pytest.fixture
def refuser(rpc_fixture):
    server = rpc.get_server(
        oslo_messaging.Target(topic="refuser", server="h"), [Refuser()])
    server.start()
    yield rpc.get_client(oslo_messaging.Target(topic="refuser"))
    server.stop()
    server.wait()


def test_action_error_arrives_intact_and_logged_as_one_info_line(refuser,
                                                                 caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ActionError) as raised:
        refuser.call({}, "refuse")
    assert raised.value.errors == TWO_ERRORS
    server_records = [record for record in caplog.records
                      if record.name.startswith(("tacker_rpc",
                                                 "oslo_messaging"))
                      and record.levelno >= logging.INFO]
    assert [(r.levelname, r.getMessage()) for r in server_records] == [
        ("INFO", "RPC method refuse refused the request with ActionError: "
                 "INVALID_ID (field vnf_id): not a VNF id; QUOTA: too many "
                 "VNFs")]
    assert not any(record.exc_info for record in caplog.records)


def test_action_error_never_grows_the_timeout(refuser):
    for _ in range(3):
        with pytest.raises(ActionError):
            refuser.call({}, "refuse")
    # Neither answered nor timed out: the table has no entry for it.
    assert rpc.get_backoff_snapshot() == []


def test_subclass_arrives_as_itself_when_its_module_is_allowed():
    rpc.add_extra_exmods(action_errors.__name__)
    try:
        with testing.RPCFixture(), \
                testing.stub_service("t", quota=Refuser().refuse_quota):
            client = rpc.get_client(oslo_messaging.Target(topic="t"))
            with pytest.raises(action_errors.QuotaExceeded) as raised:
                client.call({}, "quota")
    finally:
        rpc.clear_extra_exmods()
    assert raised.value.errors == [Error("QUOTA", "no room")]


def test_subclass_of_a_module_not_allowed_is_a_remote_error(rpc_fixture,
                                                            rpc_stub):
    rpc_stub("t", quota=Refuser().refuse_quota)
    client = rpc.get_client(oslo_messaging.Target(topic="t"))
    with pytest.raises(oslo_messaging.RemoteError) as raised:
        client.call({}, "quota")
    assert raised.value.exc_type == "QuotaExceeded"


@pytest.fixture
def run_call(capsys):
    """``tacker-rpc call refuse`` on the in-memory transport: (status,
    output). The command sets up the root logger; the next tests get
    theirs back (pytest's log capture among them)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def run(*extra):
        status = main.main(["call", "refuse", "--topic", "refuser",
                            "--transport-url", testing.MEMORY_URL, *extra])
        return status, capsys.readouterr()

    yield run
    root.handlers[:] = handlers
    root.setLevel(level)


def test_cli_call_prints_the_errors_as_a_table(run_call):
    with testing.stub_service("refuser", refuse=Refuser().refuse):
        status, output = run_call()
    assert status == 1
    assert output.out.splitlines() == [
        "code        field   message        details",
        "----------  ------  -------------  " + "-" * 37,
        'INVALID_ID  vnf_id  not a VNF id   {"got": "42", "pattern": '
        '["vnf-", 1]}',
        "QUOTA               too many VNFs  [1, 2.5, null]"]
    assert output.err == ("tacker-rpc: error: remote error: ActionError: "
                          "the server refused the request (2 errors)\n")


def test_cli_call_gives_the_errors_as_json(run_call):
    with testing.stub_service("refuser", refuse=Refuser().refuse):
        status, output = run_call("--format", "json")
    assert status == 1
    assert json.loads(output.out) == {
        "error": "remote error: ActionError: the server refused the "
                 "request (2 errors)",
        "errors": [error.to_dict() for error in TWO_ERRORS]}


def test_the_fixture_allows_the_services_exception_modules_for_one_test():
    with testing.RPCFixture(allowed_exmods=[action_errors.__name__]), \
            testing.stub_service("t", quota=Refuser().refuse_quota):
        client = rpc.get_client(oslo_messaging.Target(topic="t"))
        with pytest.raises(action_errors.QuotaExceeded):
            client.call({}, "quota")
    assert action_errors.__name__ not in rpc.get_allowed_exmods()
