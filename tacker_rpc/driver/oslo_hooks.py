"""The oslo.messaging internals the lean driver leans on, one function each.

The driver must speak exactly the wire of oslo.messaging's rabbit driver and
inherit its notification path, so it reuses these instead of copying them.
``tests/unit/test_lean_driver.py`` fails naming the hook when an upgrade of
oslo.messaging removes one.
"""

from oslo_messaging._drivers import common as rpc_common
from oslo_messaging._drivers import impl_rabbit


def rabbit_driver_class():
    """oslo.messaging's rabbit driver, the base of the lean driver: options,
    notifications and notification listeners are its own, unchanged."""
    return impl_rabbit.RabbitDriver


def queue_arguments(driver_conf, ttl, quorum):
    """The ``x-...`` arguments oslo.messaging declares a queue with (HA,
    quorum and its limits, ``x-expires``), so that both drivers declare the
    same queue the same way and neither gets PRECONDITION_FAILED."""
    return impl_rabbit._get_queue_arguments(
        driver_conf.rabbit_ha_queues, ttl, quorum,
        impl_rabbit.QuorumMemConfig(
            driver_conf.rabbit_quorum_delivery_limit,
            driver_conf.rabbit_quorum_max_memory_length,
            driver_conf.rabbit_quorum_max_memory_bytes),
        False)


def serialize_failure(exc_info):
    """An exception as oslo.messaging sends it in a reply (JSON text)."""
    return rpc_common.serialize_remote_exception(exc_info)


def deserialize_failure(failure, allowed_remote_exmods):
    """A reply's failure rebuilt as oslo.messaging rebuilds it: the same
    class for allowed modules, ``RemoteError`` otherwise."""
    return rpc_common.deserialize_remote_exception(failure,
                                                   allowed_remote_exmods)


def unsupported_envelope(version):
    """The error oslo.messaging raises for an envelope version it cannot
    read."""
    return rpc_common.UnsupportedRpcEnvelopeVersion(version=version)
