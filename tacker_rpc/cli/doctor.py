"""``tacker-rpc doctor``: why do calls to a topic time out?

The diagnosis goes from the network up and stops at the first layer that
fails, since every later check would fail for the same reason:

1. each broker host of the transport URL accepts a TCP connection;
2. AMQP login with the URL's user and password on its vhost;
3. the ``control_exchange`` exists (passive declare);
4. queue ``T`` exists and has consumers (passive declare: message and
   consumer counts; no management plugin needed);
5. the status endpoint of the topic answers a fanout ping (as
   ``tacker-rpc ping --all``), and the ``T.<host>`` queue of each server
   that answered (and of ``--server``) is present and consumed;
6. the health checks of each server that answered (an ``error`` verdict
   is a problem, a ``warning`` one a warning).

It ends with a one-line verdict naming the first problem found.
"""

import socket

import amqp.exceptions
import oslo_messaging

from tacker_rpc import broker
from tacker_rpc import health
from tacker_rpc import redact
from tacker_rpc.cli import common
from tacker_rpc.cli import ping

OK, WARN, FAIL = "ok", "warn", "FAIL"


def register(subparsers):
    parser = common.add_subcommand(
        subparsers, "doctor",
        "diagnose a topic step by step, ending with a verdict",
        description="Check the broker hosts, the login, the exchange, the "
                    "topic's queues and a round trip to its servers; end "
                    "with a one-line verdict. Exits 1 when a problem is "
                    "found.")
    common.target_arguments(parser)
    common.timeout_argument(parser, "seconds to collect status replies "
                                    "(default %g)" % ping.DEFAULT_WAIT)
    parser.set_defaults(run=run)


class Diagnosis:
    """Steps checked so far, and the problems they found."""

    def __init__(self):
        self.steps = []
        self.problems = []
        self.warnings = []

    def record(self, step, result, detail):
        self.steps.append({"step": step, "result": result, "detail": detail})

    def fail(self, step, detail, verdict):
        self.record(step, FAIL, detail)
        self.problems.append(verdict)

    def warn(self, step, detail, note):
        self.record(step, WARN, detail)
        self.warnings.append(note)

    @property
    def ok(self):
        return not self.problems


def run(args, out):
    conf = common.load_conf(args)
    diagnosis = diagnose(conf, args.topic, args.server,
                         args.timeout or ping.DEFAULT_WAIT)
    verdict = _verdict(diagnosis, args.topic)
    table = common.format_table(
        ("step", "result", "detail"),
        [[s["step"], s["result"], s["detail"]] for s in diagnosis.steps])
    out.result({"steps": diagnosis.steps, "ok": diagnosis.ok,
                "verdict": verdict},
               "%s\n\nverdict: %s" % (table, verdict))
    return 0 if diagnosis.ok else common.EXIT_FAILURE


def diagnose(conf, topic, server, wait):
    """Run the checks against the broker of ``conf``; a
    :class:`Diagnosis`."""
    diagnosis = Diagnosis()
    try:
        driver, vhost, hosts = broker.parse(conf)
    except oslo_messaging.InvalidTransportURL as exc:
        diagnosis.fail("transport url", str(exc),
                       "the transport URL is malformed: %s" % exc)
        return diagnosis
    if driver not in broker.RABBIT_DRIVERS:
        diagnosis.fail(
            "transport url", redact.mask_url(conf.transport_url),
            "doctor diagnoses RabbitMQ (rabbit://) brokers; %r has no "
            "broker to check" % driver)
        return diagnosis
    reachable = [host for host in hosts if _check_tcp(diagnosis, host)]
    if not reachable:
        return diagnosis
    connections = [conn for conn in (_login(diagnosis, host, vhost)
                                     for host in reachable) if conn]
    if not connections:
        return diagnosis
    try:
        exchange = conf.control_exchange
        if not _check_exchange(diagnosis, connections[0], exchange, vhost):
            return diagnosis
        consumers = _check_queue(diagnosis, connections[0], topic, topic,
                                 exchange, required=True)
        if not consumers:
            return diagnosis
        answers = _round_trip(diagnosis, conf, topic, consumers, wait)
        servers = {answer["host"] for answer in answers}
        for host in sorted(servers | ({server} if server else set())):
            _check_queue(diagnosis, connections[0], "%s.%s" % (topic, host),
                         topic, exchange, required=server == host)
        for answer in answers:
            _check_health(diagnosis, answer)
    finally:
        for conn in connections:
            conn.release()
    return diagnosis


