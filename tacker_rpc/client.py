"""BackingOffClient: an oslo.messaging RPC client whose timeouts adapt.

This module is the mechanism; :mod:`tacker_rpc.backoff` decides the
timeouts.
"""

import time

import oslo_messaging
from oslo_messaging._drivers import common as rpc_common
from oslo_messaging.rpc import client as om_client

from tacker_rpc import backoff
from tacker_rpc import deadline
from tacker_rpc import exceptions
from tacker_rpc import middleware as rpc_middleware
from tacker_rpc import opts
from tacker_rpc import parallel
from tacker_rpc import redact
from tacker_rpc import serializer as rpc_serializer


class _BackingOffCallContext(parallel.AsyncCalls, om_client._CallContext):
    """A prepared call context whose calls learn their timeout.

    When the context has no explicit timeout, :meth:`call` reads the
    backoff options as they are now, asks the shared
    :data:`backoff.TIMEOUTS` table for the method's timeout, makes the call
    within that deadline (publishing included, see
    :mod:`tacker_rpc.deadline`), reports the outcome, and after a
    ``MessagingTimeout`` pauses for the splay before re-raising. A context
    with an explicit timeout behaves exactly like oslo.messaging's.
    """

    _timeouts = backoff.TIMEOUTS
    _middleware = ()

    def prepare(self, *args, **kwargs):
        return _backing_off(super().prepare(*args, **kwargs),
                            self._middleware)

    def _make_message(self, ctxt, method, args):
        try:
            return super()._make_message(ctxt, method, args)
        except exceptions.SerializationError:
            raise exceptions.SerializationError(
                "cannot send %r to %s: %s"
                % (method, self.target, _unsendable_argument(args))) from None

    def call(self, ctxt, method, **kwargs):
        _connect_within_retry(self.transport, self.retry)
        if self.timeout is not None:
            return super().call(ctxt, method, **kwargs)
        settings = opts.backoff_settings(self.conf)
        table = self._timeouts
        key = backoff.CallKey(self.target.topic, self.target.namespace,
                              method)
        attempt = table.start_call(key, settings)
        started = time.monotonic()
        # Straight to oslo.messaging's call: the checks above are done.
        call = super(_BackingOffCallContext, _with_timeout(
            self, attempt.timeout)).call
        try:
            result = deadline.call_within(
                self.transport, lambda: call(ctxt, method, **kwargs),
                attempt.timeout)
        except exceptions.NoConsumer:
            # lean-rabbit's fail-fast answer: nothing about latency.
            raise
        except oslo_messaging.MessagingTimeout:
            _pause_after_timeout(table, key, attempt, settings)
            raise
        except Exception as exc:
            passed = deadline.expired_as_timeout(exc)
            if passed is None:
                raise
            _pause_after_timeout(table, key, attempt, settings)
            raise passed from None
        table.record_success(key, time.monotonic() - started, settings,
                             measured=attempt.measured)
        return result


def _pause_after_timeout(table, key, attempt, settings):
    splay = table.record_timeout(key, attempt.timeout, settings)
    if splay:
        time.sleep(splay)


def _connect_within_retry(transport, retry):
    """Fail a bounded call that cannot reach the broker instead of hanging.

    oslo.messaging opens the connection its replies arrive on, at the first
    call of a transport, with unlimited retries whatever the call's
    ``retry``: a broker that refuses the client (a TLS certificate it does
    not trust, a wrong password) blocks that call forever. Before the first
    call with ``retry`` set, this opens a sending connection with that
    ``retry``; it stays in the transport's pool for the call to use.

    :raises MessageDeliveryFailure: naming the broker's error (for example
        ``CERTIFICATE_VERIFY_FAILED``) when no connection could be opened.
    """
    driver = getattr(transport, "_driver", None)
    unbounded = retry is None or retry < 0
    if unbounded or getattr(driver, "_reply_q", True) is not None:
        return
    try:
        with driver._get_connection(rpc_common.PURPOSE_SEND, retry):
            pass
    except Exception as exc:
        raise oslo_messaging.MessageDeliveryFailure(
            "cannot connect to the message broker (retry=%s): %s: %s"
            % (retry, type(exc).__name__, redact.mask_url(exc))) from exc


class _ObservedCallContext(_BackingOffCallContext):
    """A backing-off call context whose calls and casts run through its
    ``_middleware`` (see :mod:`tacker_rpc.middleware`)."""

    def call(self, ctxt, method, **kwargs):
        return self._observed("call", super().call, ctxt, method, kwargs)

    def cast(self, ctxt, method, **kwargs):
        return self._observed("cast", super().cast, ctxt, method, kwargs)

    def _observed(self, call_type, send, ctxt, method, kwargs):
        request = rpc_middleware.Request(rpc_middleware.CLIENT, call_type,
                                         ctxt, self.target, method, kwargs)
        return rpc_middleware.run(
            self._middleware, request,
            lambda r: send(r.context, r.method, **r.args))


def _backing_off(call_context, middleware):
    if middleware:
        call_context.__class__ = _ObservedCallContext
        call_context._middleware = middleware
    else:
        call_context.__class__ = _BackingOffCallContext
    return call_context


def _with_timeout(call_context, timeout):
    """A copy of ``call_context`` with an explicit ``timeout``.

    A copy, so that a context shared by threads is never mutated.
    """
    attempt = object.__new__(type(call_context))
    attempt.__dict__.update(call_context.__dict__)
    attempt.timeout = timeout
    return attempt


