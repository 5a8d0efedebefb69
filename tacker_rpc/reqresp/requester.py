"""The requester: records requests, sends them, takes their responses."""

import logging
import os
import socket
import threading
import time

from tacker_rpc import exceptions
from tacker_rpc.reqresp import declare
from tacker_rpc.reqresp import delivery
from tacker_rpc.reqresp import store as store_mod

LOG = logging.getLogger(__name__)

class Requester(delivery.Side):
    """Sends requests of ``request_class`` to ``responder_topic`` and takes
    their responses from ``reply_topic``.

    :param request_class: a :class:`~tacker_rpc.reqresp.Request` subclass.
    :param responder_topic: the topic the responder listens on.
    :param reply_topic: this requester's topic: the same in every process
        of the service (they share its queue and the store), different for
        each requester of a store.
    :param store_url: SQLAlchemy URL of the store
        (:data:`~tacker_rpc.reqresp.store.DEFAULT_STORE_URL` when None).
    :param conf: the configuration naming the broker (the one given to
        ``rpc.init`` when None).
    :param poll_interval: seconds between looks at the store by
        :meth:`wait_for`, for responses another process takes.
    :param start_timeout: the most seconds :meth:`start` waits for the
        responses queued before it.

    :meth:`stop` stops consuming and closes the store.
    """

    def __init__(self, request_class, responder_topic, reply_topic,
                 store_url=None, conf=None, poll_interval=1.0,
                 start_timeout=60.0):
        super().__init__(conf, reply_topic, store_url)
        self.request_class = request_class
        self.kind = request_class.KIND
        self.responder_topic = responder_topic
        self.reply_topic = reply_topic
        self.poll_interval = poll_interval
        self.start_timeout = start_timeout
        self._taken = 0
        self.identity = "%s:%d" % (socket.gethostname(), os.getpid())
        self._answered = threading.Condition()
        self._on_response = []
        self._on_all_answered = []

    def start(self):
        """Open the store (creating or upgrading its schema), consume the
        reply topic, and return once the responses that waited in its
        queue (sent while no process of the service ran) are applied;
        returns the requester.

        So after a restart, :meth:`create_or_update`, :meth:`pending` and
        the rest see answered what was answered while the service was
        down, and nothing answered is sent again. Waiting ends early when
        no request is pending any more (other processes of the service,
        sharing the queue, took the rest), and after ``start_timeout``
        seconds in any case (logged; responses still queued are then
        taken as they come). On a broker other than RabbitMQ the queue
        cannot be counted and start() does not wait.
        """
        self.open_store()
        queued = self.queued(self.reply_topic)
        self.listen(self.reply_topic, delivery.RESPONSE_EVENT, self._take)
        if queued:
            self._take_queued(queued)
        return self

    def _take_queued(self, queued):
        LOG.info("%s: taking the %d responses queued on %s", self.kind,
                 queued, self.reply_topic)
        deadline = time.monotonic() + self.start_timeout
        with self._answered:
            while self._taken < queued:
                if not self._db().count(self.reply_topic, self.kind,
                                        store_mod.PENDING):
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    LOG.info("%s: %d of the %d responses queued on %s "
                             "taken within %gs; the rest as they come",
                             self.kind, self._taken, queued,
                             self.reply_topic, self.start_timeout)
                    return
                self._answered.wait(min(left, self.poll_interval))

    def describe_requests(self):
        """The request kind this requester sends, as ``describe`` lists it
        (:func:`~tacker_rpc.reqresp.declare.describe_kind`)."""
        return [declare.describe_kind(self.request_class, "sends",
                                      self.responder_topic)]

    # Sending.

    def send(self, ctxt, **fields):
        """Record a new request with ``fields`` and send it; returns the
        request (state ``sent``).

        :raises InvalidArguments: naming the field that is unknown, missing
            or of the wrong type; nothing is recorded or sent.
        """
        fields = self.request_class.complete(fields)
        row = self._db().create(self.kind, self.reply_topic,
                                 self.responder_topic, fields)
        return self._send_row(ctxt, row)

    def create_or_update(self, ctxt, match_fields, **fields):
        """The request whose ``match_fields`` equal those given, updated to
        ``fields`` and sent again; a new one when none matches.

        Same fields as recorded: sent again if not answered yet (the
        responder may see it twice, with one id), left alone if answered.
        Other fields: a new revision, whose response replaces any earlier
        one (a late response to an older revision is ignored). Processes
        of the service doing this at once for the same match make one
        request (:meth:`.store.Store.create_or_update`).
        """
        unknown = [name for name in match_fields if name not in fields]
        if unknown:
            raise exceptions.InvalidArguments(
                "%s: match field %r is not among the fields given"
                % (self.kind, unknown[0]), field=unknown[0], method=self.kind)
        fields = self.request_class.complete(fields)
        row, action = self._db().create_or_update(
            self.kind, self.reply_topic, self.responder_topic,
            {name: fields[name] for name in match_fields}, fields)
        LOG.debug("%s %s: %s", self.kind, row["id"], action)
        if action == "unchanged":
            return self._request(row)
        return self._send_row(ctxt, row)

    def resend_pending(self, ctxt, older_than=0):
        """Send again every pending request last sent more than
        ``older_than`` seconds ago (say, after a responder lost its
        queue); returns them."""
        rows = [row for row in self._rows(store_mod.PENDING)
                if _age(row) >= older_than]
        return [self._send_row(ctxt, row) for row in rows]

    def expire(self, older_than):
        """Mark ``expired`` the pending requests last sent more than
        ``older_than`` seconds ago; a response that comes later is ignored.
        Returns them."""
        return [self._request(row) for row in self._db().expire(
            self.reply_topic, self.kind, older_than)]

    # Reading the store.

    def get(self, request_id):
        """The request ``request_id`` (with its response), or None."""
        row = self._db().get(request_id)
        if row is None or row["kind"] != self.kind:
            return None
        return self._request(row)

    def requests(self):
        """Every request of this requester, oldest first."""
        return [self._request(row) for row in self._rows(None)]

    def pending(self):
        """Requests still waiting for a response, oldest first."""
        return [self._request(row) for row in self._rows(store_mod.PENDING)]

    def responses(self):
        """Responses received (failed ones too: ``response.error``), in
        the order of their requests."""
        return [self._request(row).response
                for row in self._rows(store_mod.DONE)]

    def response_by(self, **request_fields):
        """The response to the oldest answered request whose fields equal
        ``request_fields``, or None (none matches, or not answered). The
        store's field index finds it, however many requests it holds.

        :raises InvalidArguments: naming a field the request class does not
            have.
        """
        known = self.request_class.FIELDS.fields
        for name in request_fields:
            if name not in known:
                raise exceptions.InvalidArguments(
                    "%s: field %r is not one of (%s)"
                    % (self.kind, name, ", ".join(known)), field=name,
                    method=self.kind)
        row = self._db().first_match(self.reply_topic, self.kind,
                                     request_fields, store_mod.DONE)
        return None if row is None else self._request(row).response

    def wait_for(self, request_id, timeout=None):
        """See :meth:`Request.wait`. Responses this process takes wake it
        at once; one another process takes is seen within
        ``poll_interval``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            request = self.get(request_id)
            if request is None:
                raise exceptions.InvalidArguments(
                    "no %s with id %r in this requester's store"
                    % (self.kind, request_id))
            if request.state == store_mod.ANSWERED:
                return request.response
            if request.state in (store_mod.FAILED, store_mod.EXPIRED):
                error = request.response.error if request.response else (
                    "expired without a response")
                raise exceptions.RequestFailed(
                    "%s %s: %s" % (self.kind, request_id, error),
                    request_id=request_id, error=error)
            wait = self.poll_interval
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise exceptions.RequestTimeout(
                        "%s %s: no response within %gs (still %s)"
                        % (self.kind, request_id, timeout, request.state))
                wait = min(wait, left)
            with self._answered:
                self._answered.wait(wait)

    # Callbacks.

    def on_response(self, callback):
        """Call ``callback(response)`` when this process takes a response
        (after it is recorded). Returns ``callback``: usable as a
        decorator."""
        self._on_response.append(callback)
        return callback

    def on_all_answered(self, callback):
        """Call ``callback(requester)`` when a response this process took
        leaves no request pending. Returns ``callback``."""
        self._on_all_answered.append(callback)
        return callback

    # Internals.

    def _db(self):
        if self._store is None:
            raise exceptions.NotInitializedError(
                "Requester of %s on %s: call start() first"
                % (self.kind, self.reply_topic))
        return self._store

    def _rows(self, states):
        return self._db().list(self.reply_topic, self.kind, states)

    def _send_row(self, ctxt, row):
        self.publish(ctxt, self.responder_topic, delivery.REQUEST_EVENT, {
            "kind": self.kind, "id": row["id"], "revision": row["revision"],
            "reply_topic": self.reply_topic, "fields": row["fields"]})
        if self._db().mark_sent(row["id"], row["revision"]):
            row["state"] = store_mod.SENT
        return self._request(row)

    def _request(self, row):
        request = self.request_class(
            row["id"], row["fields"], row["reply_topic"],
            revision=row["revision"], state=row["state"], owner=self,
            created_at=row["created_at"], updated_at=row["updated_at"],
            answered_at=row["answered_at"], answered_by=row["answered_by"],
            deliveries=row["deliveries"])
        if row["state"] in store_mod.DONE:
            request.response = self.request_class.RESPONSE(
                request, row["response"] or {}, row["error"])
        return request

    def _take(self, ctxt, payload):
        """Apply one response; raising makes it come again."""
        self._apply(payload)
        with self._answered:
            self._taken += 1
            self._answered.notify_all()

    def _apply(self, payload):
        request_id = payload.get("id")
        if payload.get("kind") != self.kind:
            LOG.error("reply topic %s: dropped a response of kind %r to %r; "
                      "this requester takes %s: give each requester its "
                      "own reply topic", self.reply_topic,
                      payload.get("kind"), request_id, self.kind)
            return
        error = payload.get("error")
        fields = None
        if error is None:
            try:
                fields = self.request_class.RESPONSE.complete(
                    payload.get("fields") or {})
            except exceptions.InvalidArguments as exc:
                error = "invalid response: %s" % exc
        outcome = self._db().answer(request_id, payload.get("revision"),
                                     fields, error, self.identity)
        if outcome != store_mod.APPLIED:
            LOG.info("%s %s: %s response ignored", self.kind, request_id,
                     outcome)
            return
        with self._answered:
            self._answered.notify_all()
        request = self.get(request_id)
        for callback in self._on_response:
            _run(callback, request.response)
        if self._on_all_answered and not self._db().count(
                self.reply_topic, self.kind, store_mod.PENDING):
            for callback in self._on_all_answered:
                _run(callback, self)


def _age(row):
    return (store_mod.utcnow() - row["updated_at"]).total_seconds()


def _run(callback, argument):
    try:
        callback(argument)
    except Exception:
        LOG.exception("request/response callback %r failed", callback)
