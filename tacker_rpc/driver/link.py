"""One py-amqp connection and channel, and the pool of them.

A :class:`Link` publishes with a publisher confirm and, for calls, consumes
its own reply queue; it is used by one thread at a time and never retries
anything itself: an error marks it broken, and the caller decides (see
:mod:`tacker_rpc.driver.calls`). :func:`connect` is the only place that
waits between connection attempts.
"""

import collections
import dataclasses
import errno
import logging
import os
import ssl
import sys
import threading
import time
import weakref

import amqp
import kombu.exceptions
import oslo_messaging
from oslo_utils import netutils

from tacker_rpc import exceptions
from tacker_rpc.driver import wire

LOG = logging.getLogger(__name__)

#: What breaks a link: socket errors and timeouts, and every AMQP error
#: (a channel error closes the channel; the link is replaced as a whole).
LINK_ERRORS = (OSError, amqp.exceptions.AMQPError)

class BrokerUnreachable(oslo_messaging.MessageDeliveryFailure,
                        kombu.exceptions.OperationalError):
    """No link within a call's or cast's ``retry``.

    A ``MessageDeliveryFailure``, as tacker_rpc raises for a call on
    either driver, and a kombu ``OperationalError``, as oslo.messaging's
    rabbit driver lets through for a cast: code written for either
    catches it.
    """


