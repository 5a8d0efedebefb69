"""How an RPC server stops: promptly, and without a warning in the log.

What a caller may rely on, for every server :func:`tacker_rpc.rpc.get_server`
builds on RabbitMQ:

* ``stop()`` of an idle server (and of the notification listeners of
  :mod:`tacker_rpc.reqresp`) returns within :data:`STOP_CHECK_INTERVAL`
  plus the time to close its connection. oslo.messaging's listener waits
  for the broker in slices of up to 5 s
  (``amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX``) and looks whether it was
  stopped only between its socket reads, each as long as the slice; the
  reads are made shorter here, the slices are not. The slices are left as
  they are on purpose: the listener reconnects inside them, and a slice
  shorter than ``kombu_reconnect_delay`` (1 s) leaves a server whose broker
  node went down retrying the same node for ever instead of failing over
  (seen in the three-node failover scenario with a 0.5 s bound).
* Closing the server's connection logs nothing at WARNING. oslo.messaging
  deletes a server's fanout queue while its consumer is still subscribed;
  RabbitMQ then tells the client that the consumer was cancelled, and that
  notice arrives on the channel being closed, which py-amqp reports as
  ``Received method (60, 30) during closing channel 1``. The fanout
  consumers are cancelled first, so no such notice is sent.

Both lean on oslo.messaging internals, one function each below; should an
upgrade remove what they use, the server keeps oslo.messaging's behaviour
and a warning names what is missing.
"""

import logging

from oslo_messaging._drivers import amqpdriver
from oslo_messaging.rpc import server as om_server

LOG = logging.getLogger(__name__)


#: Seconds between an idle listener's looks at whether it was stopped.
STOP_CHECK_INTERVAL = 0.25


def _listener_connection(listener, needs):
    """The connection of ``listener`` (what an RPC server's
    ``_create_listener`` returns): oslo.messaging's pooled connection,
    whose ``connection`` is impl_rabbit's. None for a driver other than
    oslo.messaging's AMQP one, and, with a warning naming ``needs`` (what
    the caller looks for), for an oslo.messaging without
    ``listener._poll_style_listener.conn.connection.<needs>``."""
    poll_listener = getattr(listener, "_poll_style_listener", listener)
    if not isinstance(poll_listener, amqpdriver.AMQPListener):
        return None
    conn = getattr(poll_listener, "conn", None)
    if not hasattr(getattr(conn, "connection", None), needs):
        LOG.warning("This oslo.messaging's AMQP listener has no "
                    "conn.connection.%s; stopping an RPC server may %s",
                    needs, _WITHOUT[needs])
        return None
    return conn


_WITHOUT = {"_consumers": "log a closing-channel warning",
            "_poll_timeout": "take up to %.0f s"
            % amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX}


def check_for_stop_often(listener):
    """Make the listener read its socket for at most
    :data:`STOP_CHECK_INTERVAL` at a time (``conn.connection._poll_timeout``,
    otherwise 1 s or the heartbeat's wait), so that it sees a stop that
    soon. Returns whether it did (see :func:`_listener_connection`)."""
    conn = _listener_connection(listener, "_poll_timeout")
    if conn is None:
        return False
    conn.connection._poll_timeout = min(conn.connection._poll_timeout,
                                        STOP_CHECK_INTERVAL)
    return True


def check_started_server_for_stop_often(server):
    """:func:`check_for_stop_often` for a server oslo.messaging built
    (a notification listener, say), through its ``listener`` attribute,
    which it sets in ``start()``. Returns whether it did."""
    listener = getattr(server, "listener", None)
    if listener is None:
        LOG.warning("This oslo.messaging's started server has no "
                    "listener; stopping it may take up to %.0f s",
                    amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX)
        return False
    return check_for_stop_often(listener)


def cancel_fanout_consumers_on_close(listener):
    """Make the connection of ``listener`` cancel its fanout consumers
    before it closes (``conn.connection._consumers``), so that deleting
    their queues sends no cancel notice. Returns whether it did (see
    :func:`_listener_connection`)."""
    conn = _listener_connection(listener, "_consumers")
    if conn is None or not isinstance(conn.connection._consumers, dict):
        return False
    consumers = conn.connection._consumers
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
    """oslo.messaging's RPC server, stopping promptly and quietly (see the
    module docstring)."""

    def _create_listener(self):
        listener = super()._create_listener()
        check_for_stop_often(listener)
        cancel_fanout_consumers_on_close(listener)
        return listener
