"""``tacker-rpc describe``: its arguments and its table; no broker."""

import json

from tacker_rpc import reqresp
from tacker_rpc import status
from tacker_rpc.cli import describe
from tacker_rpc.cli import main
from tests.unit.test_declared_api import Conductor


class FakeService:
    host, topic = "c-host", "conductor"

    def __init__(self, manager):
        self.manager = manager


def described(manager):
    """What a server of ``manager`` answers, through JSON as on the
    wire."""
    return json.loads(json.dumps(
        status.StatusEndpoint(FakeService(manager)).describe({})))


def test_arguments():
    args = main.build_parser().parse_args(
        ["describe", "--topic", "conductor", "--server", "h",
         "--timeout", "3", "--transport-url", "rabbit://h//"])
    assert (args.topic, args.server, args.timeout) == ("conductor", "h", 3)
    assert args.run is describe.run


def test_a_declared_api_is_a_table_of_methods_and_arguments():
    text = describe.format_description(described(Conductor()))
    assert text.splitlines() == [
        "topic conductor, host c-host, manager "
        "tests.unit.test_declared_api.Conductor",
        "",
        "tests.unit.test_declared_api.ConductorAPI 1.3, namespace None: "
        "The conductor's API.",
        "method          kind  since  returns / arguments         doc",
        "--------------  ----  -----  --------------------------  "
        "------------------------------",
        "flush (fanout)  cast  1.1                                "
        "Every server drops its caches.",
        "get_vnf         call  1.0    -> dict                     "
        "One VNF by id.",
        "                               vnf_id: str               "
        "the VNF's id",
        "                               detail: bool = False",
        "refresh         cast  1.2                                "
        "Refresh a VNF.",
        "                               vnf_id: str",
        "admin:reset     call  1.3                                "
        "Reset (admin namespace).",
        "                               hard: bool | None = None",
    ]


def test_a_plain_manager_is_a_table_of_signatures():
    class Plain:
        def echo(self, ctxt, value):
            """Return value."""

    text = describe.format_description(described(Plain()))
    assert text.splitlines()[0].endswith("(no declared API)")
    assert text.splitlines()[-1] == "echo    (value)    Return value."


class CertResponse(reqresp.Response):
    cert = reqresp.Field(str, "PEM certificate")


class CertRequest(reqresp.Request):
    """A certificate for a host."""
    RESPONSE = CertResponse
    common_name = reqresp.Field(str, "Common name")
    sans = reqresp.Field(list[str], "Subject alternative names", default=[])


def test_the_long_running_requests_of_the_components_follow():
    service = FakeService(Conductor())
    service.components = [
        reqresp.Responder("ca", {CertRequest: print}),
        reqresp.Requester(CertRequest, "other-ca", "replies"), object()]
    answer = json.loads(json.dumps(
        status.StatusEndpoint(service).describe({})))
    assert [(r["kind"], r["role"], r["topic"]) for r in answer[
        "requests"]] == [("CertRequest", "answers", "ca"),
                         ("CertRequest", "sends", "other-ca")]
    assert answer["requests"][0]["fields"][1] == {
        "name": "sans", "type": "list[str]", "required": False,
        "default": "[]", "description": "Subject alternative names"}
    lines = describe.format_description(answer).splitlines()
    start = lines.index("long-running requests (tacker_rpc.reqresp)")
    assert [line.rstrip() for line in lines[start + 1:start + 7]] == [
        "kind         role     topic     fields / response         doc",
        "-----------  -------  --------  ------------------------  "
        "-------------------------",
        "CertRequest  answers  ca                                  "
        "A certificate for a host.",
        "                                  common_name: str        "
        "Common name",
        "                                  sans: list[str] = '[]'  "
        "Subject alternative names",
        "                                  -> cert: str            "
        "PEM certificate",
    ]


def test_a_service_without_components_lists_no_requests():
    answer = described(Conductor())
    assert answer["requests"] == []
    assert "long-running" not in describe.format_description(answer)
