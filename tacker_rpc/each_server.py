"""Ask every server of a topic: the "call every agent" pattern.

What a caller may rely on: :func:`call_each_server` calls a method on every
server of a topic (``topic.host``): the ``hosts`` given, or those that
answer the status endpoint's fanout ping (:mod:`tacker_rpc.discovery`),
concurrently on at most :data:`tacker_rpc.parallel.DEFAULT_MAX_WORKERS`
threads, and returns per host the result or the exception, all within one
overall ``timeout`` (default ``rpc_response_timeout``), discovery included.
A host that does not answer in time gets a ``MessagingTimeout``. Declared
API methods (:mod:`tacker_rpc.api`) have the same as ``each_server``.
"""

import concurrent.futures
import time

import oslo_messaging

from tacker_rpc import discovery
from tacker_rpc import messaging
from tacker_rpc import parallel


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
                   max_workers=parallel.DEFAULT_MAX_WORKERS):
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
    return {host: (parallel.outcome(future)
                   if future.done() and not future.cancelled()
                   else _no_answer(topic, host, timeout))
            for host, future in futures.items()}


def _no_answer(topic, host, timeout):
    return oslo_messaging.MessagingTimeout(
        "no answer from %s.%s within %gs" % (topic, host, timeout))
