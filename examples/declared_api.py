"""A declared RPC API, its server and its client, in one process.

    python examples/declared_api.py     # no broker: in-memory transport

The API is declared once; the conductor's manager implements it and the
client is an instance of it. The script calls it, shows the checks of both
sides and the version cap, runs calls in parallel and on every server,
and prints what ``tacker-rpc describe`` would.
"""

import logging

from oslo_config import cfg
import oslo_messaging

from tacker_rpc import api
from tacker_rpc import opts
from tacker_rpc import parallel
from tacker_rpc import rpc
from tacker_rpc.cli import describe


class ConductorAPI(api.RPCAPI):
    """The conductor's RPC API."""

    topic = "conductor"
    version = "1.3"

    @api.call(since="1.0")
    def get_vnf(self, ctxt, vnf_id: api.Field(str, "the VNF's id"),
                detail: bool = False) -> dict:
        """One VNF by id."""

    @api.cast(since="1.2")
    def refresh(self, ctxt, vnf_id: str, force: bool = False):
        """Refresh a VNF's state."""

    @api.call(since="1.3")
    def count(self, ctxt) -> int:
        """How many VNFs this conductor has."""


@api.implements(ConductorAPI)
class Conductor:
    def __init__(self, host):
        self.host = host
        self.vnfs = {"vnf-1": "ACTIVE", "vnf-2": "ERROR"}

    def get_vnf(self, ctxt, vnf_id, detail=False):
        return {"id": vnf_id, "status": self.vnfs.get(vnf_id),
                "conductor": self.host}

    def refresh(self, ctxt, vnf_id, force=False):
        self.vnfs[vnf_id] = "ACTIVE"

    def count(self, ctxt):
        return len(self.vnfs)


def main():
    logging.basicConfig(level=logging.ERROR)
    conf = cfg.ConfigOpts()
    conf([], project="declared_api_example", default_config_files=[],
         default_config_dirs=[])
    opts.register_opts(conf)
    conf.set_override("transport_url", "kombu+memory:////")
    conf.set_override("rpc_response_timeout", 5)
    rpc.init(conf)
    services = [rpc.Service(host, "conductor", manager=Conductor(host))
                for host in ("node1", "node2")]
    for service in services:
        service.start()
    try:
        run()
    finally:
        for service in services:
            service.stop()
        rpc.cleanup()


def run():
    ctxt = {}
    conductor = ConductorAPI()
    print("get_vnf:", conductor.get_vnf(ctxt, "vnf-1")["status"])
    conductor.refresh(ctxt, "vnf-2", force=True)

    try:
        conductor.get_vnf(ctxt, vnf_id=42)
    except api.InvalidArguments as exc:
        print("refused by the client:", exc)

    plain = rpc.get_client(oslo_messaging.Target(topic="conductor"))
    try:
        plain.call(ctxt, "get_vnf", vnf_id=42)
    except api.InvalidArguments as exc:
        print("refused by the server:", str(exc).splitlines()[0],
              "(field %s)" % exc.field)

    old = ConductorAPI(version_cap="1.2")
    try:
        old.count(ctxt)
    except oslo_messaging.RPCVersionCapError:
        print("count() needs 1.3, the cap is 1.2: not sent")

    results = parallel.call_parallel(
        [conductor.get_vnf.bind(ctxt, "vnf-%d" % n) for n in range(1, 4)])
    print("call_parallel:", [r["id"] for r in results])
    each = conductor.get_vnf.each_server(ctxt, "vnf-1", timeout=2)
    print("each_server:", {host: r["conductor"] for host, r in each.items()})

    described = rpc.get_client(oslo_messaging.Target(
        topic="conductor", server="node1", namespace="tacker_rpc.status",
        version="1.0")).call(ctxt, "describe")
    print(describe.format_description(described))


if __name__ == "__main__":
    main()
