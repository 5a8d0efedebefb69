"""The public RPC API of tacker_rpc, the one of ``tacker.common.rpc``.

A process calls :func:`init` once with its configuration, then makes
clients with :func:`get_client` and runs servers through :class:`Service`
or :func:`create_connection`. :func:`cleanup` closes everything.
:func:`get_backoff_snapshot` and :func:`add_backoff_observer` show what the
clients' backoff has learned (see doc/backoff.rst).
"""

from tacker_rpc.backoff import add_backoff_observer
from tacker_rpc.backoff import get_backoff_snapshot
from tacker_rpc.backoff import remove_backoff_observer
from tacker_rpc.client import BackingOffClient
from tacker_rpc.messaging import add_extra_exmods
from tacker_rpc.messaging import cleanup
from tacker_rpc.messaging import clear_extra_exmods
from tacker_rpc.messaging import get_allowed_exmods
from tacker_rpc.messaging import get_client
from tacker_rpc.messaging import get_notifier
from tacker_rpc.messaging import get_server
from tacker_rpc.messaging import init
from tacker_rpc.messaging import init_action_rpc
from tacker_rpc.serializer import RequestContextSerializer
from tacker_rpc.service import Connection
from tacker_rpc.service import Service
from tacker_rpc.service import VoidConnection

__all__ = [
    "BackingOffClient", "Connection", "RPC_DISABLED",
    "RequestContextSerializer", "Service", "VoidConnection",
    "add_backoff_observer", "add_extra_exmods", "cleanup",
    "clear_extra_exmods", "create_connection", "get_allowed_exmods",
    "get_backoff_snapshot", "get_client", "get_notifier", "get_server",
    "init", "init_action_rpc", "remove_backoff_observer",
]

#: Set to True in a process that must not consume RPC (for example a test
#: of an agent): :func:`create_connection` then returns a
#: :class:`VoidConnection`.
RPC_DISABLED = False


def create_connection():
    """A :class:`Connection`, or a :class:`VoidConnection` when
    :data:`RPC_DISABLED` is set."""
    if RPC_DISABLED:
        return VoidConnection()
    return Connection()
