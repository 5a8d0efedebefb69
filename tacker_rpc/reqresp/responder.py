"""The responder: receives requests and sends their responses."""

import logging

from tacker_rpc import exceptions
from tacker_rpc.reqresp import declare
from tacker_rpc.reqresp import delivery
from tacker_rpc.reqresp import store as store_mod

LOG = logging.getLogger(__name__)


class Responder(delivery.Side):
    """Receives requests sent to ``topic`` and hands each to the handler
    of its request class.

    :param topic: the topic requesters send to.
    :param handlers: ``{RequestClass: handler}``; more with :meth:`handle`.
    :param conf: the configuration naming the broker (the one given to
        ``rpc.init`` when None).
    :param store_url: SQLAlchemy URL of the store where the responder
        records what it received and answered
        (:data:`~tacker_rpc.reqresp.store.DEFAULT_STORE_URL` when None):
        the same database as its requesters' may serve, and the processes
        of one responder share it.

    A handler is called as ``handler(request)`` with the request's fields
    checked, on one of the listener's threads. It answers with
    ``request.respond(**fields)`` or ``request.fail(text)``, then or later
    from any thread. A request is acknowledged when its handler returns:
    one whose handler had not returned when the process died comes again.
    A handler that answers later keeps ``request.to_dict()`` where it
    survives a restart, and answers through :meth:`restore`.

    A request may come more than once (sent again by ``create_or_update``
    or ``resend_pending``, or redelivered): same ``id`` and ``revision``.
    It is recognised by its id (:meth:`~tacker_rpc.reqresp.store.Store.
    receive`): once its handler has returned, a copy is not handed to the
    handler again; a copy of an answered request gets the recorded answer
    again. A copy of an older revision is dropped. Only a request whose
    handler had not returned when its process died is handled twice (and
    a copy delivered, to another process of the responder, while the
    first handler runs): a handler whose work must never be done twice
    keys it by ``request.id``.

    After a restart, :meth:`unanswered` lists the requests whose handlers
    returned without answering, to answer them.

    A request whose fields do not check, whose kind has no handler, or
    whose handler raises, is failed with a text saying why: the requester
    learns it, the responder keeps serving.
    """

    def __init__(self, topic, handlers=None, conf=None, store_url=None):
        super().__init__(conf, topic, store_url)
        self.topic = topic
        self._handlers = {}
        for request_class, handler in (handlers or {}).items():
            self.handle(request_class, handler)

    def handle(self, request_class, handler=None):
        """Register ``handler`` for ``request_class``; without
        ``handler``, a decorator."""
        if handler is None:
            return lambda function: self.handle(request_class, function)
        self._handlers[request_class.KIND] = (request_class, handler)
        return handler

    def describe_requests(self):
        """The request kinds this responder answers, as ``describe`` lists
        them (:func:`~tacker_rpc.reqresp.declare.describe_kind`)."""
        return [declare.describe_kind(request_class, "answers", self.topic)
                for request_class, _ in self._handlers.values()]

    def start(self):
        """Open the store, connect, and start taking requests (those
        queued while no responder ran first)."""
        self.open_store()
        self.listen(self.topic, delivery.REQUEST_EVENT, self._receive)
        return self

    def unanswered(self):
        """The requests received whose handlers returned without
        answering them, oldest first, ready to :meth:`Request.respond`
        (of every kind this responder handles)."""
        return [self._request(row["kind"], row)
                for row in self.open_store().unanswered(self.topic)
                if row["kind"] in self._handlers]

    def forget_answered(self, older_than):
        """Delete the records of requests answered more than
        ``older_than`` seconds ago; returns how many. Requesters do not
        resend an answered request, so a day or more is safe."""
        return self.open_store().forget_answered(self.topic, older_than)

    def restore(self, stored):
        """A request to answer from what ``request.to_dict()`` returned.
        ``id`` and ``reply_topic`` suffice: without ``kind`` it is the one
        kind this responder handles, without ``revision`` the response
        answers whichever revision is current. Works without
        :meth:`start`: it connects to send."""
        kind = stored.get("kind")
        if kind is None and len(self._handlers) == 1:
            (kind,) = self._handlers
        if kind not in self._handlers:
            raise exceptions.InvalidArguments(
                "no handler for requests of kind %r on topic %r"
                % (kind, self.topic), field="kind")
        return self._request(kind, stored)

    def send_response(self, request, fields, error=None):
        """Record and send the response to ``request`` (what
        ``request.respond`` and ``request.fail`` do)."""
        self.open_store().responded(self.topic, _record_of(request), fields,
                                    error)
        self._answer(request.KIND, request.id, request.revision,
                     request.reply_topic, fields, error)

    def _request(self, kind, stored):
        request_class, _ = self._handlers[kind]
        return request_class(stored.get("id") or stored["request_id"],
                             stored.get("fields") or {},
                             stored["reply_topic"],
                             revision=stored.get("revision"),
                             state="received", owner=self)

    def _answer(self, kind, request_id, revision, reply_topic, fields,
                error):
        self.publish(None, reply_topic, delivery.RESPONSE_EVENT, {
            "kind": kind, "id": request_id, "revision": revision,
            "fields": fields, "error": error})

    def _receive(self, ctxt, payload):
        try:
            request_id = payload["id"]
            reply_topic = payload["reply_topic"]
        except (KeyError, TypeError):
            LOG.error("topic %s: dropped a request without id or "
                      "reply_topic: %r", self.topic, payload)
            return
        kind = payload.get("kind")
        entry = self._handlers.get(kind)
        if entry is None:
            self._answer(kind, request_id, payload.get("revision"),
                         reply_topic, None,
                         "no handler for requests of kind %r on topic %r"
                         % (kind, self.topic))
            return
        request_class, handler = entry
        verdict, row = self.open_store().receive(self.topic, payload)
        if verdict == store_mod.ANSWER_AGAIN:
            LOG.info("%s %s came again: answered again", kind, request_id)
            self._answer(kind, request_id, row["revision"], reply_topic,
                         row["response"], row["error"])
            return
        if verdict != store_mod.HANDLE:
            LOG.info("%s %s came again (%s): dropped", kind, request_id,
                     verdict)
            return
        request = self._request(kind, payload)
        request.context = ctxt
        try:
            request.fields = request_class.complete(request.fields)
        except exceptions.InvalidArguments as exc:
            request.fail("InvalidArguments: %s" % exc)
            return
        try:
            handler(request)
        except Exception as exc:
            LOG.exception("handler of %s %s failed", kind, request_id)
            request.fail("%s: %s" % (type(exc).__name__, exc))
            return
        self.open_store().handled(self.topic, _record_of(request))


def _record_of(request):
    """What the store records of a request."""
    return {"id": request.id, "kind": request.KIND,
            "revision": request.revision, "reply_topic": request.reply_topic,
            "fields": request.fields}

