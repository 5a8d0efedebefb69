"""Many calls at once: futures, parallel batches, every server of a topic.

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
* :func:`call_each_server` calls a method on every server of a topic
  (``topic.host``): the ``hosts`` given, or those that answer the status
  endpoint's fanout ping (:mod:`tacker_rpc.discovery`), and returns per
  host the result or the exception, all within one overall ``timeout``
  (default ``rpc_response_timeout``), discovery included. A host that does
  not answer in time gets a ``MessagingTimeout``.

Declared APIs (:mod:`tacker_rpc.api`) expose the same on their methods.
"""

import concurrent.futures
import threading
import time

import oslo_messaging

from tacker_rpc import discovery
from tacker_rpc import messaging

#: Threads of the shared pool of :func:`call_async`, and the default bound
#: of :func:`call_parallel` and :func:`call_each_server`.
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
    return _pool.submit(function)


def call_async(client, ctxt, method, **kwargs):
    """``client.call(ctxt, method, **kwargs)`` as a Future."""
    return submit(Call(client, ctxt, method, **kwargs))


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
        futures = [pool.submit(call) for call in calls]
        return [_outcome(future) for future in futures]


def call_each_server(client, ctxt, method, hosts=None, timeout=None,
                     **kwargs):
    """``client.call(ctxt, method, **kwargs)`` sent to every server of the
    client's topic; a dict host -> result or exception.

    :param hosts: the servers' names (``host`` of their Service); None
        discovers them.
    :param timeout: seconds for everything, discovery included (default:
        ``rpc_response_timeout``).
    """
    return on_each_server(
        client.target.topic,
        lambda host, seconds: client.prepare(
            server=host, timeout=seconds).call(ctxt, method, **kwargs),
        hosts, timeout)


def on_each_server(topic, call, hosts=None, timeout=None,
                   max_workers=DEFAULT_MAX_WORKERS):
    """``call(host, seconds_left)`` for every server of ``topic``, as
    :func:`call_each_server` describes; the mechanism it and declared APIs
    share."""
    if timeout is None:
        timeout = float(messaging.current_conf().rpc_response_timeout)
    if not timeout > 0:
        raise ValueError("timeout must be above 0, got %r" % (timeout,))
    deadline = time.monotonic() + timeout
    if hosts is None:
        wait = min(discovery.DEFAULT_WAIT, timeout / 2)
        hosts = [answer["host"] for answer in discovery.discover(topic, wait)]
    hosts = list(dict.fromkeys(hosts))
    if not hosts:
        return {}

    def call_host(host):
        left = deadline - time.monotonic()
        if left <= 0:
            raise _no_answer(topic, host, timeout)
        return call(host, left)

    pool = concurrent.futures.ThreadPoolExecutor(
        min(max_workers, len(hosts)), thread_name_prefix="tacker-rpc-each")
    try:
        futures = {host: pool.submit(call_host, host) for host in hosts}
        concurrent.futures.wait(futures.values(),
                                timeout=max(deadline - time.monotonic(), 0))
    finally:
        # Calls still running end at the deadline by their own timeout.
        pool.shutdown(wait=False, cancel_futures=True)
    return {host: (_outcome(future)
                   if future.done() and not future.cancelled()
                   else _no_answer(topic, host, timeout))
            for host, future in futures.items()}


def _outcome(future):
    try:
        return future.result()
    except Exception as exc:
        return exc


def _no_answer(topic, host, timeout):
    return oslo_messaging.MessagingTimeout(
        "no answer from %s.%s within %gs" % (topic, host, timeout))
