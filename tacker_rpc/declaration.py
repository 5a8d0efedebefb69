"""Declared RPC methods: what each method of an API takes and how it goes.

:func:`call` and :func:`cast` turn a method of an API class (see
:class:`tacker_rpc.api.RPCAPI`) into a :class:`Method`: its name, kind,
the API version it appeared in, its namespace and fanout, and its arguments
as :class:`~tacker_rpc.fields.Fields`, read from the signature::

    @api.call(since="1.0")
    def get_vnf(self, ctxt, vnf_id: str, detail: bool = False) -> dict:
        \"\"\"One VNF by id.\"\"\"

An argument's annotation is its type, or a :class:`~tacker_rpc.fields.Field`
carrying type and description; an argument with a default is optional.
The body is never run. :func:`collect` checks a whole API class; both the
client (:mod:`tacker_rpc.api`) and the server
(:mod:`tacker_rpc.implementation`) read what it stores.
"""

import inspect
import re
import typing

from tacker_rpc import exceptions
from tacker_rpc import fields as fields_mod

CALL = "call"
CAST = "cast"

_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
#: Names a declared method may not take: the endpoint's own attributes.
_RESERVED = frozenset(("target",))


class Method:
    """One declared RPC method (made by :func:`call` or :func:`cast`).

    ``fields`` checks a dict of arguments; ``arguments`` is their order,
    for positional use on the client. ``namespace`` None means the API's.
    """

    def __init__(self, function, kind, since, namespace=None, fanout=False):
        name = function.__name__
        if name.startswith("_") or name in _RESERVED:
            raise exceptions.InvalidDeclaration(
                "RPC method %r: names starting with '_' (and %s) are not "
                "callable remotely" % (name, ", ".join(sorted(_RESERVED))))
        check_version(since, "%s(since=...)" % name)
        if fanout and kind == CALL:
            raise exceptions.InvalidDeclaration(
                "RPC method %r: a call cannot fan out (declare a cast)"
                % name)
        self.name = name
        self.kind = kind
        self.since = since
        self.namespace = namespace
        self.fanout = fanout
        self.doc = inspect.getdoc(function) or ""
        self.owner = None
        declared, self.returns = _signature_fields(function)
        self.arguments = tuple(declared)
        self.fields = fields_mod.Fields(declared, name + "()", "argument")

    def __set_name__(self, owner, name):
        self.owner = owner
        self.fields.where = "%s.%s()" % (owner.__name__, name)

    @property
    def where(self):
        """``API.method()``, as errors name the method."""
        return self.fields.where

    def bind(self, args, kwargs):
        """``kwargs`` with the positional ``args`` added by name.

        :raises InvalidArguments: when there are too many, or one is given
            twice.
        """
        if len(args) > len(self.arguments):
            raise exceptions.InvalidArguments(
                "%s takes %d argument(s) after the context, %d given"
                % (self.where, len(self.arguments), len(args)),
                method=self.where)
        bound = dict(zip(self.arguments, args, strict=False))
        for name in kwargs:
            if name in bound:
                raise exceptions.InvalidArguments(
                    "%s: argument %r given twice" % (self.where, name),
                    field=name, method=self.where)
        bound.update(kwargs)
        return bound

    def describe(self, namespace):
        """The method as a JSON-able dict."""
        doc = self.doc.splitlines()[0] if self.doc else ""
        return {"name": self.name, "kind": self.kind, "since": self.since,
                "namespace": namespace, "fanout": self.fanout, "doc": doc,
                "arguments": self.fields.describe(),
                "returns": (None if self.returns is None
                            else fields_mod.type_name(self.returns))}


def call(since, namespace=None):
    """Declare an RPC method that waits for its result.

    :param since: the API version the method appeared in; it is sent as the
        message's version.
    :param namespace: its RPC namespace when not the API's.
    """
    return lambda function: Method(function, CALL, since, namespace)


def cast(since, namespace=None, fanout=False):
    """Declare an RPC method sent without waiting; ``fanout`` sends it to
    every server of the topic. Other parameters as :func:`call`."""
    return lambda function: Method(function, CAST, since, namespace, fanout)