#: Seconds a polite close of a healthy link may wait for the broker before
#: the socket is dropped (a frozen broker never answers).
CLOSE_WAIT = 1.0


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a link needs from ``[oslo_messaging_rabbit]`` and the URL."""

    hosts: tuple
    virtual_host: str
    ssl: object
    login_method: str
    heartbeat: int
    heartbeat_rate: float
    interval_start: float
    interval_step: float
    interval_max: float
    direct_mandatory: bool
    missing_consumer_timeout: float
    prefetch: int
    connection_name: str

    @classmethod
    def from_conf(cls, driver_conf, url):
        hosts = tuple(
            ("%s:%d" % (netutils.escape_ipv6(host.hostname or "localhost"),
                        host.port or 5672),
             host.username or "guest", host.password or "guest")
            for host in (url.hosts or [oslo_messaging.TransportHost("")]))
        return cls(
            hosts=hosts, virtual_host=url.virtual_host or "/",
            ssl=_ssl_options(driver_conf, url),
            login_method=driver_conf.rabbit_login_method,
            heartbeat=driver_conf.heartbeat_timeout_threshold,
            heartbeat_rate=driver_conf.heartbeat_rate or 2,
            interval_start=driver_conf.rabbit_retry_interval,
            interval_step=driver_conf.rabbit_retry_backoff,
            interval_max=driver_conf.rabbit_interval_max,
            direct_mandatory=driver_conf.direct_mandatory_flag,
            missing_consumer_timeout=(
                driver_conf.kombu_missing_consumer_retry_timeout),
            prefetch=driver_conf.rabbit_qos_prefetch_count,
            connection_name="%s:%d:lean" % (os.path.basename(sys.argv[0]),
                                            os.getpid()))

    @property
    def tick_interval(self):
        """Seconds between heartbeat checks (oslo.messaging's choice: four
        per heartbeat timeout with the default rate)."""
        return self.heartbeat / self.heartbeat_rate / 2.0


_SSL_VERSIONS = {"tlsv1": "PROTOCOL_TLSv1", "tlsv1_1": "PROTOCOL_TLSv1_1",
                 "tlsv1_2": "PROTOCOL_TLSv1_2", "sslv23": "PROTOCOL_SSLv23"}


def _ssl_options(driver_conf, url):
    if not driver_conf.ssl:
        return False
    options = {}
    if driver_conf.ssl_version:
        name = _SSL_VERSIONS.get(driver_conf.ssl_version.lower())
        if name is None or not hasattr(ssl, name):
            raise exceptions.InvalidConfiguration(
                "[oslo_messaging_rabbit] ssl_version = %s: not one of %s"
                % (driver_conf.ssl_version, ", ".join(sorted(_SSL_VERSIONS))))
        options["ssl_version"] = getattr(ssl, name)
    if driver_conf.ssl_key_file:
        options["keyfile"] = driver_conf.ssl_key_file
    if driver_conf.ssl_cert_file:
        options["certfile"] = driver_conf.ssl_cert_file
    if driver_conf.ssl_ca_file:
        options["ca_certs"] = driver_conf.ssl_ca_file
        options["cert_reqs"] = ssl.CERT_REQUIRED
        if len(url.hosts) == 1:
            options["server_hostname"] = url.hosts[0].hostname
    return options or True


#: Bytes a buffered read asks the socket for at most.
READ_CHUNK = 65536


def buffer_reads(transport):
    """Make a py-amqp TCP transport read ahead.

    py-amqp's ``TCPTransport._read`` asks the socket for exactly the bytes
    it needs: three ``recv`` calls per frame, four frames per call or reply,
    each a system call that releases the GIL. Reading up to
    :data:`READ_CHUNK` bytes and keeping the rest in the transport's own
    ``_read_buffer`` (which py-amqp already consults first) reads a whole
    reply at once. TLS transports are left as they are.
    """
    if not isinstance(transport, amqp.transport.TCPTransport):
        return
    recv = transport.sock.recv
    again = (errno.EAGAIN, errno.EINTR)

    def read(n, initial=False):
        rbuf = transport._read_buffer
        if len(rbuf) < n:
            try:
                while len(rbuf) < n:
                    try:
                        chunk = recv(max(n - len(rbuf), READ_CHUNK))
                    except OSError as exc:
                        if exc.errno in again:
                            if initial and transport.raise_on_initial_eintr:
                                raise TimeoutError() from exc
                            continue
                        raise
                    if not chunk:
                        raise OSError("Server unexpectedly closed connection")
                    rbuf += chunk
            except BaseException:
                transport._read_buffer = rbuf
                raise
        transport._read_buffer = rbuf[n:]
        return rbuf[:n]

    transport._read = read


class Link:
    """A connected py-amqp connection with one confirming channel.

    Every blocking step of a method given a ``deadline`` or ``timeout``
    (opening, declaring, consuming, writing a publish, waiting for its
    confirm) waits only for what is left of it, then raises
    ``TimeoutError`` (one of :data:`LINK_ERRORS`): a broker that stops
    answering, or blocks publishers under a resource alarm, holds no caller
    past its deadline.
    """

    def __init__(self, connection, layout, deadline=None):
        self.connection = connection
        buffer_reads(connection.transport)
        self._bound(deadline)
        self.channel = connection.channel()
        self._bound(deadline)
        self.channel.confirm_select()
        self._bound(None)
        self.channel.events["basic_return"].add(self._on_return)
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        # The last publish's confirm: None while awaited, True (ack) or
        # False (nack). One publish at a time per link.
        self._confirmed = None
        self._layout = layout
        self._declared = set()
        self._returned = None
        self.broken = False
        self.reply_name = None
        self._reply_tag = None
        #: Bodies delivered on the reply queue, oldest first.
        self.replies = collections.deque()
        self._next_tick = 0.0

    # -- publishing -------------------------------------------------------

    def publish(self, exchange, routing_key, body, mandatory=False,
                expiration=None, timeout=None, silence=None):
        """Publish and wait for the broker's confirm.

        ``timeout`` bounds the whole publish (a call's deadline);
        ``silence`` instead gives up only when the broker sent nothing at
        all for that long (casts and replies: a broker that blocks
        publishers but heartbeats is kept, so a cast is not published
        twice once it unblocks).

        :param exchange: a :class:`wire.Exchange` (declared once per link)
            or None for the default exchange.
        :raises NoConsumer: a ``mandatory`` message was returned.
        :raises MessageDeliveryFailure: the broker refused (nack) it.
        :raises LINK_ERRORS: the link broke (it is marked broken), or
            ``timeout`` seconds passed (``TimeoutError``).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            name = ""
            if exchange is not None:
                self.declare_exchange(exchange, deadline)
                name = exchange.name
            self._returned = None
            self._confirmed = None
            self._bound(deadline)
            self.channel.basic_publish(
                wire.amqp_message(body, expiration), exchange=name,
                routing_key=routing_key, mandatory=mandatory)
            while self._confirmed is None:
                if silence is None:
                    self._read_method(left_of(deadline))
                else:
                    self.connection.drain_events(timeout=silence)
            if deadline is not None:
                self._bound(None)
        except LINK_ERRORS:
            self.broken = True
            raise
        if not self._confirmed:
            raise oslo_messaging.MessageDeliveryFailure(
                "the broker refused (nack) a message to exchange %r, "
                "routing key %r" % (exchange and exchange.name, routing_key))
        if self._returned is not None:
            reason, self._returned = self._returned, None
            raise exceptions.NoConsumer(name, routing_key, reason)

    def _on_ack(self, delivery_tag, multiple):
        self._confirmed = True

    def _on_nack(self, delivery_tag, multiple):
        self._confirmed = False

    def _on_return(self, exc, exchange, routing_key, message):
        self._returned = getattr(exc, "reply_text", None) or str(exc)

    # -- declaring and consuming ------------------------------------------

    def _bound(self, deadline):
        """Let the socket's next blocking operations wait until
        ``deadline`` (None: without a limit)."""
        self.connection.transport.sock.settimeout(left_of(deadline))

    def declare_exchange(self, exchange, deadline=None):
        if exchange.name in self._declared:
            return
        self._bound(deadline)
        self.channel.exchange_declare(exchange.name, exchange.type,
                                      durable=exchange.durable,
                                      auto_delete=exchange.auto_delete)
        self._declared.add(exchange.name)

    def declare_queue(self, queue, deadline=None):
        if queue.exchange is not None:
            self.declare_exchange(queue.exchange, deadline)
        self._bound(deadline)
        self.channel.queue_declare(queue.name, durable=queue.durable,
                                   auto_delete=queue.auto_delete,
                                   arguments=queue.arguments or None)
        if queue.exchange is not None:
            self._bound(deadline)
            self.channel.queue_bind(queue.name, queue.exchange.name,
                                    queue.routing_key)

    def consume(self, queue, callback, no_ack=False, deadline=None):
        """Declare ``queue`` and consume it; returns the consumer tag."""
        self.declare_queue(queue, deadline)
        self._bound(deadline)
        tag = self.channel.basic_consume(
            queue.name, callback=callback, no_ack=no_ack,
            arguments=queue.consumer_arguments)
        if deadline is not None:
            self._bound(None)
        return tag

    def use_reply_queue(self, name=None, timeout=None):
        """Consume the reply queue ``name`` (a new one by default) on this
        link, within ``timeout`` seconds; its bodies collect in
        :attr:`replies`. Returns its name."""
        if self.reply_name is None:
            name = name or "reply_" + wire.new_id()
            deadline = (None if timeout is None
                        else time.monotonic() + timeout)
            try:
                self._reply_tag = self.consume(
                    self._layout.reply_queue(name),
                    lambda message: self.replies.append(message.body),
                    no_ack=True, deadline=deadline)
            except LINK_ERRORS:
                self.broken = True
                raise
            self.reply_name = name
        return self.reply_name

    def set_prefetch(self, count):
        if count > 0:
            self.channel.basic_qos(0, count, False)

    # -- reading and keeping alive ----------------------------------------

    def drain(self, timeout, settings):
        """Process what the broker sent within ``timeout`` seconds and keep
        heartbeats flowing. Returns False when nothing came."""
        try:
            try:
                self._read_method(timeout)
                came = True
            except TimeoutError:
                came = False
            now = time.monotonic()
            if settings.heartbeat and now >= self._next_tick:
                self._next_tick = now + settings.tick_interval
                self.connection.heartbeat_tick(rate=settings.heartbeat_rate)
            return came
        except LINK_ERRORS:
            self.broken = True
            raise

    def _read_method(self, timeout):
        """Process frames until a whole method has come, ``timeout``
        seconds at most in all (None: without a limit).

        py-amqp's ``drain_events`` and ``Channel.wait`` give each frame the
        whole timeout again, so the heartbeats a broker keeps sending while
        it blocks publishers (a memory alarm) would extend a wait without
        end.

        :raises TimeoutError: no whole method within ``timeout``.
        """
        read = self.connection.blocking_read
        if timeout is None:
            while not read(None):
                pass
            return
        end = time.monotonic() + timeout
        while not read(timeout):
            timeout = end - time.monotonic()
            if timeout <= 0:
                raise TimeoutError("nothing from the broker within the "
                                   "time left")

    def keep_alive(self, settings):
        """Heartbeat an idle link and drop stale replies it received."""
        try:
            self.drain(0.001, settings)
        except LINK_ERRORS as exc:
            LOG.info("an idle broker connection broke: %s", exc)
        self.replies.clear()

    def close(self):
        """Close politely (a healthy link deletes its reply queue), or drop
        the socket of a broken one."""
        if not self.broken:
            try:
                self._bound(time.monotonic() + CLOSE_WAIT)
                if self.reply_name is not None:
                    self.channel.basic_cancel(self._reply_tag)
                    self.channel.queue_delete(self.reply_name)
                self.connection.close()
                return
            except LINK_ERRORS as exc:
                LOG.debug("closing a broker connection: %s", exc)
        try:
            self.connection.collect()
        except Exception as exc:  # the socket is gone either way
            LOG.debug("dropping a broken broker connection: %s", exc)


def connect(settings, layout, deadline=None, retry=None, stopped=None):
    """A new :class:`Link`, trying the hosts in turn with the driver's
    reconnection intervals.

    :param deadline: ``time.monotonic()`` value after which to give up with
        ``MessagingTimeout`` (None: no deadline).
    :param retry: None or negative: retry until the deadline; N: give up
        after N retries with :class:`BrokerUnreachable`.
    :param stopped: an Event that ends the attempts (returns None).
    """
    attempt = 0
    while True:
        host, userid, password = settings.hosts[attempt % len(settings.hosts)]
        try:
            connection = amqp.Connection(
                host=host, userid=userid, password=password,
                virtual_host=settings.virtual_host, ssl=settings.ssl,
                login_method=settings.login_method,
                heartbeat=settings.heartbeat, connect_timeout=_bounded(
                    settings.heartbeat or 60, deadline),
                client_properties={
                    "capabilities": {"authentication_failure_close": True,
                                     "connection.blocked": True,
                                     "consumer_cancel_notify": True},
                    "connection_name": settings.connection_name})
            connection.connect()
        except LINK_ERRORS as exc:
            error = exc
        else:
            try:
                return Link(connection, layout, deadline)
            except LINK_ERRORS as exc:
                connection.collect()
                error = exc
        attempt += 1
        if retry is not None and 0 <= retry < attempt:
            raise BrokerUnreachable(
                "cannot connect to the message broker at %s after %d "
                "attempt(s): %s: %s" % (host, attempt, type(error).__name__,
                                        error))
        interval = min(settings.interval_start
                       + settings.interval_step * (attempt - 1),
                       settings.interval_max)
        LOG.error("AMQP server on %s is unreachable: %s: %s. Trying again "
                  "in %.1f seconds.", host, type(error).__name__, error,
                  interval)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise oslo_messaging.MessagingTimeout(
                    "no connection to the message broker within the call's "
                    "timeout (last error at %s: %s: %s)"
                    % (host, type(error).__name__, error))
            interval = min(interval, left)
        if stopped is not None:
            if stopped.wait(interval):
                return None
        else:
            time.sleep(interval)


def left_of(deadline):
    """Seconds until ``deadline`` (at least a millisecond), or None."""
    if deadline is None:
        return None
    return max(0.001, deadline - time.monotonic())


def _bounded(seconds, deadline):
    if deadline is None:
        return seconds
    return max(0.001, min(seconds, deadline - time.monotonic()))


class Pool:
    """Idle links, the most recently used handed out first, and a thread
    that keeps the idle ones alive with heartbeats.

    The thread starts with the first idle link, and again in a forked
    child (oslo.service forks workers after the transport exists), where
    the parent's links are forgotten, not closed: their sockets are the
    parent's.
    """

    def __init__(self, settings, layout, max_idle):
        self.settings = settings
        self._layout = layout
        self._max_idle = max_idle
        self._idle = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._keeper = None
        pool = weakref.ref(self)
        os.register_at_fork(
            after_in_child=lambda: pool() and pool()._forget_parent())

    def _forget_parent(self):
        self._lock = threading.Lock()
        self._idle = []
        self._keeper = None

    def _start_keeper(self):
        # With self._lock held.
        if self.settings.heartbeat > 0:
            self._keeper = threading.Thread(target=self._keep_alive,
                                            name="lean-rabbit-heartbeat",
                                            daemon=True)
            self._keeper.start()

    def get(self, deadline=None, retry=None):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return connect(self.settings, self._layout, deadline, retry)

    def put(self, link):
        if not link.broken:
            with self._lock:
                if (len(self._idle) < self._max_idle
                        and not self._closed.is_set()):
                    self._idle.append(link)
                    if self._keeper is None:
                        self._start_keeper()
                    return
        link.close()

    def close(self):
        self._closed.set()
        if self._keeper is not None:
            self._keeper.join()
        with self._lock:
            idle, self._idle = self._idle, []
        for link in idle:
            link.close()

    def _keep_alive(self):
        while not self._closed.wait(self.settings.tick_interval):
            with self._lock:
                candidates = list(self._idle)
            for link in candidates:
                with self._lock:
                    if link not in self._idle:
                        continue
                    self._idle.remove(link)
                link.keep_alive(self.settings)
                if link.broken:
                    link.close()
                    continue
                with self._lock:
                    self._idle.insert(0, link)
