"""Recording the notifications a test emits.

:class:`RecordingDriver` is an oslo.messaging notification driver
(registered as ``tacker_rpc.testing`` in the ``oslo.messaging.notify.drivers``
entry point group). A notifier whose ``[oslo_messaging_notifications]``
topic is registered here with :func:`record_topic` hands every notification
to that topic's recorder, synchronously, in the thread that emitted it.
"""

import threading
import typing

from oslo_messaging.notify import notifier as om_notifier

from tacker_rpc.testing import dispatch

#: The driver's name in the ``oslo.messaging.notify.drivers`` group.
DRIVER_NAME = "tacker_rpc.testing"


class Notification(typing.NamedTuple):
    """One notification, as a consumer would receive it (through JSON).

    ``priority`` is oslo.messaging's upper-case level (``"INFO"``,
    ``"ERROR"``...); ``context`` the request context as a dict, with the
    secrets oslo.messaging strips from notifications (``auth_token``)
    stripped.
    """

    event_type: str
    payload: typing.Any
    publisher_id: str
    priority: str
    context: dict


_lock = threading.Lock()
_recorders = {}


def record_topic(topic, recorder):
    """Give the notifications of notifiers on ``topic`` to
    ``recorder(notification)``; returns a function that stops it."""
    with _lock:
        _recorders[topic] = recorder

    def stop():
        with _lock:
            _recorders.pop(topic, None)
    return stop


class RecordingDriver(om_notifier.Driver):
    """Hands each notification to the recorders of its topics."""

    def notify(self, ctxt, msg, priority, retry):
        notification = Notification(
            msg["event_type"], dispatch.wire(msg["payload"]),
            msg["publisher_id"], msg["priority"], dispatch.wire(ctxt))
        with _lock:
            recorders = [_recorders[topic] for topic in self.topics
                         if topic in _recorders]
        for recorder in recorders:
            recorder(notification)