def check_version(version, what):
    """Raise InvalidDeclaration unless ``version`` is ``"X.Y"`` or
    ``"X.Y.Z"``."""
    if not isinstance(version, str) or not _VERSION.match(version):
        raise exceptions.InvalidDeclaration(
            "%s: version must be a string like '1.3', got %r"
            % (what, version))


def version_covers(newest, version):
    """Whether a side speaking ``newest`` understands ``version``: same
    major, not newer (oslo.messaging's rule for servers and caps)."""
    newest_parts = [int(part) for part in newest.split(".")] + [0]
    parts = [int(part) for part in version.split(".")] + [0]
    return (parts[0] == newest_parts[0]
            and parts[1:3] <= newest_parts[1:3])


def collect(api):
    """Check the API class ``api`` and store its declared methods.

    :raises InvalidDeclaration: for a bad ``version`` or a method whose
        ``since`` is newer than it.
    """
    check_version(api.version, "%s.version" % api.__name__)
    declared = {}
    for klass in reversed(api.__mro__):
        for name, member in vars(klass).items():
            if isinstance(member, Method):
                declared[name] = member
            elif name in declared:
                del declared[name]
    for method in declared.values():
        if not version_covers(api.version, method.since):
            raise exceptions.InvalidDeclaration(
                "%s: since=%r is not within the API's version %r (same "
                "major, not newer)" % (method.where, method.since,
                                       api.version))
    api._rpc_methods = declared


def methods_of(api):
    """The declared methods of the API class ``api``, by name."""
    return api._rpc_methods


def namespace_of(api, method):
    """The RPC namespace ``method`` of ``api`` is sent in."""
    return method.namespace if method.namespace is not None \
        else api.namespace


def describe(api):
    """The API class ``api`` as a JSON-able dict: ``api`` (class path),
    ``topic``, ``version``, ``namespace``, ``doc`` and ``methods``."""
    doc = inspect.getdoc(api) or ""
    return {"api": "%s.%s" % (api.__module__, api.__qualname__),
            "topic": api.topic, "version": api.version,
            "namespace": api.namespace,
            "doc": doc.splitlines()[0] if doc else "",
            "methods": [method.describe(namespace_of(api, method))
                        for _, method in sorted(methods_of(api).items())]}


def _signature_fields(function):
    """(name -> Field for the arguments after self and the context, return
    annotation or None)."""
    where = "RPC method %r" % function.__name__
    try:
        hints = inspect.get_annotations(function, eval_str=True)
    except Exception as exc:
        raise exceptions.InvalidDeclaration(
            "%s: cannot read its annotations: %s" % (where, exc))
    parameters = list(inspect.signature(function).parameters.values())
    if len(parameters) < 2 or any(
            p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            for p in parameters[:2]):
        raise exceptions.InvalidDeclaration(
            "%s: declare it as (self, ctxt, arguments...)" % where)
    declared = {}
    for parameter in parameters[2:]:
        if parameter.kind in (parameter.VAR_POSITIONAL,
                              parameter.VAR_KEYWORD):
            raise exceptions.InvalidDeclaration(
                "%s: *%s cannot be declared: RPC arguments are named"
                % (where, parameter.name))
        if parameter.name in _RESERVED:
            raise exceptions.InvalidDeclaration(
                "%s: argument name %r is reserved" % (where, parameter.name))
        annotation = hints.get(parameter.name, typing.Any)
        default = (fields_mod.REQUIRED if parameter.default is parameter.empty
                   else parameter.default)
        try:
            if isinstance(annotation, fields_mod.Field):
                field = annotation.with_default(default)
            else:
                field = fields_mod.Field(annotation, default=default)
        except exceptions.InvalidDeclaration as exc:
            raise exceptions.InvalidDeclaration(
                "%s, argument %r: %s" % (where, parameter.name, exc))
        declared[parameter.name] = field
    return declared, hints.get("return")