def check_target(target):
    """Raise TypeError unless ``target`` is an ``oslo_messaging.Target``."""
    if not isinstance(target, oslo_messaging.Target):
        raise TypeError("target must be an oslo_messaging.Target, got %s"
                        % type(target).__name__)


def _unsendable_argument(args):
    for name, value in args.items():
        try:
            rpc_serializer.check_sendable(value, "argument %s" % name)
        except exceptions.SerializationError as exc:
            return str(exc)
    return "an argument could not be serialized"


class BackingOffClient(parallel.AsyncCalls, oslo_messaging.RPCClient):
    """An oslo.messaging RPC client that backs off busy servers.

    It has the whole interface of :class:`oslo_messaging.RPCClient`. What a
    caller may rely on, beyond it:

    * A ``call()`` made without an explicit timeout (none given to
      ``prepare(timeout=...)`` nor to this client's ``timeout`` argument)
      uses a timeout learned for its target topic, namespace and method,
      starting at ``rpc_response_timeout``.
    * After a ``MessagingTimeout`` that timeout doubles, up to
      ``rpc_response_max_timeout`` (default ten times
      ``rpc_response_timeout``) and the cap of :meth:`set_max_timeout`; the
      caller sleeps a random splay, at most the smaller of the expired
      timeout, ``rpc_response_timeout`` and ``rpc_backoff_max_splay``, and
      then gets the ``MessagingTimeout``.
    * Unless ``rpc_backoff_recovery`` is off, answers bring a grown timeout
      back down toward ``rpc_backoff_latency_multiple`` times the method's
      measured latency (RFC 6298 estimate) and never below
      ``rpc_response_timeout``; the rules are in :mod:`tacker_rpc.backoff`
      and doc/backoff.rst.
    * Other exceptions change nothing; a context with an explicit timeout is
      never changed and never sleeps; ``cast()`` is never delayed.
    * ``call_async(ctxt, method, **kwargs)`` (here and on prepared
      contexts) returns a ``concurrent.futures.Future`` of the call, run on
      a shared bounded pool (:mod:`tacker_rpc.parallel`).
    * A call with ``retry`` set (not None nor negative) fails with
      ``MessageDeliveryFailure`` naming the broker's error when no
      connection can be opened within that many retries, the first call of
      the process included.
    * What is learned is shared by every client of the process and is safe
      with any number of threads calling at once;
      :func:`tacker_rpc.rpc.get_backoff_snapshot` shows it and
      :func:`tacker_rpc.rpc.add_backoff_observer` reports every change.
    * The backoff options (``rpc_response_timeout``,
      ``rpc_response_max_timeout``, ``rpc_backoff_*``) are read at every
      call: ``set_override``, ``clear_override`` and reloaded or mutated
      configuration files take effect on the next call. An unusable value
      raises ``InvalidConfiguration`` naming the option, when the client
      is built or at the call after it was set.
    * ``rpc_response_timeout = 0`` means, as in oslo.messaging, that calls
      do not wait for an answer: they raise ``MessagingTimeout`` at once,
      nothing grows and no caller pauses. Casts are unaffected.
    * Deadline: a backed-off call returns or raises within its timeout plus
      the splay, the time spent connecting, publishing and reconnecting
      included, whatever the broker or the link to it does (frozen,
      blocking publishers, silent); while the broker does not respond it
      may end up to one reconnection pause
      (:func:`tacker_rpc.deadline.reconnect_pause_bound`) past its deadline,
      and then raises :class:`tacker_rpc.deadline.DeadlinePassed`, a
      ``MessagingTimeout``. See :mod:`tacker_rpc.deadline`.
    * Its calls and casts run through the process's client middleware
      installed when it was built, then ``middleware`` (a list), as
      :mod:`tacker_rpc.middleware` describes.
    """

    def __init__(self, transport, target, timeout=None, version_cap=None,
                 serializer=None, retry=None, call_monitor_timeout=None,
                 transport_options=None, _manual_load=True, middleware=None):
        check_target(target)
        opts.register_opts(transport.conf)
        super().__init__(transport, target, timeout=timeout,
                         version_cap=version_cap, serializer=serializer,
                         retry=retry,
                         call_monitor_timeout=call_monitor_timeout,
                         transport_options=transport_options,
                         _manual_load=_manual_load)
        # Refuse unusable options now rather than at the first call.
        opts.backoff_settings(self.conf)
        deadline.install(transport)
        self._middleware = rpc_middleware.chain(rpc_middleware.CLIENT,
                                                middleware)

    def prepare(self, *args, **kwargs):
        """Prepare a method invocation context.

        Takes the arguments of :meth:`oslo_messaging.RPCClient.prepare`. The
        context backs off as described on the class unless ``timeout`` is
        given here or to the client.
        """
        return _backing_off(super().prepare(*args, **kwargs),
                            self._middleware)

    @staticmethod
    def set_max_timeout(max_timeout):
        """Cap the timeout of every backing-off call in this process.

        Current timeouts above ``max_timeout`` drop to it, lower ones are
        kept, and no timeout grows past it afterwards.

        :raises ValueError: when ``max_timeout`` is 0 or less.
        """
        backoff.TIMEOUTS.set_max_timeout(max_timeout)
