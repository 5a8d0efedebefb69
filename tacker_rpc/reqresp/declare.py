"""Declaring a request class and the response class that answers it.

A request or response class lists its fields as class attributes of type
:class:`tacker_rpc.fields.Field`; a request class names its response class
in ``RESPONSE``::

    class CertResponse(Response):
        key = Field(str, "PEM private key")
        cert = Field(str, "PEM certificate")

    class CertRequest(Request):
        RESPONSE = CertResponse
        common_name = Field(str, "Common name (CN) of the certificate")
        sans = Field(list[str], "Subject alternative names", default=[])

Each field then reads as an attribute of an instance
(``request.common_name``). ``KIND`` (the class name unless set) is how the
request travels and is stored: requester and responder must agree on it.
"""

import copy

from tacker_rpc import exceptions
from tacker_rpc import fields as fields_mod


class _Declared:
    """What requests and responses share: declared fields, checked."""

    #: :class:`tacker_rpc.fields.Fields` of the class, built from its
    #: :class:`~tacker_rpc.fields.Field` attributes.
    FIELDS = fields_mod.Fields({}, "_Declared")
    KIND = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declared = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, fields_mod.Field):
                    declared[name] = value
        if "KIND" not in vars(cls):
            cls.KIND = cls.__name__
        cls.FIELDS = fields_mod.Fields(declared, cls.KIND)
        for name in declared:
            setattr(cls, name, property(
                lambda self, name=name: self.fields[name],
                doc=declared[name].description))

    @classmethod
    def complete(cls, values):
        """``values`` checked (:class:`InvalidArguments` naming the field
        at fault) and completed with the defaults of absent fields."""
        cls.FIELDS.check(values)
        completed = {}
        for name, field in cls.FIELDS.fields.items():
            if name in values:
                completed[name] = values[name]
            elif not field.required:
                completed[name] = copy.deepcopy(field.default)
        return completed

    @classmethod
    def describe(cls):
        """The class's fields as :meth:`tacker_rpc.fields.Fields.describe`
        lists them."""
        return cls.FIELDS.describe()


def describe_kind(request_class, role, topic):
    """What ``describe`` lists of ``request_class``: ``kind``, ``role``,
    ``topic``, ``doc`` (first docstring line), ``fields`` and
    ``response`` (:meth:`_Declared.describe` of the request and response
    classes)."""
    doc = (request_class.__doc__ or "").strip()
    return {"kind": request_class.KIND, "role": role, "topic": topic,
            "doc": doc.splitlines()[0] if doc else "",
            "fields": request_class.describe(),
            "response": request_class.RESPONSE.describe()}


class Response(_Declared):
    """An answer to a request: its fields, or an error.

    :ivar request: the :class:`Request` it answers.
    :ivar fields: dict of field values (empty when ``error`` is set).
    :ivar error: None, or the text the responder failed the request with.
    """

    def __init__(self, request, fields, error=None):
        self.request = request
        self.fields = fields
        self.error = error

    @property
    def failed(self):
        return self.error is not None

    def __repr__(self):
        if self.failed:
            return "<%s to %s failed: %s>" % (
                self.KIND, self.request.id, self.error)
        return "<%s to %s %r>" % (self.KIND, self.request.id, self.fields)


class Request(_Declared):
    """A request: an id, a revision, fields, and where it stands.

    Instances come from a :class:`~tacker_rpc.reqresp.Requester` (which
    records and sends them; :meth:`wait` blocks for the response) or from
    a :class:`~tacker_rpc.reqresp.Responder` (which received them;
    :meth:`respond` and :meth:`fail` answer them).

    :ivar id: the request id (a UUID string), the same on both sides.
    :ivar revision: 1, plus one per update with other fields.
    :ivar reply_topic: the requester's reply topic.
    :ivar state: on the requester: created, sent, answered, failed or
        expired; on the responder: received.
    :ivar response: the :class:`Response` received, or None.
    :ivar context: on the responder, the request context it was sent with.
    """

    #: The :class:`Response` subclass that answers this request.
    RESPONSE = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not (isinstance(cls.RESPONSE, type)
                and issubclass(cls.RESPONSE, Response)):
            raise exceptions.InvalidDeclaration(
                "%s.RESPONSE must be a subclass of "
                "tacker_rpc.reqresp.Response, got %r"
                % (cls.__name__, cls.RESPONSE))

    def __init__(self, request_id, fields, reply_topic, revision=1,
                 state=None, owner=None, **record):
        self.id = request_id
        self.fields = fields
        self.reply_topic = reply_topic
        self.revision = revision
        self.state = state
        self.response = None
        self.context = None
        self.record = record
        self._owner = owner

    def respond(self, **fields):
        """Answer this request with ``fields`` (checked against the
        response class; :class:`InvalidArguments` names the field at
        fault). Only for a request a Responder received or restored; any
        thread, any time."""
        self._responder().send_response(self, self.RESPONSE.complete(fields))

    def fail(self, error):
        """Answer this request with an error text instead of a response:
        the requester's request becomes ``failed`` and its :meth:`wait`
        raises :class:`RequestFailed`."""
        self._responder().send_response(self, None, error=str(error))

    def wait(self, timeout=None):
        """Block until this request is answered; returns the
        :class:`Response`.

        :raises RequestFailed: when the responder failed it, or it expired.
        :raises RequestTimeout: when no answer came within ``timeout``
            seconds (None: wait for ever).
        """
        wait_for = getattr(self._owner, "wait_for", None)
        if wait_for is None:
            raise exceptions.InvalidArguments(
                "wait() is for a request a Requester sent; this one was "
                "received by a Responder")
        return wait_for(self.id, timeout)

    def to_dict(self):
        """What a responder stores to answer later, even after a restart:
        ``kind``, ``id``, ``revision``, ``reply_topic`` and ``fields``
        (see :meth:`Responder.restore`)."""
        return {"kind": self.KIND, "id": self.id, "revision": self.revision,
                "reply_topic": self.reply_topic, "fields": self.fields}

    def _responder(self):
        if not hasattr(self._owner, "send_response"):
            raise exceptions.InvalidArguments(
                "respond() and fail() are for a request a Responder "
                "received; this one was sent by a Requester")
        return self._owner

    def __repr__(self):
        return "<%s %s rev %s %s %r>" % (self.KIND, self.id, self.revision,
                                         self.state, self.fields)
