"""Long-running requests: the request/response pattern, tracked and durable.

For work that outlives any sane RPC timeout (instantiating a VNF,
provisioning a certificate): a requester records a request and sends it;
a responder answers it when it can, minutes or a restart later; the
requester matches the response to its request and keeps both.

Declare the request and its response with typed fields
(:mod:`tacker_rpc.fields`)::

    class CertResponse(reqresp.Response):
        key = Field(str, "PEM private key")
        cert = Field(str, "PEM certificate")

    class CertRequest(reqresp.Request):
        RESPONSE = CertResponse
        common_name = Field(str, "Common name of the certificate")

Requester side: ``Requester(CertRequest, "ca", "ca-replies",
store_url=...).start()``, then ``send(ctxt, common_name="db1")``,
``create_or_update(ctxt, match_fields=[...], ...)``, ``pending()``,
``responses()``, ``response_by(common_name="db1")``, ``get(id)``,
``request.wait(timeout)``, ``on_response(fn)``, ``on_all_answered(fn)``.
Responder side: ``Responder("ca", {CertRequest: handler},
store_url=...).start()``; the handler answers with
``request.respond(key=..., cert=...)``, now or later (``unanswered()``).

What a caller may rely on:

* Fields are checked where the request is made and where it is received;
  :class:`~tacker_rpc.exceptions.InvalidArguments` names the field. Absent
  optional fields take their defaults before the request is recorded.
* A request is recorded (state ``created``) before it is sent, and is
  ``sent`` once handed to the broker. Its id and revision travel with it
  and come back with the response.
* Delivery is at least once both ways: a request or response is
  acknowledged only after it has been handled (the response recorded in
  the store); one whose handler died comes again (:mod:`.delivery`).
* A response is applied once per revision: duplicates are counted and
  ignored, responses to an older revision or an expired request are
  ignored, callbacks run once, in the process that applied the response.
* A request is handed to its responder's handler once: the responder
  records in its own store what it received and answered, so a copy (sent
  again, or redelivered) that comes after the handler returned is not
  handed to it again, and a copy of an answered request gets the recorded
  answer again. Only a request whose handler was running when its process
  died comes to a handler again. ``Responder.unanswered()`` lists the
  requests whose handlers returned without answering, after a restart too.
* ``Requester.start()`` returns once the responses that waited in the
  reply topic's queue are applied (bounded by ``start_timeout``): right
  after a restart, ``create_or_update`` and ``pending()`` see answered
  what was answered while the service was down, and nothing answered is
  sent again.
* A :class:`~tacker_rpc.rpc.Service` runs a requester or responder with
  its lifecycle when given it as a component (``components=[...]``), and
  its ``describe`` lists the kinds they send and answer.
* Requests and responses survive a restart of either side: the requester's
  records are in its store (:mod:`.store`, any SQLAlchemy URL, shared by
  the service's processes), responses wait in the reply topic's queue
  while no process of the requester runs, requests in the responder's;
  those queues are durable and the messages persistent, so a restart of
  the broker loses neither, whatever the service's own transport uses
  (:mod:`.delivery` names them).
* ``create_or_update`` from several processes at once for the same fields
  makes one request, on SQLite, PostgreSQL and MySQL alike (:mod:`.store`).
* ``tacker-rpc requests --store URL --topic REPLY_TOPIC`` lists a
  requester's requests for operators.
"""

from tacker_rpc.fields import Field
from tacker_rpc.reqresp.declare import Request
from tacker_rpc.reqresp.declare import Response
from tacker_rpc.reqresp.requester import Requester
from tacker_rpc.reqresp.responder import Responder
from tacker_rpc.reqresp.store import DEFAULT_STORE_URL

__all__ = ["DEFAULT_STORE_URL", "Field", "Request", "Requester", "Response",
           "Responder"]
