"""Metrics in Prometheus form, and the HTTP endpoint that serves them.

:class:`MetricsMiddleware` counts and times every request it sees, on the
client and the server side. Its counters and histograms carry the names and
labels of oslo.messaging's own metrics (``oslo_messaging_rpc_*``, which
oslo.messaging sends to the separate oslo.metrics daemon when
``[oslo_messaging_metrics] metrics_enabled`` is on), so dashboards made for
those work on a tacker_rpc service without that daemon:

* client side: ``oslo_messaging_rpc_client_invocation_start_total``,
  ``..._invocation_end_total``, ``..._processing_seconds`` (histogram) and
  ``..._exception_total``, labelled ``call_type``, ``exchange``,
  ``topic``, ``namespace``, ``version``, ``server``, ``fanout``,
  ``method``;
* server side: ``oslo_messaging_rpc_server_invocation_start_total``,
  ``..._invocation_end_total``, ``..._processing_seconds`` and
  ``..._exception_total``, labelled ``exchange``, ``topic``, ``server``,
  ``endpoint``, ``namespace``, ``version``, ``method``.

The ``*_end_total`` counters add ``outcome``: ``ok``, ``timeout``
(``MessagingTimeout``), ``refused`` (an
:class:`~tacker_rpc.exceptions.ActionError`, ``InvalidArguments``
included: the server refused the caller's bad input, it did not fail)
or ``error`` (any other exception). The ``*_exception_total`` counters
add ``exception`` (the class name) and count the timeouts and errors,
not the refusals: an alert on the server's error rate does not fire on
bad input. oslo.messaging has no refusals and counts every exception;
doc/observability.rst says so. oslo.messaging's labels ``process``
and ``timeout`` are left out: the first is for its collector daemon to
tell processes apart, which the scrape target does here; the second would
make a new series every time the backoff changes a timeout. A label whose
value is None shows ``None``, as oslo.metrics shows it. The client's
duration is the call as the caller lives it, backoff pause included.

Beyond oslo.messaging's names:

``tacker_rpc_client_requests_in_flight``
    a gauge labelled ``topic``, ``namespace``, ``method``; and
    ``tacker_rpc_server_requests_in_flight``.
``tacker_rpc_backoff_timeout_seconds``
    the backoff's learned timeout per ``topic``, ``namespace``, ``method``
    (read at each scrape from :func:`tacker_rpc.backoff.get_backoff_snapshot`);
    ``tacker_rpc_backoff_latency_seconds`` its smoothed latency.
``tacker_rpc_backoff_timeout_changes_total``
    changes of a learned timeout by ``reason`` (``timeout``, ``recovery``,
    ``cap``), counted by a :func:`tacker_rpc.backoff.add_backoff_observer`
    observer.

Everything is in :data:`REGISTRY` (not prometheus_client's global one, so
that it never clashes with oslo.metrics' own definitions of the same
names), with the process's CPU and memory (``process_*``).
:func:`start_http_server` serves it on ``/metrics``; a
:class:`~tacker_rpc.service.Service` does so when the ``rpc_metrics_port``
option is set, which also installs this middleware on both sides.
"""

import threading

import oslo_messaging
import prometheus_client
from prometheus_client import core as prometheus_core

from tacker_rpc import backoff
from tacker_rpc import exceptions
from tacker_rpc import middleware

REGISTRY = prometheus_client.CollectorRegistry()
prometheus_client.ProcessCollector(registry=REGISTRY)

#: oslo.metrics' buckets for processing seconds.
BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
           7.5, 10.0, 25.0, 50.0, 75.0, 100.0)

CLIENT_LABELS = ("call_type", "exchange", "topic", "namespace", "version",
                 "server", "fanout", "method")
SERVER_LABELS = ("exchange", "topic", "server", "endpoint", "namespace",
                 "version", "method")
IN_FLIGHT_LABELS = ("topic", "namespace", "method")
BACKOFF_LABELS = ("topic", "namespace", "method")


def _side_metrics(side, labels):
    prefix = "oslo_messaging_rpc_%s_" % side
    return {
        "start": prometheus_client.Counter(
            prefix + "invocation_start_total",
            "RPC requests started (%s side)." % side, labels,
            registry=REGISTRY),
        "end": prometheus_client.Counter(
            prefix + "invocation_end_total",
            "RPC requests ended, by outcome (%s side)." % side,
            labels + ("outcome",), registry=REGISTRY),
        "seconds": prometheus_client.Histogram(
            prefix + "processing_seconds",
            "Duration of RPC requests (%s side)." % side, labels,
            buckets=BUCKETS, registry=REGISTRY),
        "exception": prometheus_client.Counter(
            prefix + "exception_total",
            "RPC requests that raised, by exception class (%s side)."
            % side, labels + ("exception",), registry=REGISTRY),
        "in_flight": prometheus_client.Gauge(
            "tacker_rpc_%s_requests_in_flight" % side,
            "RPC requests in progress (%s side)." % side,
            IN_FLIGHT_LABELS, registry=REGISTRY),
    }


