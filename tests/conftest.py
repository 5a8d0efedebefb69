"""Shared by all tests.

``tacker_rpc`` is imported before anything imports oslo.messaging, so that
oslo.service's threading backend is selected for this process, as it is in
a daemon that imports tacker_rpc first.
"""

import logging
import signal

import pytest

import tacker_rpc  # noqa: F401

# A run stopped by SIGTERM (an outer timeout, CI's limit) tears down like
# one stopped by Ctrl-C: fixtures stop the RabbitMQ nodes and server
# processes they started instead of leaving them running.
signal.signal(signal.SIGTERM, signal.default_int_handler)


@pytest.fixture(autouse=True)
def root_logger_restored():
    """Undo what a test running a command in-process did to the root
    logger: ``tacker-rpc`` installs its own masking handler there, which
    would otherwise filter every later test's log records."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
