"""The serializer that carries request contexts and checks payloads."""

import datetime
import uuid

import oslo_messaging

from tacker_rpc import context
from tacker_rpc import correlation
from tacker_rpc import exceptions

# Types JSON (through oslo.serialization's to_primitive) sends faithfully.
_SCALARS = frozenset((str, int, float, bool, type(None)))
_CONVERTED = (datetime.datetime, datetime.date, uuid.UUID)


def check_sendable(value, where="value"):
    """Raise :class:`SerializationError` unless ``value`` travels as JSON.

    oslo.messaging turns any object it does not know into its ``str()``
    without a word, so the server would receive ``'<Foo object at 0x..>'``.
    This refuses such values up front; the message says where in ``value``
    the offending object is (for example ``value['hosts'][2]``).
    """
    # Every call checks its context, arguments and result, so the common
    # case (plain dicts, lists and scalars) takes a walk that builds no
    # location strings; anything else gets the descriptive walk.
    if not _plainly_sendable(value):
        _check_described(value, where)


def _plainly_sendable(value):
    """True when ``value`` is made only of exact dicts with scalar keys,
    lists, tuples and scalars; False means "look closer", not "refuse"."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) not in _SCALARS or (
                    type(item) not in _SCALARS
                    and not _plainly_sendable(item)):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if type(item) not in _SCALARS and not _plainly_sendable(item):
                return False
        return True
    return False


def _check_described(value, where):
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is dict or isinstance(value, dict):
        for key, item in value.items():
            if type(key) not in _SCALARS:
                raise exceptions.SerializationError(
                    "%s has a key of type %s; JSON keys must be strings"
                    % (where, type(key).__name__))
            _check_described(item, "%s[%r]" % (where, key))
        return
    if kind in (list, tuple, set, frozenset) or isinstance(
            value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            _check_described(item, "%s[%d]" % (where, index))
        return
    if isinstance(value, (str, int, float) + _CONVERTED):
        return
    raise exceptions.SerializationError(
        "%s is of type %s, which cannot be sent as JSON; convert it to "
        "primitives (dict, list, str, number, bool, None) or give the "
        "client a serializer that does" % (where, kind.__name__))


#: What a base serializer must have: oslo.messaging's Serializer interface.
SERIALIZER_METHODS = ("serialize_entity", "deserialize_entity",
                      "serialize_context", "deserialize_context")


class RequestContextSerializer(oslo_messaging.Serializer):
    """Serialize request contexts, and entities through ``base``.

    * ``serialize_context`` accepts a context with ``to_dict()`` or a plain
      dict and returns a dict.
    * ``deserialize_context`` returns an instance of ``context_class``:
      :class:`tacker_rpc.context.RequestContext` by default (tolerant of
      unknown and legacy keys), or the service's own class, built by its
      ``from_dict(values)`` (tacker's ``Context``, nova's
      ``RequestContext``...).
    * While a server handles a request, a context sent without
      ``global_request_id`` gets the request's (see
      :mod:`tacker_rpc.correlation`).
    * Entities go through ``base`` when given, unchanged otherwise; what is
      sent must then be JSON-able, or :class:`SerializationError` is raised
      before anything leaves the process.

    :param base: any object with ``serialize_entity``,
        ``deserialize_entity``, ``serialize_context`` and
        ``deserialize_context`` (an ``oslo_messaging.Serializer`` or not);
        only its entity methods are used.
    :param context_class: a class with a ``from_dict`` class method; None
        means :class:`tacker_rpc.context.RequestContext`.
    :raises TypeError: naming what ``base`` or ``context_class`` lacks.
    """

    def __init__(self, base=None, context_class=None):
        if base is not None:
            missing = [name for name in SERIALIZER_METHODS
                       if not callable(getattr(base, name, None))]
            if missing:
                raise TypeError(
                    "base serializer %s has no %s; it needs the methods of "
                    "oslo_messaging.Serializer"
                    % (type(base).__name__, ", ".join(missing)))
        if context_class is None:
            context_class = context.RequestContext
        elif not callable(getattr(context_class, "from_dict", None)):
            raise TypeError(
                "context_class %r has no from_dict(values) to build a "
                "context from the dict that travels" % (context_class,))
        self._base = base
        self._context_class = context_class
        self._foreign = not (isinstance(context_class, type) and issubclass(
            context_class, context.RequestContext))

    @property
    def context_class(self):
        """The class :meth:`deserialize_context` builds."""
        return self._context_class

    def serialize_entity(self, ctxt, entity):
        if self._base is not None:
            entity = self._base.serialize_entity(ctxt, entity)
        check_sendable(entity)
        return entity

    def deserialize_entity(self, ctxt, entity):
        if self._base is None:
            return entity
        return self._base.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt):
        values = correlation.outgoing(context.to_dict(ctxt))
        check_sendable(values, "context")
        return values

    def deserialize_context(self, ctxt):
        """An instance of ``context_class`` built from ``ctxt``.

        :raises InvalidContext: when ``ctxt`` is not a dict, or the
            class's ``from_dict`` refuses it (for the toolkit's class, a
            field that would break the server; see
            :meth:`tacker_rpc.context.RequestContext.from_dict`).
        """
        if not self._foreign:
            return self._context_class.from_dict(ctxt)
        context.require_dict(ctxt)
        try:
            return self._context_class.from_dict(ctxt)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise exceptions.InvalidContext(
                "%s.from_dict refused the request context: %s: %s"
                % (getattr(self._context_class, "__qualname__",
                           self._context_class), type(exc).__name__,
                   exc)) from exc
