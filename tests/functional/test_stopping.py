"""A Service stopped by SIGTERM exits quietly, within its listener's wait,
on RabbitMQ.

oslo.messaging's idle listener waits up to ACK_REQUEUE_EVERY_SECONDS_MAX
(5 s) for the broker before it looks whether it was stopped, and its close
made py-amqp log ``WARNING amqp Received method (60, 30) during closing
channel 1``; :mod:`tacker_rpc.stopping` cancels the fanout consumer before
its queue is deleted.
"""

import signal
import time

from oslo_messaging._drivers import amqpdriver

#: How long the servers stay idle before the stop: long enough for
#: oslo.messaging's own wait, doubling from ACK_REQUEUE_EVERY_SECONDS_MIN,
#: to reach 5 s (sum of 1 ms * 2**k for k < 13, about 8.2 s).
IDLE = sum(amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN * 2 ** k
           for k in range(13)) + 1

#: What a stop costs besides the listener's wait: cotyledon passing the
#: signal to its worker, closing two connections (a few loopback round
#: trips) and the interpreters' exit. It does not depend on how long the
#: server was idle.
TEARDOWN = 2.0


def test_sigterm_stops_idle_services_without_warning(
        start_server, topic):
    servers = [start_server(topic, host) for host in ("stop-a", "stop-b")]
    time.sleep(IDLE)
    started = time.monotonic()
    for server in servers:
        server.signal(signal.SIGTERM)
    bound = amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MAX + TEARDOWN
    for server in servers:
        assert server.wait(bound * 5) == 0, server.log()
        took = time.monotonic() - started
        assert took < bound, "exited after %.2fs (bound %.1fs):\n%s" % (
            took, bound, server.log())
        log = server.log()
        assert " WARNING " not in log, log
        assert "Caught SIGTERM" in log, log
