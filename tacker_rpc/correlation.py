"""Request correlation: a handled request's ids follow what its handler does.

While a server made by :func:`tacker_rpc.rpc.get_server` dispatches a
request, that request's context is *current* in the handler's thread (a
``contextvars`` variable, set and restored by the toolkit, never by manager
code). What a service may rely on:

* Every call, cast and notification sent during the request through
  :class:`~tacker_rpc.serializer.RequestContextSerializer` (so by every
  client and notifier of :mod:`tacker_rpc.rpc`) whose context has no
  ``global_request_id`` gets the current request's ``global_request_id``,
  or its ``request_id`` when it has none: a manager that calls on with
  ``{}`` or with a context of its own still passes the chain's id on, and
  the server at the end of a chain A -> B -> C sees A's id. A context that
  has a ``global_request_id`` keeps it. The context given by the caller is
  never modified.
* The request context is also oslo.context's current context
  (``update_store``) while the request is handled, and the previous one is
  put back afterwards, so every line logged through oslo.log's
  ``ContextFormatter`` in the meantime shows its ``request_id`` and
  ``global_request_id`` (the default ``logging_context_format_string``
  does).
* Threads a handler starts itself do not inherit the current request.
"""

import contextvars

from oslo_context import context as oslo_context

_current = contextvars.ContextVar("tacker_rpc_current_request",
                                  default=None)


def current():
    """The context of the request this thread is handling, or None."""
    return _current.get()


class handling:
    """``with handling(deserialize, values) as ctxt``: make the request
    context ``deserialize(values)`` current for the block, in this module
    and in oslo.context.

    The context is built on entering, since building one may already store
    it as oslo.context's current: what was current before is what comes
    back after the block, even when building fails. (A class rather than a
    generator: it runs around every request a server handles.)
    """

    __slots__ = ("_deserialize", "_values", "_previous", "_token")

    def __init__(self, deserialize, values):
        self._deserialize = deserialize
        self._values = values

    def __enter__(self):
        self._previous = oslo_context.get_current()
        try:
            ctxt = self._deserialize(self._values)
            update_store = getattr(ctxt, "update_store", None)
            if update_store is not None:  # a service's own context class
                update_store()
        except BaseException:
            _restore_oslo_context(self._previous)
            raise
        self._token = _current.set(ctxt)
        return ctxt

    def __exit__(self, *exc_info):
        _current.reset(self._token)
        _restore_oslo_context(self._previous)


def _restore_oslo_context(previous):
    """Put ``previous`` (possibly None) back as oslo.context's current
    context.

    oslo.context only offers ``update_store()`` on a context, which cannot
    store "none": a handler thread would keep showing the last request's
    ids in log lines made after it. Clearing needs its thread-local store,
    ``oslo_context.context._request_store``;
    tests/unit/test_private_hooks.py fails naming it if an upgrade removes
    it.
    """
    if previous is not None:
        previous.update_store()
    else:
        oslo_context._request_store.context = None


def outgoing(values):
    """``values`` (a serialized context about to be sent) with the current
    request's global id when it has no ``global_request_id``; a copy when
    anything is added, ``values`` itself otherwise."""
    ctxt = _current.get()
    if ctxt is None or values.get("global_request_id"):
        return values
    global_id = (getattr(ctxt, "global_request_id", None)
                 or getattr(ctxt, "request_id", None))
    if not global_id:
        return values
    values = dict(values)
    values["global_request_id"] = global_id
    return values
