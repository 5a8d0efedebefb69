"""The public RPC API of tacker_rpc, the one of ``tacker.common.rpc``.

A process calls :func:`init` once with its configuration, then makes
clients with :func:`get_client` and runs servers through :class:`Service`
or :func:`create_connection`. :func:`cleanup` closes everything.
:func:`get_backoff_snapshot` and :func:`add_backoff_observer` show what the
clients' backoff has learned (see doc/backoff.rst).

``TRANSPORT``, ``NOTIFICATION_TRANSPORT`` and ``NOTIFIER`` are, as in the
peers' ``rpc.py``, the RPC transport, the notification transport and the
notifier :func:`init` made (None before it and after :func:`cleanup`). A
test may assign them (``rpc.TRANSPORT = mock.Mock()``, then the previous
value back) or patch them (``mock.patch.object(rpc, "TRANSPORT")``): until
the previous value is restored, :func:`get_client`, :func:`get_server`,
``Service``, ``Connection``, :func:`get_notifier` and :func:`cleanup` use
what was assigned, and the end of ``mock.patch`` restores what was there.
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
    "init", "init_action_rpc", "remove_backoff_observer", "share_state",
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


# TRANSPORT, NOTIFICATION_TRANSPORT and NOTIFIER live in
# tacker_rpc.messaging.published, which the factories read: reading,
# assigning and deleting them here goes there.


def __getattr__(name):
    try:
        return messaging.published[name]
    except KeyError:
        raise AttributeError("module %r has no attribute %r"
                             % (__name__, name)) from None


def __dir__():
    return sorted(list(globals()) + list(messaging.STATE_NAMES))


class _RpcModule(types.ModuleType):
    """This module, whose TRANSPORT, NOTIFICATION_TRANSPORT and NOTIFIER
    are the toolkit's state: what is assigned is what it uses."""

    def __setattr__(self, name, value):
        if name in _STATE_NAMES:
            messaging.published[name] = value
        else:
            super().__setattr__(name, value)

    def __delattr__(self, name):
        if name not in _STATE_NAMES:
            super().__delattr__(name)
        elif messaging.published.pop(name, _ABSENT) is _ABSENT:
            raise AttributeError(name)


_STATE_NAMES = frozenset(messaging.STATE_NAMES)
_ABSENT = object()
#: What a service's module shares with this one (share_state).
_SHARED_NAMES = _STATE_NAMES | {"RPC_DISABLED"}

sys.modules[__name__].__class__ = _RpcModule
_THIS = sys.modules[__name__]


def share_state(module_name):
    """Make the module named ``module_name`` show and take this module's
    ``TRANSPORT``, ``NOTIFICATION_TRANSPORT``, ``NOTIFIER`` and
    ``RPC_DISABLED``.

    For a service's migration module (its ``<service>/common/rpc.py``,
    which re-exports this one): its tests read, assign and patch
    ``<service>.common.rpc.TRANSPORT``... (``mock.patch.object(rpc,
    "TRANSPORT")``, ``rpc.RPC_DISABLED = True``), and the toolkit must see
    it. After ``rpc.share_state(__name__)`` at the end of that module,
    reading, assigning and deleting those names there is doing it here.

    :raises KeyError: when no module of that name is imported.
    """
    module = sys.modules[module_name]
    for name in _SHARED_NAMES:
        module.__dict__.pop(name, None)  # copied by "import *"
    module.__class__ = _SharingModule


class _SharingModule(types.ModuleType):
    """A module whose shared names are this module's (share_state)."""

    def __getattr__(self, name):
        if name in _SHARED_NAMES:
            return getattr(_THIS, name)
        raise AttributeError("module %r has no attribute %r"
                             % (self.__name__, name))

    def __setattr__(self, name, value):
        if name in _SHARED_NAMES:
            setattr(_THIS, name, value)
        else:
            super().__setattr__(name, value)

    def __delattr__(self, name):
        if name in _SHARED_NAMES:
            delattr(_THIS, name)
        else:
            super().__delattr__(name)
