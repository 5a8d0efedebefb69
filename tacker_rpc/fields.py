"""Typed fields: what a named value (an RPC argument, a request field) holds.

A :class:`Field` has a type, a description and a default or none
(required). :class:`Fields` checks a mapping of values against named
fields and raises :class:`~tacker_rpc.exceptions.InvalidArguments` naming
the first field at fault. Declared RPC APIs (:mod:`tacker_rpc.api`) check
arguments with it on both sides; anything else that declares fields uses
it the same way.

One class, one name: ``tacker_rpc.fields.Field``. ``api.Field`` and
``reqresp.Field`` are the same class under the name of the module a
declaration already imports (``api.Field is reqresp.Field is
fields.Field``), not a second kind of field; the documentation writes
``Field`` and means this one.

The types a field may have are those a value keeps through JSON (what is
checked on a server is what arrived):

* ``str``, ``int`` (``True`` is not one), ``float`` (an ``int`` is one),
  ``bool``, ``dict``, ``list``, ``None``;
* ``list[T]``, ``dict[str, T]``, ``T | None``, ``Optional[T]``,
  ``Union[...]``, ``Literal[...]``;
* ``typing.Any``, and no annotation: anything;
* any other class: an ``isinstance`` check, for objects that a
  serializer turns into primitives and back (oslo.versionedobjects).

Tuples, sets, bytes and dicts whose keys are not strings are refused when
the field is declared: they do not come out of JSON as they went in.
A field whose default is ``None`` accepts ``None``.
"""

import reprlib
import types
import typing

from tacker_rpc import exceptions

#: The default of a field that has none: the field is required.
REQUIRED = object()

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlist = _short.maxdict = 4

_NOT_JSON = (tuple, set, frozenset, bytes, bytearray)
_UNIONS = (typing.Union, types.UnionType)


class Field:
    """One named value's type, description and default.

    :param type: what the value must be (see the module's list).
    :param description: one line for humans, shown by ``describe``.
    :param required: None (the default) means "required unless a default is
        given".
    :param default: the value a receiver uses when the field is absent.
    :raises InvalidDeclaration: for a type that cannot be checked or sent,
        or ``required=True`` with a default.
    """

    __slots__ = ("type", "description", "required", "default", "_problem")

    def __init__(self, type=typing.Any, description="", required=None,
                 default=REQUIRED):
        if required is None:
            required = default is REQUIRED
        elif required and default is not REQUIRED:
            raise exceptions.InvalidDeclaration(
                "a required field cannot have a default (%r)" % (default,))
        self.type = type
        self.description = description
        self.required = required
        self.default = default
        problem = _checker(type)
        if default is None and problem is not None:
            problem = _or_none(problem)
        self._problem = problem

    def with_default(self, default):
        """This field with ``default`` (a signature's), unless it has one."""
        if self.default is not REQUIRED or default is REQUIRED:
            return self
        return Field(self.type, self.description, default=default)

    def problem(self, value):
        """What is wrong with ``value`` ("" when nothing): a text such as
        ``" must be str, got int 3"`` or ``"[2] must be ..."``."""
        if self._problem is None:
            return ""
        return self._problem(value) or ""

    def describe(self):
        """``type`` (as text), ``description``, ``required`` and, when not
        required, ``default`` (as JSON when it is a scalar, else its
        repr)."""
        described = {"type": type_name(self.type),
                     "description": self.description,
                     "required": self.required}
        if not self.required:
            default = self.default
            if default is REQUIRED:
                default = None
            elif not isinstance(default, (str, int, float, bool,
                                          type(None))):
                default = repr(default)
            described["default"] = default
        return described


