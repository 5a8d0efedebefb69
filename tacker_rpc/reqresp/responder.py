"""The responder: receives requests and sends their responses."""

import logging

from tacker_rpc import exceptions
from tacker_rpc.reqresp import wire

LOG = logging.getLogger(__name__)


class Responder(wire.Side):
    """Receives requests sent to ``topic`` and hands each to the handler
    of its request class.

    :param topic: the topic requesters send to.
    :param handlers: ``{RequestClass: handler}``; more with :meth:`handle`.
    :param conf: the configuration naming the broker (the one given to
        ``rpc.init`` when None).

    A handler is called as ``handler(request)`` with the request's fields
    checked, on one of the listener's threads. It answers with
    ``request.respond(**fields)`` or ``request.fail(text)``, then or later
    from any thread. A request is acknowledged when its handler returns:
    one whose handler had not returned when the process died comes again.
    A handler that answers later keeps ``request.to_dict()`` where it
    survives a restart, and answers through :meth:`restore`.

    A request may come more than once (sent again by ``create_or_update``
    or ``resend_pending``, or redelivered): same ``id`` and ``revision``.
    The requester applies one response per revision and ignores the rest,
    so answering twice is harmless; a handler whose work must not be done
    twice keys it by ``request.id``.

    A request whose fields do not check, whose kind has no handler, or
    whose handler raises, is failed with a text saying why: the requester
    learns it, the responder keeps serving.
    """

    def __init__(self, topic, handlers=None, conf=None):
        super().__init__(conf, topic)
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

    def start(self):
        """Connect, and start taking requests (those queued while no
        responder ran first)."""
        self.listen(self.topic, wire.REQUEST_EVENT, self._receive)
        return self

    def restore(self, stored):
        """A request to answer from what ``request.to_dict()`` returned.
        ``id`` and ``reply_topic`` suffice: without ``kind`` it is the one
        kind this responder handles, without ``revision`` the response
        answers whichever revision is current. Works without
        :meth:`start`: it connects to send."""
        kind = stored.get("kind")
        if kind is None and len(self._handlers) == 1:
            (kind,) = self._handlers
        try:
            request_class, _ = self._handlers[kind]
        except KeyError:
            raise exceptions.InvalidArguments(
                "no handler for requests of kind %r on topic %r"
                % (kind, self.topic), field="kind")
        return request_class(stored["id"], stored.get("fields") or {},
                             stored["reply_topic"],
                             revision=stored.get("revision"),
                             state="received", owner=self)

    def send_response(self, request, fields, error=None):
        """Send the response to ``request`` (what ``request.respond`` and
        ``request.fail`` do)."""
        self._answer(request.KIND, request.id, request.revision,
                     request.reply_topic, fields, error)

    def _answer(self, kind, request_id, revision, reply_topic, fields,
                error):
        self.publish(None, reply_topic, wire.RESPONSE_EVENT, {
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
        fields = payload.get("fields") or {}
        request = request_class(request_id, fields, reply_topic,
                                revision=payload.get("revision"),
                                state="received", owner=self)
        request.context = ctxt
        try:
            request.fields = request_class.complete(fields)
        except exceptions.InvalidArguments as exc:
            request.fail("InvalidArguments: %s" % exc)
            return
        try:
            handler(request)
        except Exception as exc:
            LOG.exception("handler of %s %s failed", kind, request_id)
            request.fail("%s: %s" % (type(exc).__name__, exc))

