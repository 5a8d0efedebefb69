"""Health checks a manager declares, run by the status endpoint's ``ping``.

A manager marks methods that take no argument besides ``self`` with
:func:`check`; each returns how one thing it depends on is doing::

    from tacker_rpc import health

    class Conductor:
        @health.check
        def database(self):
            if not self.db.ping():
                return health.ERROR, "database unreachable"
            return health.OK, "%d connections" % self.db.size

What a service may rely on:

* ``ping`` (:mod:`tacker_rpc.status`) runs every check of the manager, in
  name order, each time it is asked, in the thread answering it, and
  reports each one's ``name``, ``status`` (:data:`OK`, :data:`WARNING` or
  :data:`ERROR`), ``detail`` and ``seconds``, plus a ``verdict``: the
  worst status, ``ok`` without checks. ``tacker-rpc ping`` prints them and
  exits non-zero on an ``error`` verdict; ``tacker-rpc doctor`` reports
  them as a step per server.
* A check may return a status, a ``(status, detail)`` pair, a
  :class:`Result`, or None (ok). A check that raises, or returns anything
  else, is an ``error`` whose detail names the exception or the value;
  the other checks still run and the server keeps serving.
* Checks should be quick: ``ping`` waits for them, and its caller waits
  for ``ping``.
"""

import time
import typing

OK, WARNING, ERROR = "ok", "warning", "error"
_SEVERITY = {OK: 0, WARNING: 1, ERROR: 2}
_MARK = "_tacker_rpc_health_check"


class Result(typing.NamedTuple):
    """What a check found: a status and a line of detail."""

    status: str
    detail: str = ""


def check(method=None, *, name=None):
    """Mark a manager method as a health check, named ``name`` (default:
    the method's name). Usable as ``@check`` or ``@check(name=...)``."""
    def mark(function):
        setattr(function, _MARK, name or function.__name__)
        return function
    return mark if method is None else mark(method)


def is_check(method):
    """Whether ``method`` (a function or bound method) is marked as a
    check; ``describe`` leaves checks out of the remotely callable
    methods."""
    return getattr(method, _MARK, None) is not None


def checks_of(manager):
    """The bound check methods of ``manager``, as ``(name, method)`` pairs
    sorted by name."""
    found = []
    if manager is None:
        return found
    for attribute in dir(type(manager)):
        function = getattr(type(manager), attribute, None)
        name = getattr(function, _MARK, None)
        if name is not None:
            found.append((name, getattr(manager, attribute)))
    return sorted(found)


def run_checks(manager):
    """Run the checks of ``manager``; a dict with ``verdict`` and
    ``checks`` (a list of ``name``, ``status``, ``detail``, ``seconds``)."""
    results = []
    for name, method in checks_of(manager):
        started = time.monotonic()
        result = _run_one(method)
        results.append({"name": name, "status": result.status,
                        "detail": result.detail,
                        "seconds": round(time.monotonic() - started, 3)})
    return {"verdict": verdict(r["status"] for r in results),
            "checks": results}


def verdict(statuses):
    """The worst of ``statuses``; ``ok`` when there is none."""
    return max(statuses, key=_SEVERITY.__getitem__, default=OK)


def _run_one(method):
    try:
        value = method()
    except Exception as exc:
        return Result(ERROR, "check raised %s: %s"
                      % (type(exc).__name__, exc))
    if value is None:
        return Result(OK)
    if isinstance(value, str):
        value = (value,)
    if (isinstance(value, tuple) and 1 <= len(value) <= 2
            and value[0] in _SEVERITY):
        return Result(value[0], str(value[1]) if len(value) == 2 else "")
    return Result(ERROR, "check returned %r; expected ok, warning or "
                         "error, optionally with a detail" % (value,))
