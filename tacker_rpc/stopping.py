"""How an RPC server stops: without a warning in the log.

What a caller may rely on, for every server :func:`tacker_rpc.rpc.get_server`
builds on RabbitMQ:

* ``stop()`` of an idle server waits for its listener's current wait for
  the broker, which oslo.messaging lets grow to
  ``amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX`` (5 s). That wait is left as
  it is on purpose: the listener reconnects inside it, and a wait shorter
  than ``kombu_reconnect_delay`` (1 s) leaves a server whose broker node
  went down retrying the same node for ever instead of failing over (seen
  in the three-node failover scenario with a 0.5 s bound).
* Closing the server's connection logs nothing at WARNING. oslo.messaging
  deletes a server's fanout queue while its consumer is still subscribed;
  RabbitMQ then tells the client that the consumer was cancelled, and that
  notice arrives on the channel being closed, which py-amqp reports as
  ``Received method (60, 30) during closing channel 1``. The fanout
  consumers are cancelled first, so no such notice is sent.

The second leans on oslo.messaging internals, in one function below; should
an upgrade remove what it uses, the server keeps oslo.messaging's
behaviour and a warning names what is missing.
"""

import logging

from oslo_messaging._drivers import amqpdriver
from oslo_messaging.rpc import server as om_server

LOG = logging.getLogger(__name__)


def cancel_fanout_consumers_on_close(listener):
    """Make the connection of ``listener`` (what an RPC server's
    ``_create_listener`` returns) cancel its fanout consumers before it
    closes, so that deleting their queues sends no cancel notice.

    Returns whether it did: False for a driver other than oslo.messaging's
    AMQP one (nothing to do), and, with a warning, for an oslo.messaging
    without ``listener._poll_style_listener.conn.connection._consumers``.
    """
    poll_listener = getattr(listener, "_poll_style_listener", listener)
    if not isinstance(poll_listener, amqpdriver.AMQPListener):
        return False
    conn = getattr(poll_listener, "conn", None)
    consumers = getattr(getattr(conn, "connection", None), "_consumers",
                        None)
    if not isinstance(consumers, dict):
        LOG.warning("This oslo.messaging's AMQP listener has no "
                    "conn.connection._consumers; stopping an RPC server "
                    "may log a closing-channel warning")
        return False
    close = conn.close

    def cancel_then_close():
        for consumer, tag in list(consumers.items()):
            if getattr(consumer, "type", None) != "fanout":
                continue
            try:
                consumer.cancel(tag=tag)
            except Exception as exc:  # the close that follows reports it
                LOG.debug("could not cancel fanout consumer %s: %s",
                          tag, exc)
        close()

    conn.close = cancel_then_close
    return True


class RPCServer(om_server.RPCServer):
    """oslo.messaging's RPC server, stopping quietly (see the module
    docstring)."""

    def _create_listener(self):
        listener = super()._create_listener()
        cancel_fanout_consumers_on_close(listener)
        return listener
