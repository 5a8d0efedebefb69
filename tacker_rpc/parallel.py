"""Many calls at once: futures and parallel batches.

What a caller may rely on:

* :func:`call_async` returns a :class:`concurrent.futures.Future` at once;
  the call runs on a shared pool of :data:`DEFAULT_MAX_WORKERS` threads,
  each call with its own timeout as ``client.call`` gives it (learned and
  backed off by a :class:`~tacker_rpc.rpc.BackingOffClient` unless the
  client or its context has an explicit one). A call waiting for a thread
  starts its timeout when it starts.
* :func:`call_parallel` runs calls (any mix of topics and methods) on a
  pool of at most ``max_workers`` threads of its own and returns, in the
  order of the requests, each one's result or the exception it raised;
  one failure cancels nothing.
* ``call_async`` is also a method of every
  :class:`~tacker_rpc.rpc.BackingOffClient` and of its prepared contexts
  (:class:`AsyncCalls`), and of declared API methods (:mod:`tacker_rpc.api`).

:mod:`tacker_rpc.each_server` calls every server of a topic.
"""

import concurrent.futures
import contextvars
import functools
import threading

#: Threads of the shared pool of :func:`call_async`, and the default bound
#: of :func:`call_parallel` and of the calls of
#: :func:`tacker_rpc.each_server.call_each_server`.
DEFAULT_MAX_WORKERS = 16

_pool = None
_pool_lock = threading.Lock()


class Call:
    """One call for :func:`call_parallel`:
    ``client.call(ctxt, method, **kwargs)`` when called."""

    __slots__ = ("client", "ctxt", "method", "kwargs")

    def __init__(self, client, ctxt, method, **kwargs):
        self.client = client
        self.ctxt = ctxt
        self.method = method
        self.kwargs = kwargs

    def __call__(self):
        return self.client.call(self.ctxt, self.method, **self.kwargs)

    def __repr__(self):
        return "Call(%s, %r)" % (self.client.target, self.method)


def submit(function):
    """Run ``function()`` on the shared pool; its Future."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = concurrent.futures.ThreadPoolExecutor(
                    DEFAULT_MAX_WORKERS, thread_name_prefix="tacker-rpc-call")
    return _pool.submit(_in_this_context(function))


def call_async(client, ctxt, method, **kwargs):
    """``client.call(ctxt, method, **kwargs)`` as a Future."""
    return submit(Call(client, ctxt, method, **kwargs))


class AsyncCalls:
    """Mixin of clients and call contexts: :meth:`call_async`."""

    def call_async(self, ctxt, method, **kwargs):
        """``self.call(ctxt, method, **kwargs)`` run on the shared pool;
        its Future (see :func:`call_async`)."""
        return submit(Call(self, ctxt, method, **kwargs))


def call_parallel(calls, max_workers=DEFAULT_MAX_WORKERS):
    """Run ``calls`` (callables without arguments, such as :class:`Call`)
    concurrently on at most ``max_workers`` threads; a list with, in the
    order of ``calls``, each one's result or the exception it raised."""
    calls = list(calls)
    if not calls:
        return []
    if max_workers < 1:
        raise ValueError("max_workers must be 1 or more, got %r"
                         % (max_workers,))
    with concurrent.futures.ThreadPoolExecutor(
            min(max_workers, len(calls)),
            thread_name_prefix="tacker-rpc-parallel") as pool:
        futures = [pool.submit(_in_this_context(call)) for call in calls]
        return [outcome(future) for future in futures]


def _in_this_context(function):
    """``function`` bound to a copy of the caller's context variables, so
    that a call made from a request handler carries the request's ids
    (:mod:`tacker_rpc.correlation`) from the pool's thread too."""
    return functools.partial(contextvars.copy_context().run, function)


def outcome(future):
    """The result of a done ``future``, or the exception it raised."""
    try:
        return future.result()
    except Exception as exc:
        return exc
