"""Where a requester records its requests, and a responder what it
received and answered: a database named by URL.

Any SQLAlchemy URL works: ``sqlite:////var/lib/svc/requests.sqlite`` (the
embedded default: a file), or the service's own MySQL or PostgreSQL
database (``mysql+pymysql://...``, ``postgresql://...``; the driver is the
service's). Several processes, on several hosts, may share one store, on
each of these backends alike (the tests run separate processes racing on
an SQLite file, PostgreSQL and MariaDB):

* every change is one transaction; one the database rolls back to break a
  deadlock is run again, :data:`DEADLOCK_ATTEMPTS` times in all;
* a response is applied under a lock of its request's row, so two
  processes taking duplicates of one response apply it once;
* :meth:`Store.create_or_update` runs one at a time per requester (reply
  topic and kind): it locks (updates) the requester's row of
  ``tacker_rpc_request_locks`` before looking, so processes doing it at
  once for the same fields make one request;
* requests are found by their fields through an index (table
  ``tacker_rpc_request_fields``: a SHA-256 digest of the reply topic,
  kind, field name and the value's canonical JSON, per field), not by
  reading every request; values are compared as JSON (so ``1`` and
  ``1.0`` differ).

On MySQL (and MariaDB) the store's connections use READ COMMITTED, and its
times keep microseconds (``DATETIME(6)``), so that requests list oldest
first.

The schema is created and upgraded when a :class:`Store` is opened: table
``tacker_rpc_schema`` holds the version of this component. A new store
is created at the current version in one step, logged in one INFO line;
an older one is upgraded, each version's migration running once, in
order, and logged in one INFO line naming both versions (version 2 adds
the lock and index tables and indexes the requests already there;
version 3 the responders' table ``tacker_rpc_received_requests``). A
store newer than
this code is refused (:class:`~tacker_rpc.exceptions.StoreError`).

The state machine of a request (:data:`TRANSITIONS`)::

    created --sent--> sent --answer--> answered | failed
       ^                 |
       +-- update -------+  (any state but created: new revision)
    created | sent --expire--> expired

A response names the revision it answers; one for an older revision is
stale and ignored, one for a request already answered is a duplicate:
counted in ``deliveries``, not applied again.

On the responder's side, a request is recorded (state ``received``) when
its handler returns, and ``answered`` or ``failed`` with the answer when
it is answered; :meth:`Store.receive` tells what to do with a request
delivered again (see :class:`~tacker_rpc.reqresp.Responder`).
"""

import datetime
import hashlib
import json
import logging
import os
import time
import uuid

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import mysql

from tacker_rpc import exceptions

LOG = logging.getLogger(__name__)

CREATED = "created"
SENT = "sent"
ANSWERED = "answered"
FAILED = "failed"
EXPIRED = "expired"
#: States of a request still waiting for its response.
PENDING = (CREATED, SENT)
#: States of a request that has its response (or error).
DONE = (ANSWERED, FAILED)

#: What happens to a request in each state, per event: the new state.
#: "update" means new fields: the revision goes up, any response is
#: forgotten, the request is sent again.
TRANSITIONS = {
    CREATED: {"sent": SENT, "answer": ANSWERED, "fail": FAILED,
              "update": CREATED, "expire": EXPIRED},
    SENT: {"answer": ANSWERED, "fail": FAILED, "update": CREATED,
           "expire": EXPIRED},
    ANSWERED: {"update": CREATED},
    FAILED: {"update": CREATED},
    EXPIRED: {"update": CREATED},
}

#: The states of a request a responder received: its handler returned, and
#: it was not answered yet; or it was answered (ANSWERED or FAILED).
RECEIVED = "received"

#: What :meth:`Store.receive` says of a request delivered to a responder.
HANDLE = "handle"
IN_HAND = "in hand"
ANSWER_AGAIN = "answer again"
OLDER = "older"

#: What :meth:`Store.answer` did with a response.
APPLIED = "applied"
DUPLICATE = "duplicate"
STALE = "stale"
UNKNOWN = "unknown"

COMPONENT = "tacker_rpc.reqresp"

#: The store of a requester or responder given no URL: an SQLite file in
#: the current directory.
DEFAULT_STORE_URL = "sqlite:///tacker_rpc_requests.sqlite"

