"""The functional tests' private RabbitMQ, for tests/tacker."""

from tests.functional.conftest import broker_url  # noqa: F401
from tests.functional.conftest import rabbit_broker  # noqa: F401
