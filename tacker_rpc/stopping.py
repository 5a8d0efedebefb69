"""How an RPC server stops: quickly, and without a warning in the log.

What a caller may rely on, for every server :func:`tacker_rpc.rpc.get_server`
builds on RabbitMQ:

* ``stop()`` returns within about :data:`POLL_INTERVAL` seconds (plus one
  broker round trip) when the server is idle. oslo.messaging's listener
  sees a stop only between two waits for the broker, and an idle listener
  lets each wait grow to 5 s, so an idle daemon used to need up to 5 s to
  exit after SIGTERM.
* Closing the server's connection logs nothing at WARNING. oslo.messaging
  deletes a server's fanout queue while its consumer is still subscribed;
  RabbitMQ then tells the client that the consumer was cancelled, and that
  notice arrives on the channel being closed, which py-amqp reports as
  ``Received method (60, 30) during closing channel 1``. The fanout
  consumers are cancelled first, so no such notice is sent.

Both lean on oslo.messaging internals, each in one function below; should an
upgrade remove what they use, the server keeps oslo.messaging's behaviour and
a warning names what is missing.
"""

import logging

from oslo_messaging._drivers import amqpdriver
from oslo_messaging.rpc import server as om_server

LOG = logging.getLogger(__name__)

#: Longest wait, in seconds, of an idle listener for the broker before it
#: looks whether it was stopped. Each wait that ends this way costs a few
#: tens of microseconds of CPU.
POLL_INTERVAL = 0.5


def bound_listener_wait():
    """Make idle listeners wait at most :data:`POLL_INTERVAL` at a time.

    oslo.messaging's AMQP listener doubles its wait while idle, up to the
    module constant ``ACK_REQUEUE_EVERY_SECONDS_MAX`` (5 s), read at each
    wait; lowering it bounds how long ``stop()`` waits for the listener and
    how late an acknowledgement made on another thread is sent.
    """
    if not hasattr(amqpdriver, "ACK_REQUEUE_EVERY_SECONDS_MAX"):
        LOG.warning("This oslo.messaging has no "
                    "amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX; an idle RPC "
                    "server may take seconds to stop")
        return False
    amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX = min(
        amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX, POLL_INTERVAL)
    return True


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
    """oslo.messaging's RPC server, stopping quickly and quietly (see the
    module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_listener_wait()

    def _create_listener(self):
        listener = super()._create_listener()
        cancel_fanout_consumers_on_close(listener)
        return listener