_metadata = sa.MetaData()

_schema = sa.Table(
    "tacker_rpc_schema", _metadata,
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False))

_requests = sa.Table(
    "tacker_rpc_requests", _metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("reply_topic", sa.String(255), nullable=False),
    sa.Column("responder_topic", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(255), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("response", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("deliveries", sa.Integer, nullable=False),
    sa.Column("answered_by", sa.String(255)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("answered_at", sa.DateTime),
    sa.Index("tacker_rpc_requests_by_topic", "reply_topic", "kind",
             "state"))


#: One row per requester (reply topic and kind), never deleted: locked
#: by :meth:`Store.create_or_update`, which counts in ``taken``, so that its
#: find-then-create runs one at a time per requester, on every backend.
_locks = sa.Table(
    "tacker_rpc_request_locks", _metadata,
    sa.Column("reply_topic", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(255), primary_key=True),
    sa.Column("taken", sa.Integer, nullable=False))

#: The index of request fields: one row per field of each request, its
#: digest (:func:`_digest`) naming reply topic, kind, field name and value.
_fields = sa.Table(
    "tacker_rpc_request_fields", _metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Index("tacker_rpc_request_fields_by_request", "request_id"))


#: Times with microseconds on MySQL too (its DATETIME keeps whole seconds).
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")

#: What responders received, one row per topic and request: its latest
#: revision, and the answer once sent, so that a request delivered again
#: is recognised (:meth:`Store.receive`).
_received = sa.Table(
    "tacker_rpc_received_requests", _metadata,
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(255), nullable=False),
    sa.Column("revision", sa.Integer),
    sa.Column("reply_topic", sa.String(255), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("response", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("deliveries", sa.Integer, nullable=False),
    sa.Column("received_at", _TIME, nullable=False),
    sa.Column("answered_at", _TIME),
    sa.Index("tacker_rpc_received_requests_by_state", "topic", "state"))


def _create_version_1(conn):
    _requests.create(conn)


def _index_fields_version_2(conn):
    """The lock rows and the field index (backfilled), and on MySQL times
    with microseconds (its DATETIME keeps whole seconds: requests made
    within one second would not list oldest first)."""
    _locks.create(conn, checkfirst=True)
    _fields.create(conn, checkfirst=True)
    if conn.dialect.name == "mysql":
        conn.exec_driver_sql(
            "ALTER TABLE tacker_rpc_requests"
            " MODIFY created_at DATETIME(6) NOT NULL,"
            " MODIFY updated_at DATETIME(6) NOT NULL,"
            " MODIFY answered_at DATETIME(6) NULL")
    # MySQL commits DDL at once: a backfill broken off is redone whole.
    conn.execute(_fields.delete())
    rows = conn.execute(sa.select(
        _requests.c.id, _requests.c.reply_topic, _requests.c.kind,
        _requests.c.fields))
    while batch := rows.fetchmany(1000):
        _index(conn, [entry for row in batch for entry in _field_rows(
            row.id, row.reply_topic, row.kind, json.loads(row.fields))])


def _record_received_version_3(conn):
    _received.create(conn, checkfirst=True)


#: Migration N+1 brings the schema from version N to N+1. A later version
#: appends a function; none is ever changed once released.
_MIGRATIONS = (_create_version_1, _index_fields_version_2,
               _record_received_version_3)
SCHEMA_VERSION = len(_MIGRATIONS)

#: Attempts at a transaction the database broke off to resolve a deadlock
#: (MySQL and PostgreSQL roll back one of the transactions in a cycle);
#: the last attempt's error is raised.
DEADLOCK_ATTEMPTS = 3


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Store:
    """A request store at ``url`` (an SQLAlchemy URL), its schema
    created or upgraded on opening; with ``upgrade=False`` (to read a
    store) the schema must be there and current.

    :raises StoreError: when the URL is unusable, the store cannot be
        reached, or its schema is newer than this code (or, without
        ``upgrade``, missing or older).
    """

    def __init__(self, url, upgrade=True):
        self.url = url
        self.engine = _make_engine(url)
        self._locks_made = set()
        if upgrade:
            _upgrade(self.engine)
        else:
            _check_current(self.engine)

    def close(self):
        self.engine.dispose()

    def create(self, kind, reply_topic, responder_topic, fields):
        """Record a new request (state ``created``, revision 1); returns
        its row."""
        return self._transaction(
            _insert, kind, reply_topic, responder_topic, fields)

    def create_or_update(self, kind, reply_topic, responder_topic, match,
                         fields):
        """The request of ``kind`` whose fields equal ``match`` (a dict),
        updated to ``fields``, or a new one; returns ``(row, action)``:

        * ``"created"``: there was none (state ``created``);
        * ``"updated"``: its fields differed: they are replaced, the
          revision goes up, any response is forgotten (state ``created``);
        * ``"resend"``: same fields, not answered yet (state unchanged);
        * ``"unchanged"``: same fields, already answered.

        Processes doing this at once for one requester (``reply_topic``
        and ``kind``) run one after the other, on every backend: the
        transaction first updates, so locks, that requester's row of
        ``tacker_rpc_request_locks`` (SQLite locks the whole store), so
        exactly one of them creates the request and the others find it.
        Other requesters are not held up. Only this method looks before
        creating: :meth:`create` always adds a request.
        """
        self._make_lock(reply_topic, kind)
        return self._transaction(_create_or_update, kind, reply_topic,
                                 responder_topic, match, fields)

    def first_match(self, reply_topic, kind, match, states=None):
        """The oldest row of ``kind`` whose fields equal ``match`` (a
        dict: each name present with an equal value), in one of
        ``states`` when given; None when there is none. Found through the
        field index, whatever the number of requests."""
        with self.engine.connect() as conn:
            return _first_match(conn, reply_topic, kind, match, states)

    def mark_sent(self, request_id, revision):
        """``created`` -> ``sent`` for that revision; False when it has
        moved on (answered already, or updated again)."""
        return self._transaction(_mark_sent, request_id, revision)

    def answer(self, request_id, revision, response, error, by):
        """Apply a response (``response`` a dict, or ``error`` a text) to
        ``revision`` of the request (None: whichever is current); returns
        :data:`APPLIED`, :data:`DUPLICATE`, :data:`STALE` or
        :data:`UNKNOWN`. The request's row is locked while it is read
        and changed: of two processes taking one response at once, one
        applies it and the other counts a duplicate."""
        return self._transaction(_answer, request_id, revision, response,
                                 error, by)

    def expire(self, reply_topic, kind, older_than):
        """Expire the pending requests last sent more than ``older_than``
        seconds ago; returns their rows."""
        return self._transaction(_expire, reply_topic, kind, older_than)

    def get(self, request_id):
        """The row of ``request_id``, or None."""
        with self.engine.connect() as conn:
            rows = _select(conn, request_id=request_id)
        return rows[0] if rows else None

    def list(self, reply_topic=None, kind=None, states=None):
        """Rows (dicts, ``fields`` and ``response`` decoded), oldest
        first, filtered by what is given."""
        with self.engine.connect() as conn:
            return _select(conn, reply_topic=reply_topic, kind=kind,
                           states=states)

    def count(self, reply_topic, kind, states):
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).where(
                _requests.c.reply_topic == reply_topic,
                _requests.c.kind == kind,
                _requests.c.state.in_(states))).scalar()

    # The responder's side.

    def receive(self, topic, request):
        """What to do with ``request`` (a dict: ``id``, ``kind``,
        ``revision``, ``reply_topic``, ``fields``) delivered on ``topic``;
        returns ``(verdict, row)``, ``row`` the record when there is one:

        * :data:`HANDLE`: not seen, or a newer revision: hand it to its
          handler (:meth:`handled` records it once the handler returned);
        * :data:`IN_HAND`: its handler returned and it is not answered
          yet: the handler has it;
        * :data:`ANSWER_AGAIN`: answered: send the recorded answer again
          (the first may be lost; the requester applies one);
        * :data:`OLDER`: a revision older than the one recorded.

        A delivery that is not handled is counted in ``deliveries``. The
        record is written when the handler returns, so a request whose
        handler was running when its process died is handled again (and
        so is a copy delivered, to another process sharing the store,
        while the first handler runs).
        """
        return self._transaction(_receive, topic, request)

    def handled(self, topic, request):
        """Record that the handler of ``request`` (as for :meth:`receive`)
        returned: state ``received``, unless it answered meanwhile."""
        self._recording(_handled, topic, request)

    def responded(self, topic, request, response, error):
        """Record the answer to ``request`` (as for :meth:`receive`):
        ``response`` (a dict) or ``error`` (a text). An answer to a
        revision older than the recorded one is not recorded."""
        self._recording(_responded, topic, request, response, error)

    def unanswered(self, topic):
        """The requests received on ``topic`` whose handlers returned
        without answering them, oldest first (see :meth:`received`)."""
        return self.received(topic, (RECEIVED,))

    def received(self, topic=None, states=None):
        """Rows of ``tacker_rpc_received_requests`` (dicts, ``fields``
        and ``response`` decoded), oldest first, filtered by what is
        given: the requests responders on ``topic`` received, in
        ``states`` (``received``, ``answered``, ``failed``)."""
        query = sa.select(_received).order_by(_received.c.received_at,
                                              _received.c.request_id)
        if topic is not None:
            query = query.where(_received.c.topic == topic)
        if states is not None:
            query = query.where(_received.c.state.in_(states))
        with self.engine.connect() as conn:
            return [_loaded(dict(row._mapping))
                    for row in conn.execute(query)]

    def forget_answered(self, topic, older_than):
        """Delete the records of requests answered more than
        ``older_than`` seconds ago; returns how many. A copy of one of
        them delivered later is handled again."""
        return self._transaction(_forget_answered, topic, older_than)

    def _recording(self, work, *args):
        """``work`` inserts a row when there is none: of two processes
        inserting one at once, the second runs again and updates it."""
        try:
            self._transaction(work, *args)
        except sa.exc.IntegrityError:
            self._transaction(work, *args)

    def _transaction(self, work, *args):
        """``work(conn, *args)`` in one transaction, run again (up to
        :data:`DEADLOCK_ATTEMPTS` times in all) when the database broke
        it off as a deadlock victim: nothing of it was committed."""
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn, *args)
            except sa.exc.DBAPIError as exc:
                if attempt == DEADLOCK_ATTEMPTS or not _deadlocked(exc):
                    raise
                LOG.warning("request store: %s rolled back as a deadlock "
                            "victim (attempt %d of %d); running it again",
                            work.__name__.strip("_"), attempt,
                            DEADLOCK_ATTEMPTS)

    def _make_lock(self, reply_topic, kind):
        """Insert the lock row of a requester unless it is there, in its
        own transaction (locking a row that does not exist yet locks
        nothing, or a gap, on MySQL)."""
        if (reply_topic, kind) in self._locks_made:
            return
        try:
            self._transaction(_insert_lock, reply_topic, kind)
        except sa.exc.IntegrityError:
            pass  # another process inserted it since we looked
        self._locks_made.add((reply_topic, kind))


def _insert_lock(conn, reply_topic, kind):
    if conn.execute(sa.select(_locks.c.kind).where(
            _locks.c.reply_topic == reply_topic,
            _locks.c.kind == kind)).first() is None:
        conn.execute(_locks.insert().values(
            reply_topic=reply_topic, kind=kind, taken=0))


def _create_or_update(conn, kind, reply_topic, responder_topic, match,
                      fields):
    # An update, not SELECT ... FOR UPDATE: the same row lock, and a
    # write, which Galera certifies: two cluster nodes letting one
    # requester through at once fail one at commit (as a deadlock).
    if conn.execute(_locks.update().where(
            _locks.c.reply_topic == reply_topic,
            _locks.c.kind == kind).values(
                taken=_locks.c.taken + 1)).rowcount != 1:
        raise exceptions.StoreError(
            "request store: the row of %s on %s in tacker_rpc_request_locks "
            "was deleted while in use" % (kind, reply_topic))
    row = _first_match(conn, reply_topic, kind, match, for_update=True)
    if row is None:
        return _insert(conn, kind, reply_topic, responder_topic,
                       fields), "created"
    if row["fields"] == fields and row["state"] in PENDING:
        return row, "resend"
    if row["fields"] == fields and row["state"] in DONE:
        return row, "unchanged"
    changes = {"fields": json.dumps(fields),
               "revision": row["revision"] + 1,
               "state": _next(row["state"], "update"),
               "response": None, "error": None, "deliveries": 0,
               "answered_by": None, "answered_at": None,
               "updated_at": utcnow()}
    conn.execute(_requests.update().where(
        _requests.c.id == row["id"]).values(**changes))
    conn.execute(_fields.delete().where(_fields.c.request_id == row["id"]))
    _index(conn, _field_rows(row["id"], reply_topic, kind, fields))
    row.update(changes, fields=fields)
    return row, "updated"


def _mark_sent(conn, request_id, revision):
    return conn.execute(_requests.update().where(
        _requests.c.id == request_id,
        _requests.c.revision == revision,
        _requests.c.state == CREATED).values(
            state=SENT, updated_at=utcnow())).rowcount == 1


def _answer(conn, request_id, revision, response, error, by):
    row = conn.execute(sa.select(
        _requests.c.revision, _requests.c.state).where(
            _requests.c.id == request_id).with_for_update()).first()
    if row is None:
        return UNKNOWN
    if revision is not None and revision != row.revision:
        return STALE
    if row.state in DONE:
        conn.execute(_requests.update().where(
            _requests.c.id == request_id).values(
                deliveries=_requests.c.deliveries + 1))
        return DUPLICATE
    event_name = "fail" if error is not None else "answer"
    state = TRANSITIONS[row.state].get(event_name)
    if state is None:
        return STALE
    now = utcnow()
    conn.execute(_requests.update().where(
        _requests.c.id == request_id).values(
            state=state, updated_at=now, answered_at=now,
            response=None if response is None else json.dumps(response),
            error=error, answered_by=by, deliveries=1))
    return APPLIED


def _expire(conn, reply_topic, kind, older_than):
    limit = utcnow() - datetime.timedelta(seconds=older_than)
    rows = [row for row in _select(
        conn, reply_topic=reply_topic, kind=kind, states=PENDING,
        for_update=True) if row["updated_at"] < limit]
    for row in rows:
        row["state"] = _next(row["state"], "expire")
        conn.execute(_requests.update().where(
            _requests.c.id == row["id"],
            _requests.c.revision == row["revision"],
            _requests.c.state.in_(PENDING)).values(
                state=row["state"], updated_at=utcnow()))
    return rows


def _received_row(conn, topic, request_id):
    row = conn.execute(sa.select(_received).where(
        _received.c.topic == topic,
        _received.c.request_id == request_id).with_for_update()).first()
    return None if row is None else _loaded(dict(row._mapping))


def _is_older(revision, recorded):
    return None not in (revision, recorded) and revision < recorded


def _receive(conn, topic, request):
    row = _received_row(conn, topic, request["id"])
    if row is None or (
            None not in (request.get("revision"), row["revision"])
            and request["revision"] > row["revision"]):
        return HANDLE, row
    verdict = (OLDER if _is_older(request.get("revision"), row["revision"])
               else ANSWER_AGAIN if row["state"] in DONE else IN_HAND)
    conn.execute(_received.update().where(
        _received.c.topic == topic,
        _received.c.request_id == request["id"]).values(
            deliveries=_received.c.deliveries + 1))
    return verdict, row


def _record(conn, topic, request, row, **values):
    """Insert or replace the record of ``request`` with ``values``; a new
    revision starts afresh (no revision: the recorded one)."""
    revision = request.get("revision")
    if row is None or revision not in (None, row["revision"]):
        values = dict({"kind": request["kind"], "revision": revision,
                       "reply_topic": request["reply_topic"],
                       "fields": json.dumps(request.get("fields") or {}),
                       "deliveries": 1, "received_at": utcnow(),
                       "response": None, "error": None,
                       "answered_at": None}, **values)
    if row is None:
        conn.execute(_received.insert().values(
            topic=topic, request_id=request["id"], **values))
        return
    conn.execute(_received.update().where(
        _received.c.topic == topic,
        _received.c.request_id == request["id"]).values(**values))


def _handled(conn, topic, request):
    row = _received_row(conn, topic, request["id"])
    if row is not None and (
            _is_older(request.get("revision"), row["revision"])
            or (row["revision"] == request.get("revision")
                and row["state"] in DONE)):
        return
    _record(conn, topic, request, row, state=RECEIVED)


def _responded(conn, topic, request, response, error):
    row = _received_row(conn, topic, request["id"])
    if row is not None and _is_older(request.get("revision"),
                                     row["revision"]):
        return
    _record(conn, topic, request, row,
            state=FAILED if error is not None else ANSWERED,
            response=None if response is None else json.dumps(response),
            error=error, answered_at=utcnow())


def _forget_answered(conn, topic, older_than):
    limit = utcnow() - datetime.timedelta(seconds=older_than)
    return conn.execute(_received.delete().where(
        _received.c.topic == topic, _received.c.state.in_(DONE),
        _received.c.answered_at < limit)).rowcount


def _deadlocked(exc):
    """Whether the database rolled the transaction back to break a
    deadlock: PostgreSQL's SQLSTATE 40P01, MySQL's error 1213."""
    args = getattr(exc.orig, "args", ())
    return getattr(exc.orig, "pgcode", None) == "40P01" or (
        bool(args) and args[0] == 1213)


def _insert(conn, kind, reply_topic, responder_topic, fields):
    now = utcnow()
    row = {"id": str(uuid.uuid4()), "reply_topic": reply_topic,
           "responder_topic": responder_topic, "kind": kind,
           "state": CREATED, "revision": 1, "fields": json.dumps(fields),
           "response": None, "error": None, "deliveries": 0,
           "answered_by": None, "created_at": now, "updated_at": now,
           "answered_at": None}
    conn.execute(_requests.insert().values(**row))
    _index(conn, _field_rows(row["id"], reply_topic, kind, fields))
    return _loaded(row)


def _digest(reply_topic, kind, name, value):
    """What the field index records of one field: a SHA-256 of the
    canonical JSON of the requester, the field's name and its value (so
    one indexed column, short enough for any database's index)."""
    return hashlib.sha256(json.dumps(
        [reply_topic, kind, name, value], sort_keys=True,
        separators=(",", ":")).encode()).hexdigest()


def _field_rows(request_id, reply_topic, kind, fields):
    return [{"request_id": request_id,
             "digest": _digest(reply_topic, kind, name, value)}
            for name, value in fields.items()]


def _index(conn, field_rows):
    if field_rows:
        conn.execute(_fields.insert(), field_rows)


def _first_match(conn, reply_topic, kind, match, states=None,
                 for_update=False):
    """The database finds the requests having every field of ``match``
    by digest; their requester and decoded fields are compared too, since
    two values may (in theory) have one digest."""
    query = sa.select(_requests).order_by(_requests.c.created_at,
                                          _requests.c.id)
    if states is not None:
        query = query.where(_requests.c.state.in_(states))
    try:
        digests = {_digest(reply_topic, kind, name, value)
                   for name, value in match.items()}
    except (TypeError, ValueError):
        return None  # not JSON (a set, say): equal to no stored value
    if digests:
        # The digests name the requester. Asked for its reply topic and
        # kind too, SQLite would read all its rows by their index.
        query = query.where(_requests.c.id.in_(
            sa.select(_fields.c.request_id).where(
                _fields.c.digest.in_(digests)).group_by(
                    _fields.c.request_id).having(
                        sa.func.count() == len(digests))))
    else:
        query = query.where(_requests.c.reply_topic == reply_topic,
                            _requests.c.kind == kind)
    if for_update:
        query = query.with_for_update()
    for row in conn.execute(query):
        row = _loaded(dict(row._mapping))
        if (row["reply_topic"], row["kind"]) == (reply_topic, kind) and all(
                name in row["fields"] and row["fields"][name] == value
                for name, value in match.items()):
            return row
    return None


def _next(state, event_name):
    try:
        return TRANSITIONS[state][event_name]
    except KeyError:
        raise exceptions.StoreError(
            "a request in state %r cannot be %s" % (state, event_name))


def _select(conn, request_id=None, reply_topic=None, kind=None, states=None,
            for_update=False):
    query = sa.select(_requests).order_by(_requests.c.created_at,
                                          _requests.c.id)
    if request_id is not None:
        query = query.where(_requests.c.id == request_id)
    if reply_topic is not None:
        query = query.where(_requests.c.reply_topic == reply_topic)
    if kind is not None:
        query = query.where(_requests.c.kind == kind)
    if states is not None:
        query = query.where(_requests.c.state.in_(states))
    if for_update:
        query = query.with_for_update()
    return [_loaded(dict(row._mapping)) for row in conn.execute(query)]


def _loaded(row):
    row["fields"] = json.loads(row["fields"])
    if row["response"] is not None:
        row["response"] = json.loads(row["response"])
    return row


def _make_engine(url):
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise exceptions.StoreError("request store URL %r: %s" % (url, exc))
    if parsed.get_backend_name() == "sqlite" and parsed.database and (
            not os.path.isdir(os.path.dirname(
                os.path.abspath(parsed.database)))):
        raise exceptions.StoreError(
            "request store %s: no directory %s" % (
                url, os.path.dirname(os.path.abspath(parsed.database))))
    if parsed.get_backend_name() != "sqlite":
        # READ COMMITTED, PostgreSQL's default, on MySQL too (its default
        # is REPEATABLE READ): each statement sees what was committed
        # before it, so a transaction that waited for a lock row reads
        # what its holder wrote; and InnoDB takes no gap locks.
        options = {"isolation_level": "READ COMMITTED"} if (
            parsed.get_backend_name() == "mysql") else {}
        try:
            return sa.create_engine(parsed, pool_pre_ping=True, **options)
        except (ImportError, sa.exc.NoSuchModuleError) as exc:
            raise exceptions.StoreError(
                "request store %s needs its database driver installed: %s"
                % (parsed.render_as_string(hide_password=True), exc))
    # Several threads and processes write one SQLite file: wait for its
    # lock rather than fail, and take the write lock when a transaction
    # begins, so that a read-then-write transaction (create_or_update,
    # answer) cannot interleave with another process's.
    engine = sa.create_engine(parsed, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _upgrade(engine):
    """Create or upgrade the schema. Two processes opening a new store at
    once may both try to create it: the loser's error is retried once the
    winner has committed."""
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                _upgrade_in(conn)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError,
                sa.exc.IntegrityError) as exc:
            if attempt == 2:
                raise exceptions.StoreError(
                    "cannot create or upgrade the request store %s: %s"
                    % (engine.url.render_as_string(hide_password=True), exc))
            LOG.info("request store schema busy (%s); retrying", exc)
            time.sleep(0.5)


def _check_current(engine):
    name = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.select(_schema.c.version).where(
                _schema.c.component == COMPONENT)).scalar()
    except sa.exc.DBAPIError as exc:
        raise exceptions.StoreError(
            "no request store at %s (%s)" % (name, str(exc).splitlines()[0]))
    if version != SCHEMA_VERSION:
        raise exceptions.StoreError(
            "request store %s has schema version %s; this tacker_rpc reads "
            "version %d" % (name, version, SCHEMA_VERSION))


def _upgrade_in(conn):
    _schema.create(conn, checkfirst=True)
    version = conn.execute(sa.select(_schema.c.version).where(
        _schema.c.component == COMPONENT)).scalar()
    created = version is None
    if created:
        version = 0
        conn.execute(_schema.insert().values(component=COMPONENT, version=0))
    if version > SCHEMA_VERSION:
        raise exceptions.StoreError(
            "request store %s has schema version %d; this tacker_rpc knows "
            "up to %d: upgrade tacker_rpc"
            % (conn.engine.url.render_as_string(hide_password=True), version,
               SCHEMA_VERSION))
    if version == SCHEMA_VERSION:
        return
    for migration in _MIGRATIONS[version:]:
        migration(conn)
    conn.execute(_schema.update().where(
        _schema.c.component == COMPONENT).values(version=SCHEMA_VERSION))
    name = conn.engine.url.render_as_string(hide_password=True)
    if created:
        LOG.info("request store %s created at schema version %d", name,
                 SCHEMA_VERSION)
    else:
        LOG.info("request store %s upgraded from schema version %d to %d",
                 name, version, SCHEMA_VERSION)
