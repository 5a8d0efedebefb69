"""A Service stopped by SIGTERM exits promptly and quietly, on RabbitMQ.

oslo.messaging's idle listener reads its socket for up to
ACK_REQUEUE_EVERY_SECONDS_MAX (5 s) before it looks whether it was stopped,
and its close made py-amqp log ``WARNING amqp Received method (60, 30)
during closing channel 1``. :mod:`tacker_rpc.stopping` makes it look every
STOP_CHECK_INTERVAL and cancels the fanout consumer before its queue is
deleted.
"""

import signal
import time

from oslo_messaging._drivers import amqpdriver

from tacker_rpc import stopping

#: How long the servers stay idle before the stop: long enough for
#: oslo.messaging's own wait, doubling from ACK_REQUEUE_EVERY_SECONDS_MIN,
#: to reach 5 s (sum of 1 ms * 2**k for k < 13, about 8.2 s), where a stop
#: used to wait for the rest of it.
IDLE = sum(amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN * 2 ** k
           for k in range(13)) + 1

#: What a stop costs besides the listener's wait: cotyledon passing the
#: signal to its worker, closing two connections (a few loopback round
#: trips) and the interpreters' exit. It does not depend on how long the
#: server was idle.
TEARDOWN = 2.0


def test_sigterm_stops_idle_services_promptly_without_warning(
        start_server, topic):
    servers = [start_server(topic, host) for host in ("stop-a", "stop-b")]
    time.sleep(IDLE)
    started = time.monotonic()
    for server in servers:
        server.signal(signal.SIGTERM)
    bound = stopping.STOP_CHECK_INTERVAL + TEARDOWN
    for server in servers:
        assert server.wait(bound * 5) == 0, server.log()
        took = time.monotonic() - started
        assert took < bound, "exited after %.2fs (bound %.1fs):\n%s" % (
            took, bound, server.log())
        log = server.log()
        assert " WARNING " not in log, log
        assert "Caught SIGTERM" in log, log
