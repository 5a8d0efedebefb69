"""The public RPC API of tacker_rpc, the one of ``tacker.common.rpc``.

A process calls :func:`init` once with its configuration, then makes
clients with :func:`get_client` and runs servers through :class:`Service`
or :func:`create_connection`. :func:`cleanup` closes everything.
:func:`get_backoff_snapshot` and :func:`add_backoff_observer` show what the
clients' backoff has learned (see doc/backoff.rst).

``TRANSPORT``, ``NOTIFICATION_TRANSPORT`` and ``NOTIFIER`` are, as in the
peers' ``rpc.py``, the RPC transport, the notification transport and the
notifier :func:`init` made (None before it and after :func:`cleanup`). They
are read-only views: each read returns the current one, and assigning one
raises ``AttributeError`` (the toolkit would not use what was assigned).
"""

import sys
import types

from tacker_rpc import messaging
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


# The module state the peers expose, as views of tacker_rpc.messaging's.
_STATE_VIEWS = {
    "TRANSPORT": "_transport",
    "NOTIFICATION_TRANSPORT": "_notification_transport",
    "NOTIFIER": "_notifier",
}


def __getattr__(name):
    try:
        return getattr(messaging, _STATE_VIEWS[name])
    except KeyError:
        raise AttributeError("module %r has no attribute %r"
                             % (__name__, name)) from None


def __dir__():
    return sorted(list(globals()) + list(_STATE_VIEWS))


class _RpcModule(types.ModuleType):
    """This module, refusing assignments to its state views."""

    def __setattr__(self, name, value):
        _refuse_state_change(name)
        super().__setattr__(name, value)

    def __delattr__(self, name):
        _refuse_state_change(name)
        super().__delattr__(name)


def _refuse_state_change(name):
    if name in _STATE_VIEWS:
        raise AttributeError(
            "tacker_rpc.rpc.%s is a read-only view of what rpc.init() "
            "made; to use another transport, give init() a configuration "
            "whose transport_url names it (fake:// or kombu+memory:////), "
            "or patch an attribute of rpc.%s instead "
            "(mock.patch.object(rpc.%s, '_send'))" % (name, name, name))


sys.modules[__name__].__class__ = _RpcModule