def _check_tcp(diagnosis, host):
    step = "tcp %s" % broker.address(host)
    try:
        socket.create_connection((host.hostname, host.port),
                                 timeout=broker.CONNECT_TIMEOUT).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        diagnosis.fail(step, "unreachable: %s" % reason,
                       "broker %s is unreachable: %s"
                       % (broker.address(host), reason))
        return False
    diagnosis.record(step, OK, "reachable")
    return True


def _login(diagnosis, host, vhost):
    step = "login %s" % broker.address(host)
    try:
        conn = broker.connect(host, vhost)
    except broker.BrokerProblem as exc:
        diagnosis.fail(step, str(exc), str(exc))
        return None
    diagnosis.record(step, OK, "user %r accepted on vhost %r"
                     % (host.username, vhost))
    return conn


def _check_exchange(diagnosis, conn, exchange, vhost):
    step = "exchange %s" % exchange
    channel = conn.channel()
    try:
        channel.exchange_declare(exchange=exchange, type="topic",
                                 passive=True)
    except amqp.exceptions.NotFound:
        diagnosis.fail(step, "missing",
                       "exchange %r does not exist on vhost %r: no service "
                       "with control_exchange = %s has run here"
                       % (exchange, vhost, exchange))
        return False
    channel.close()
    diagnosis.record(step, OK, "present")
    return True


def _check_queue(diagnosis, conn, queue, topic, exchange, required):
    """Passive-declare ``queue`` of ``topic``; returns its consumer count
    (0 when it is missing, a problem when ``required``)."""
    step = "queue %s" % queue
    channel = conn.channel()
    try:
        _, messages, consumers = channel.queue_declare(queue=queue,
                                                       passive=True)
    except amqp.exceptions.NotFound:
        note = ("queue %r does not exist: no server has consumed it on "
                "exchange %r" % (queue, exchange))
        if required:
            diagnosis.fail(step, "missing", note)
        else:
            diagnosis.warn(step, "missing", note)
        return 0
    channel.close()
    detail = "%d consumer(s), %d message(s) waiting" % (consumers, messages)
    if not consumers:
        diagnosis.fail(step, detail,
                       "queue %r has 0 consumers: no server is running for "
                       "topic %r" % (queue, topic))
    elif messages:
        diagnosis.warn(step, detail,
                       "%d message(s) wait in queue %r: its servers are not "
                       "keeping up" % (messages, queue))
    else:
        diagnosis.record(step, OK, detail)
    return consumers


def _round_trip(diagnosis, conf, topic, consumers, wait):
    """Fan out a status ping; returns the answers."""
    step = "status round trip"
    answers = ping.discover(conf, topic, wait)
    if not answers:
        diagnosis.fail(
            step, "no answer within %gs" % wait,
            "queue %r has %d consumer(s) but no server answered the status "
            "endpoint within %gs: the servers are stuck, or run with "
            "rpc_status_endpoint = false" % (topic, consumers, wait))
        return []
    diagnosis.record(step, OK, ", ".join(
        "%s %.1f ms" % (answer["host"], answer["rtt_ms"])
        for answer in answers))
    return answers


def _check_health(diagnosis, answer):
    step = "health %s" % answer["host"]
    verdict = ping.verdict(answer)
    failing = "; ".join(ping.failing_checks(answer))
    if verdict == health.ERROR:
        diagnosis.fail(step, failing, "server %s (pid %s) reports: %s"
                       % (answer["host"], answer["pid"], failing))
    elif verdict == health.WARNING:
        diagnosis.warn(step, failing, "server %s reports: %s"
                       % (answer["host"], failing))
    else:
        checks = (answer.get("health") or {}).get("checks", ())
        diagnosis.record(step, OK, "%d check(s) ok" % len(checks))


def _verdict(diagnosis, topic):
    if diagnosis.problems:
        return diagnosis.problems[0]
    served = "topic %r is served" % topic
    if diagnosis.warnings:
        return "%s, but %s" % (served, diagnosis.warnings[0])
    return "%s: every check passed" % served