class Fields:
    """Named fields checked together.

    :param fields: name -> :class:`Field`, in their order.
    :param where: how errors name the owner, e.g. ``"ConductorAPI.get()"``.
    :param noun: how errors name a field, e.g. ``"argument"``.
    """

    __slots__ = ("fields", "where", "noun", "_required", "_problems")

    def __init__(self, fields, where, noun="field"):
        self.fields = dict(fields)
        self.where = where
        self.noun = noun
        self._required = tuple(name for name, field in self.fields.items()
                               if field.required)
        self._problems = {name: field._problem
                          for name, field in self.fields.items()}

    def check(self, values):
        """Raise :class:`InvalidArguments` naming the first field of
        ``values`` (a dict) that is unknown, missing or of the wrong
        type."""
        problems = self._problems
        for name, value in values.items():
            try:
                problem = problems[name]
            except KeyError:
                self._refuse(name, " is not one of %s" % self._known())
            if problem is not None:
                found = problem(value)
                if found:
                    self._refuse(name, found)
        if len(values) < len(problems):
            for name in self._required:
                if name not in values:
                    self._refuse(name, " is missing")

    def describe(self):
        """A list of each field's :meth:`Field.describe` with its
        ``name``."""
        return [dict(name=name, **field.describe())
                for name, field in self.fields.items()]

    def _known(self):
        return "(%s)" % ", ".join(self.fields) if self.fields else "(none)"

    def _refuse(self, name, problem):
        raise exceptions.InvalidArguments(
            "%s: %s %r%s" % (self.where, self.noun, name, problem),
            field=name, method=self.where)


def type_name(tp):
    """``tp`` as text: ``str``, ``list[str]``, ``str | None``, ``any``."""
    if tp is typing.Any:
        return "any"
    if tp is type(None) or tp is None:
        return "None"
    origin = typing.get_origin(tp)
    if origin in _UNIONS:
        return " | ".join(type_name(arg) for arg in typing.get_args(tp))
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in typing.get_args(tp))
    if origin is not None:
        return "%s[%s]" % (origin.__name__, ", ".join(
            type_name(arg) for arg in typing.get_args(tp)))
    if isinstance(tp, type):
        if tp.__module__ == "builtins":
            return tp.__name__
        return "%s.%s" % (tp.__module__, tp.__qualname__)
    return repr(tp)


def _got(value):
    return ", got %s %s" % (type(value).__name__, _short.repr(value))


def _checker(tp):
    """A function returning what is wrong with a value ("" or None when
    nothing), or None when any value is fine."""
    if tp is typing.Any:
        return None
    if tp is None:
        tp = type(None)
    expected = " must be %s" % type_name(tp)
    origin = typing.get_origin(tp)
    if origin in _UNIONS:
        return _union_checker(tp, expected)
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        return lambda value: (None if any(
            value == a and type(value) is type(a) for a in allowed)
            else expected + _got(value))
    if origin is list:
        return _list_checker(tp, expected)
    if origin is dict:
        return _dict_checker(tp, expected)
    if origin is not None or not isinstance(tp, type):
        raise exceptions.InvalidDeclaration(
            "type %s cannot be checked: use a class, list[T], dict[str, T], "
            "a union or Literal" % type_name(tp))
    if issubclass(tp, _NOT_JSON):
        raise exceptions.InvalidDeclaration(
            "type %s does not survive JSON: declare list or str instead"
            % type_name(tp))
    if tp is int:
        return lambda value: (None if type(value) is not bool and isinstance(
            value, int) else expected + _got(value))
    if tp is float:
        return lambda value: (None if type(value) is not bool and isinstance(
            value, (int, float)) else expected + _got(value))
    return lambda value: (None if isinstance(value, tp)
                          else expected + _got(value))


def _union_checker(tp, expected):
    members = [_checker(arg) for arg in typing.get_args(tp)]
    if any(member is None for member in members):
        return None

    def check(value):
        for member in members:
            if not member(value):
                return None
        return expected + _got(value)
    return check


def _list_checker(tp, expected):
    (item_type,) = typing.get_args(tp) or (typing.Any,)
    item = _checker(item_type)

    def check(value):
        if not isinstance(value, list):
            return expected + _got(value)
        if item is not None:
            for index, element in enumerate(value):
                found = item(element)
                if found:
                    return "[%d]%s" % (index, found)
        return None
    return check


def _dict_checker(tp, expected):
    key_type, value_type = typing.get_args(tp) or (str, typing.Any)
    if key_type is not str:
        raise exceptions.InvalidDeclaration(
            "type %s: JSON object keys are strings, declare dict[str, ...]"
            % type_name(tp))
    item = _checker(value_type)

    def check(value):
        if not isinstance(value, dict):
            return expected + _got(value)
        for key, element in value.items():
            if not isinstance(key, str):
                return " key %s must be str" % _short.repr(key)
            if item is not None:
                found = item(element)
                if found:
                    return "[%r]%s" % (key, found)
        return None
    return check


def _or_none(problem):
    return lambda value: None if value is None else problem(value)
