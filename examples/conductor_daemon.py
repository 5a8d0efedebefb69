"""A conductor daemon: an RPC Service and a reqresp Responder together,
under oslo.service's launcher.

    python examples/conductor_daemon.py --transport-url rabbit://... \
        [--store sqlite:////var/lib/conductor/reqresp.sqlite] [--workers N]

The conductor serves RPC on topic ``conductor`` (``certificates_issued``)
and answers the long-running request ``CertRequest`` sent to topic
``ca``. The Responder is a component of the Service: each worker the
launcher forks starts it with the RPC servers and stops it, after the
requests in flight are answered, before the process's transport goes.
SIGTERM to the launcher stops every worker cleanly; it then exits 0.

A requester elsewhere (another service)::

    requester = reqresp.Requester(CertRequest, "ca", "ca-replies",
                                  store_url=...).start()
    requester.send(ctxt, common_name="db1").wait(60).cert
"""

import argparse
import socket
import sys
import threading

from oslo_config import cfg
from oslo_service import service as oslo_service

from tacker_rpc import compat
from tacker_rpc import opts
from tacker_rpc import reqresp
from tacker_rpc import rpc


class CertResponse(reqresp.Response):
    cert = reqresp.Field(str, "PEM certificate")


class CertRequest(reqresp.Request):
    """A certificate for a host."""

    RESPONSE = CertResponse
    common_name = reqresp.Field(str, "Common name of the certificate")


class ConductorManager:
    """What the conductor serves over RPC; it also issues the
    certificates its Responder is asked for."""

    def __init__(self):
        self._lock = threading.Lock()
        self._issued = 0

    def issue(self, request):
        """The Responder's handler of CertRequest: answers at once (a
        handler may also keep ``request.to_dict()`` and answer later)."""
        request.respond(cert="cert-for-" + request.common_name)
        with self._lock:
            self._issued += 1

    def certificates_issued(self, ctxt):
        """How many certificates this worker issued."""
        return self._issued


def build_service(conf, topic="conductor", responder_topic="ca",
                  store_url=None):
    """The Service a worker runs: the manager on ``topic`` and, as a
    component, a Responder answering CertRequest on ``responder_topic``."""
    manager = ConductorManager()
    responder = reqresp.Responder(responder_topic,
                                  {CertRequest: manager.issue},
                                  store_url=store_url)
    return rpc.Service(conf.host, topic, manager=manager,
                       components=[responder])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport-url", required=True)
    parser.add_argument("--store", help="SQLAlchemy URL of the "
                        "responder's store (reqresp.DEFAULT_STORE_URL)")
    parser.add_argument("--topic", default="conductor")
    parser.add_argument("--responder-topic", default="ca")
    parser.add_argument("--host", default=socket.gethostname())
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    conf = cfg.ConfigOpts()
    conf(args=[], project="conductor")
    opts.register_opts(conf)
    for group, options in compat.service_option_groups():
        conf.register_opts(options, group=group)
    conf.set_override("transport_url", args.transport_url)
    conf.set_override("host", args.host)
    rpc.init(conf)
    server = build_service(conf, args.topic, args.responder_topic,
                           args.store)
    oslo_service.launch(conf, server, workers=args.workers).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