_METRICS = {middleware.CLIENT: _side_metrics("client", CLIENT_LABELS),
            middleware.SERVER: _side_metrics("server", SERVER_LABELS)}

TIMEOUT_CHANGES = prometheus_client.Counter(
    "tacker_rpc_backoff_timeout_changes_total",
    "Changes of a learned call timeout, by reason.",
    BACKOFF_LABELS + ("reason",), registry=REGISTRY)


def _labels(request):
    target = request.target
    if request.side == middleware.CLIENT:
        values = (request.call_type, target.exchange, target.topic,
                  target.namespace, target.version, target.server,
                  target.fanout, request.method)
    else:
        values = (target.exchange, target.topic, target.server,
                  type(request.endpoint).__name__, target.namespace,
                  target.version, request.method)
    return tuple(str(value) for value in values)


class _Series:
    """The series of one side, target and method that every request
    touches, looked up once (``labels()`` takes a lock and a dict lookup
    each time)."""

    __slots__ = ("labels", "start", "end_ok", "seconds", "in_flight")

    def __init__(self, metrics, labels, in_flight_labels):
        self.labels = labels
        self.start = metrics["start"].labels(*labels)
        self.end_ok = metrics["end"].labels(*labels, "ok")
        self.seconds = metrics["seconds"].labels(*labels)
        self.in_flight = metrics["in_flight"].labels(*in_flight_labels)


class MetricsMiddleware(middleware.Middleware):
    """Counts, times and gauges every request it sees, in
    :data:`REGISTRY` (see the module's docstring for the names). From the
    first one built on, the process counts backoff timeout changes too."""

    def __init__(self):
        _observe_backoff()
        self._series = {}

    def before(self, request):
        labels = _labels(request)
        series = self._series.get(labels)
        if series is None:
            target = request.target
            series = self._series.setdefault(labels, _Series(
                _METRICS[request.side], labels,
                (str(target.topic), str(target.namespace), request.method)))
        request.metrics_series = series
        series.start.inc()
        series.in_flight.inc()

    def after(self, request):
        series = getattr(request, "metrics_series", None)
        if series is None:  # before() failed
            return
        exc = request.exception
        if exc is None:
            series.end_ok.inc()
        else:
            metrics = _METRICS[request.side]
            if isinstance(exc, exceptions.ActionError):
                metrics["end"].labels(*series.labels, "refused").inc()
            else:
                outcome = ("timeout"
                           if isinstance(exc, oslo_messaging.MessagingTimeout)
                           else "error")
                metrics["end"].labels(*series.labels, outcome).inc()
                metrics["exception"].labels(*series.labels,
                                            request.exception_name).inc()
        series.seconds.observe(request.duration)
        series.in_flight.dec()


class _BackoffCollector:
    """Reads the backoff's learned state at each scrape."""

    def collect(self):
        timeouts = prometheus_core.GaugeMetricFamily(
            "tacker_rpc_backoff_timeout_seconds",
            "Call timeout the backoff has learned per method.",
            labels=BACKOFF_LABELS)
        latencies = prometheus_core.GaugeMetricFamily(
            "tacker_rpc_backoff_latency_seconds",
            "Smoothed latency of measured answers per method.",
            labels=BACKOFF_LABELS)
        for entry in backoff.TIMEOUTS.snapshot():
            values = [str(value) for value in entry.key]
            timeouts.add_metric(values, entry.timeout)
            if entry.latency is not None:
                latencies.add_metric(values, entry.latency)
        yield timeouts
        yield latencies


REGISTRY.register(_BackoffCollector())


def _count_timeout_change(change):
    TIMEOUT_CHANGES.labels(*(str(value) for value in change.key),
                           change.reason).inc()


_observing = threading.Lock()
_observer_added = False


def _observe_backoff():
    global _observer_added
    with _observing:
        if not _observer_added:
            backoff.add_backoff_observer(_count_timeout_change)
            _observer_added = True


def install():
    """Add a :class:`MetricsMiddleware` to the process's client and server
    middleware where they have none."""
    for side in (middleware.CLIENT, middleware.SERVER):
        if not any(isinstance(item, MetricsMiddleware)
                   for item in middleware.installed(side)):
            middleware.append(side, MetricsMiddleware())


def from_conf(conf):
    """The ``metrics`` entry point: a :class:`MetricsMiddleware`."""
    return MetricsMiddleware()


def start_http_server(port, host="0.0.0.0"):
    """Serve :data:`REGISTRY` on ``http://host:port/metrics`` from a daemon
    thread; returns the server (``shutdown()`` and ``server_close()``
    stop it)."""
    server, _thread = prometheus_client.start_http_server(
        port, addr=host, registry=REGISTRY)
    return server


def scrape():
    """The text a scrape of :data:`REGISTRY` returns."""
    return prometheus_client.generate_latest(REGISTRY).decode()
