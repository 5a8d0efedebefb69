"""``lean-rabbit://``: oslo.messaging's RabbitMQ wire with a leaner hot path.

An oslo.messaging driver, selected by a transport URL with the scheme
``lean-rabbit`` (``transport_url = lean-rabbit://user:pass@host:5672/``),
so that every oslo.messaging API (RPCClient, RPCServer, Notifier,
notification listeners) and all of tacker_rpc work on it unchanged.

What a service may rely on:

* **Same wire** as oslo.messaging's ``rabbit`` driver for the same
  ``[oslo_messaging_rabbit]`` options (:mod:`tacker_rpc.driver.wire`): a
  plain oslo.messaging client calls a lean server and the reverse, casts
  and fanouts included, on one broker.
* **Calls** (:mod:`tacker_rpc.driver.calls`): one publish with a publisher
  confirm on a healthy link, the reply read on the calling thread; a call
  returns or raises within its timeout, connecting included; a call to a
  topic no queue is bound to waits for a server until its timeout, or
  raises :class:`tacker_rpc.exceptions.NoConsumer` at once with
  ``[oslo_messaging_rabbit] lean_rabbit_fail_fast_no_consumer``.
* **Servers** (:mod:`tacker_rpc.driver.server`): one consuming thread,
  requests passed straight to the server's executor, replies published by
  the handler's thread.
* **Inherited** from oslo.messaging's rabbit driver, unchanged: its options,
  notifications (sending and listening) and ``require_features``.
* Not supported (refused with ``InvalidConfiguration`` at start):
  ``rabbit_stream_fanout`` and ``kombu_compression``.
"""

from tacker_rpc.driver.driver import LeanRabbitDriver

__all__ = ["LeanRabbitDriver", "SCHEME"]

#: The transport URL scheme that selects the driver.
SCHEME = "lean-rabbit"
