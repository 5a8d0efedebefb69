"""Shared by all tests.

The test process runs Services, as a daemon does, so it selects
oslo.service's threading backend first thing, as a daemon may
(tacker_rpc.backend); otherwise the first Service a test builds would
switch it in the middle of the run. What importing tacker_rpc alone does
is tested in fresh interpreters (tests/unit/test_import_order.py).
"""

import logging
import signal

import pytest

from tacker_rpc import backend

backend.select_threading()

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
