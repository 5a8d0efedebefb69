"""Direct AMQP access to the broker of a transport URL, through kombu.

oslo.messaging hides queues; ``doctor`` inspects them and ``ping --all``
removes the temporary ones it made, so both talk AMQP here.
"""

import amqp.exceptions
import kombu
import oslo_messaging

DEFAULT_PORT = 5672
#: Seconds a TCP connection or an AMQP login may take.
CONNECT_TIMEOUT = 5.0
#: oslo.messaging drivers that talk AMQP 0-9-1 to RabbitMQ.
RABBIT_DRIVERS = ("rabbit", "kombu")
#: Those and the lean one, whose queues are named as the rabbit driver
#: names them (it replaces the RPC path only; its notifications are the
#: rabbit driver's).
ALL_RABBIT_DRIVERS = RABBIT_DRIVERS + ("lean-rabbit",)


def parse(conf):
    """``(driver, vhost, hosts)`` of the ``transport_url`` of ``conf``.

    ``hosts`` are ``oslo_messaging.TransportHost`` with their port filled
    in; a URL without host means RabbitMQ's defaults, as oslo.messaging
    reads it.

    :raises oslo_messaging.InvalidTransportURL: when the URL is malformed.
    """
    url = oslo_messaging.TransportURL.parse(conf, conf.transport_url)
    hosts = [oslo_messaging.TransportHost(
        hostname=host.hostname or "localhost",
        port=host.port or DEFAULT_PORT, username=host.username,
        password=host.password) for host in url.hosts]
    if not hosts:
        hosts = [oslo_messaging.TransportHost(
            hostname="localhost", port=DEFAULT_PORT, username="guest",
            password="guest")]
    return url.transport, url.virtual_host or "/", hosts


def address(host):
    return "%s:%s" % (host.hostname, host.port)


class BrokerProblem(Exception):
    """A broker host cannot be used; the message says why, in one line."""


def connect(host, vhost):
    """An AMQP connection to ``host``, logged in on ``vhost``.

    :raises BrokerProblem: when the host is unreachable, refuses the login
        or the vhost, or fails the handshake.
    """
    conn = kombu.Connection(
        hostname=host.hostname, port=host.port, userid=host.username,
        password=host.password, virtual_host=vhost, transport="pyamqp",
        connect_timeout=CONNECT_TIMEOUT)
    try:
        conn.ensure_connection(max_retries=0,
                               reraise_as_library_errors=False)
    except amqp.exceptions.AccessRefused:
        raise BrokerProblem("login refused for user %r on vhost %r"
                            % (host.username, vhost))
    except amqp.exceptions.NotAllowed:
        raise BrokerProblem("user %r may not use vhost %r (or it does not "
                            "exist)" % (host.username, vhost))
    except OSError as exc:
        raise BrokerProblem("broker %s is unreachable: %s" % (
            address(host), exc.strerror or str(exc) or type(exc).__name__))
    except Exception as exc:
        raise BrokerProblem("AMQP handshake with %s failed: %s"
                            % (address(host), exc))
    finally:
        if not conn.connected:
            conn.release()
    return conn


def first_connection(conf, drivers=RABBIT_DRIVERS):
    """A connection to the first host of ``conf``'s RabbitMQ that accepts
    a login, or None when the transport's driver is not one of
    ``drivers``.

    oslo.messaging retries a connection forever; checking first lets a
    command fail at once with the reason.

    :raises BrokerProblem: with the first host's problem when none works.
    """
    driver, vhost, hosts = parse(conf)
    if driver not in drivers:
        return None
    problems = []
    for host in hosts:
        try:
            return connect(host, vhost)
        except BrokerProblem as exc:
            problems.append(exc)
    raise problems[0]


def delete_queues(conf, names):
    """Delete the queues ``names`` from ``conf``'s RabbitMQ; nothing when
    the transport is not RabbitMQ.

    :raises BrokerProblem: when no broker host can be used.
    """
    conn = first_connection(conf)
    if conn is None:
        return
    try:
        channel = conn.channel()
        for name in names:
            channel.queue_delete(queue=name)
    finally:
        conn.release()


def queue_state(conf, queue, drivers=RABBIT_DRIVERS):
    """``(messages, consumers)`` of ``queue`` on ``conf``'s RabbitMQ:
    messages waiting, not yet delivered to any consumer (those delivered
    and not acknowledged are not counted), and consumers; ``(0, 0)`` when
    the queue does not exist, None when the transport's driver is not one
    of ``drivers``.

    :raises BrokerProblem: when no broker host can be used.
    """
    conn = first_connection(conf, drivers)
    if conn is None:
        return None
    try:
        _, messages, consumers = conn.channel().queue_declare(
            queue=queue, passive=True)
        return messages, consumers
    except amqp.exceptions.NotFound:
        return 0, 0
    finally:
        conn.release()


def ready_messages(conf, queue):
    """The messages of :func:`queue_state` (on any driver of
    :data:`ALL_RABBIT_DRIVERS`), or None."""
    state = queue_state(conf, queue, ALL_RABBIT_DRIVERS)
    return None if state is None else state[0]
