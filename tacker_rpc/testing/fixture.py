"""RPCFixture: the toolkit on the in-memory transport for one test."""

import contextlib
import threading
import uuid

import fixtures
from kombu.transport import memory as kombu_memory
from oslo_config import cfg

from tacker_rpc import backoff
from tacker_rpc import exceptions
from tacker_rpc import messaging
from tacker_rpc import opts
from tacker_rpc import rpc
from tacker_rpc.testing import notifications as recording
from tacker_rpc.testing import sends

#: oslo.messaging's in-memory transport: the real AMQP driver code (JSON on
#: the wire, remote exceptions rebuilt by the allowed modules, reply
#: queues, fanout) with kombu's in-process broker.
MEMORY_URL = "kombu+memory:////"

_NOTIFICATIONS = "oslo_messaging_notifications"


class RPCFixture(fixtures.Fixture):
    """``rpc.init`` on the in-memory transport for one test.

    Use it with ``self.useFixture(RPCFixture())`` (testtools, oslotest),
    as a context manager, or through the pytest fixture ``rpc_fixture``.

    While it is set up, clients and servers work in this process with no
    broker, exactly as on RabbitMQ; notifications are recorded in
    :attr:`notifications`. On cleanup it closes its transports and gives
    the process back what it had before, whatever the test did: the
    transports and notifier (a process that had called ``rpc.init`` gets
    its own back), learned timeouts, the ``set_max_timeout`` cap and backoff
    observers, the extra exception modules, ``rpc.RPC_DISABLED``, the option
    overrides the fixture made, and the in-memory broker's queues created
    during the test (so a message nobody consumed never reaches the next
    test). Two tests in a row never see each other's state.

    :param conf: the ``ConfigOpts`` to initialize with (default: a private
        one, reading no file). The fixture overrides on it ``transport_url``
        and, in ``[oslo_messaging_notifications]``, ``transport_url``,
        ``driver`` and ``topics``; everything else is the caller's.
    :param cast_as_call: make every ``cast()`` a call: it returns once the
        server has handled it, and what the handler raised reaches the
        caster. A fanout cast goes to one server of the topic.
    :param init_options: keyword arguments of ``rpc.init`` besides the
        configuration: the service's ``context_class``, ``serializer`` and
        ``allowed_exmods``, as its migration module gives them.

    :ivar conf: the configuration in use.
    :ivar notifications: the :class:`Notification` emitted so far, oldest
        first.
    """

    def __init__(self, conf=None, cast_as_call=False, **init_options):
        super().__init__()
        self._given_conf = conf
        self.cast_as_call = cast_as_call
        self._init_options = init_options
        self.conf = None
        self.notifications = []
        self._condition = threading.Condition()

    def _setUp(self):
        self.notifications = []
        disabled = rpc.RPC_DISABLED
        self.addCleanup(setattr, rpc, "RPC_DISABLED", disabled)
        self.addCleanup(backoff.TIMEOUTS.restore_state,
                        backoff.TIMEOUTS.save_state())
        backoff.TIMEOUTS.reset()
        self.addCleanup(messaging.swap_state, messaging.swap_state(None))
        self.addCleanup(_delete_memory_queues, _memory_queues())

        self.conf = self._given_conf or _private_conf()
        opts.register_opts(self.conf)
        topic = "tacker_rpc_testing-" + uuid.uuid4().hex
        self._override("transport_url", MEMORY_URL)
        self._override("transport_url", MEMORY_URL, _NOTIFICATIONS)
        self._override("driver", [recording.DRIVER_NAME], _NOTIFICATIONS)
        self._override("topics", [topic], _NOTIFICATIONS)
        self.addCleanup(recording.record_topic(topic, self._record))

        rpc.init(self.conf, **self._init_options)
        self.addCleanup(_cleanup_rpc)
        if self.cast_as_call:
            self.addCleanup(sends.intercept(_cast_as_call))

    def wait_for_notification(self, event_type, timeout=10.0):
        """The first notification of ``event_type``, waiting up to
        ``timeout`` seconds for it to be emitted (by a server thread, say).

        :raises AssertionError: when none came, naming those that did.
        """
        with self._condition:
            if self._condition.wait_for(
                    lambda: self._first(event_type) is not None, timeout):
                return self._first(event_type)
            seen = [n.event_type for n in self.notifications]
        raise AssertionError("no notification %r within %gs; emitted: %s"
                             % (event_type, timeout, seen or "none"))

    def _first(self, event_type):
        for notification in self.notifications:
            if notification.event_type == event_type:
                return notification
        return None

    def _record(self, notification):
        with self._condition:
            self.notifications.append(notification)
            self._condition.notify_all()

    def _override(self, name, value, group=None):
        previous = _override_of(self.conf, name, group)
        self.conf.set_override(name, value, group)
        if previous is None:
            self.addCleanup(self.conf.clear_override, name, group)
        else:
            self.addCleanup(self.conf.set_override, name, previous, group)


def _private_conf():
    conf = cfg.ConfigOpts()
    conf([], project="tacker_rpc_testing", default_config_files=[],
         default_config_dirs=[])
    return conf


def _cleanup_rpc():
    # The test may have called rpc.cleanup() itself.
    with contextlib.suppress(exceptions.NotInitializedError):
        rpc.cleanup()


def _cast_as_call(send, forward):
    if send.wait_for_reply:
        return forward(send)
    return forward(send._replace(
        target=send.target(fanout=False), wait_for_reply=True,
        timeout=float(send.transport.conf.rpc_response_timeout)))


def _override_of(conf, name, group):
    """The override ``conf`` has for an option, None when it has none.

    oslo.config has ``set_override`` and ``clear_override`` but no public
    way to read an override, which the fixture needs to put back one the
    caller had made: this reads ``ConfigOpts._get_opt_info``, an internal.
    The unit test ``test_testing_hooks`` fails naming it when it goes.
    """
    return conf._get_opt_info(name, group).get("override")


def _memory_queues():
    """Names of the queues of kombu's in-memory broker.

    kombu keeps its in-memory broker process-wide, in class attributes of
    ``kombu.transport.memory`` (``Channel.queues``, the messages, and
    ``Transport.global_state``, the bindings), internals that outlive every
    connection: a cast nobody consumed would reach the next test's server
    on that topic. The unit test ``test_testing_hooks`` fails naming them
    when an upgrade changes them.
    """
    return (set(kombu_memory.Channel.queues)
            | set(kombu_memory.Transport.global_state.queue_index))


def _delete_memory_queues(keep):
    """Delete the in-memory broker's queues, with their messages and
    bindings, except those named in ``keep`` (see :func:`_memory_queues`).
    """
    for name in _memory_queues() - keep:
        kombu_memory.Channel.queues.pop(name, None)
        kombu_memory.Transport.global_state.queue_bindings_delete(name)
