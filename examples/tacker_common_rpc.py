"""tacker's ``tacker/common/rpc.py`` after the migration to tacker_rpc.

The whole module: what tacker's copy did is tacker_rpc's, and the three
things that were tacker's own are given to :func:`init`. tacker's code and
tests keep importing ``tacker.common.rpc`` unchanged.
(doc/migrating.rst includes this file; tools/tacker-compat.sh installs it
into tacker and runs tacker's tests on it.)
"""

from tacker_rpc import rpc as _toolkit
from tacker_rpc.rpc import *  # noqa: F401,F403 (tacker's names, same API)

#: tacker's own exception module: its exceptions reach a caller as
#: themselves, and clear_extra_exmods() keeps it.
TACKER_EXMODS = ["tacker.common.exceptions"]


def _init_args():
    # Imported here, as tacker's conductor imports this module: at module
    # level these imports would be circular.
    from tacker import context
    from tacker.objects import base as objects_base

    return {
        "context_class": context.Context,
        "allowed_exmods": TACKER_EXMODS,
        # tacker's Connection.create_consumer defaulted to it: managers
        # receive tacker objects, not their primitive dicts.
        "serializer": objects_base.TackerObjectSerializer(),
    }


def init(conf):
    """tacker's ``rpc.init``: tacker_rpc's, with tacker's context class,
    exception module and object serializer."""
    _toolkit.init(conf, **_init_args())


def init_action_rpc(conf):
    """tacker's ``rpc.init_action_rpc``, with the same additions."""
    _toolkit.init_action_rpc(conf, **_init_args())


# TRANSPORT, NOTIFICATION_TRANSPORT, NOTIFIER and RPC_DISABLED read, assigned
# and patched here are tacker_rpc.rpc's, which the toolkit uses.
_toolkit.share_state(__name__)
