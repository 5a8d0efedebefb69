"""Shared by all tests.

``tacker_rpc`` is imported before anything imports oslo.messaging, so that
oslo.service's threading backend is selected for this process, as it is in
a daemon that imports tacker_rpc first.
"""

import signal

import tacker_rpc  # noqa: F401

# A run stopped by SIGTERM (an outer timeout, CI's limit) tears down like
# one stopped by Ctrl-C: fixtures stop the RabbitMQ nodes and server
# processes they started instead of leaving them running.
signal.signal(signal.SIGTERM, signal.default_int_handler)
