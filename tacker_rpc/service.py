"""Connections (groups of RPC servers) and the Service daemons run."""

import logging
import os

import oslo_messaging

from tacker_rpc import backend
from tacker_rpc import compat
from tacker_rpc import messaging
from tacker_rpc import metrics
from tacker_rpc import status

LOG = logging.getLogger(__name__)


class Connection:
    """A group of RPC servers started and stopped together."""

    def __init__(self):
        self.servers = []

    def create_consumer(self, topic, endpoints, fanout=False, exchange=None,
                        host=None, serializer=None, middleware=None):
        """Add a server consuming ``topic`` as server ``host``.

        It receives messages sent to ``topic``, to ``topic.host`` and fanouts
        to ``topic``. ``exchange`` None means the transport's
        ``control_exchange``; ``host`` None means the ``host`` option.
        ``middleware`` is the server's own (see ``rpc.get_server``).
        Nothing is consumed before :meth:`consume_in_threads`.
        """
        target = oslo_messaging.Target(
            topic=topic, server=host or messaging.configured_host(),
            fanout=fanout, exchange=exchange)
        self.servers.append(messaging.get_server(
            target, endpoints, serializer, middleware=middleware))

    def consume_in_threads(self):
        """Start every server; returns them."""
        for server in self.servers:
            server.start()
        return self.servers

    def close(self):
        """Stop every server, then wait until each has answered the
        requests it had in flight.

        Every server is stopped and waited for even when one fails; the
        first error is then raised.
        """
        servers, self.servers = self.servers, []
        errors = []
        for step in ("stop", "wait"):
            for server in servers:
                try:
                    getattr(server, step)()
                except Exception as exc:
                    errors.append(exc)
        if errors:
            raise errors[0]


class VoidConnection:
    """A :class:`Connection` that does nothing, for processes whose RPC is
    disabled (``rpc.RPC_DISABLED``)."""

    def create_consumer(self, topic, endpoints, fanout=False, exchange=None,
                        host=None, serializer=None, middleware=None):
        pass

    def consume_in_threads(self):
        return []

    def close(self):
        pass


class Service(compat.threading_service_base()):
    """Service object for binaries running on hosts.

    A service enables RPC by listening on ``topic`` as server ``host``: it
    receives what is sent to ``topic``, to ``topic.host`` and fanouts, and
    dispatches it to ``manager``; unless ``rpc_status_endpoint`` is off it
    also answers ``ping`` and ``describe`` in the namespace
    ``tacker_rpc.status`` (see :mod:`tacker_rpc.status`). Run it with
    ``oslo_service.service.launch(conf, Service(...)).wait()`` after
    ``rpc.init(conf)``, and do not make calls in the launching process before
    it forks.

    Building a Service asks for native threads: it selects oslo.service's
    threading backend (:func:`tacker_rpc.backend.select_threading`), so
    ``oslo_service.service.launch`` looked up afterwards is the threading
    launcher; in a process eventlet has monkey-patched it warns instead
    (``RuntimeWarning``), as Services are not supported there. Its base
    class is oslo.service's threading ``Service`` whatever the backend.

    Without ``manager`` the Service is its own manager, as in tacker: a
    subclass's public methods are served, while what every oslo.service
    Service has (``start``, ``stop``, ``wait``, ``reset``...) never is
    (:data:`tacker_rpc.dispatcher.SERVICE_METHODS`).

    ``middleware`` (a list) runs around each request after the process's
    server middleware (:mod:`tacker_rpc.middleware`). With the
    ``rpc_metrics_port`` option set, the started service serves its
    process's metrics on ``http://rpc_metrics_host:port/metrics``
    (:mod:`tacker_rpc.metrics`); a port already taken is logged and RPC is
    served anyway. ``launcher_pid`` is this process's parent when the
    service runs in another process than the one that built it (a worker
    oslo.service's launcher forked: the process to signal to stop the
    service), else None.

    ``components`` (and :meth:`add_component`) are objects with ``start()``
    and ``stop()`` that live as long as the service in the process serving
    it, such as a :class:`~tacker_rpc.reqresp.Responder` or
    :class:`~tacker_rpc.reqresp.Requester`: :meth:`start` starts them, in
    order, in the worker after oslo.service's launcher forked, before RPC
    messages flow (so the manager may use them from its first request);
    :meth:`stop` stops them, in reverse order, after the RPC servers have
    answered what they had in flight and before the process's transport
    is cleaned up. ``describe`` lists the long-running requests they send
    and answer.
    """

    def __init__(self, host, topic, manager=None, serializer=None,
                 middleware=None, components=()):
        backend.select_threading()
        super().__init__()
        self.host = host
        self.topic = topic
        self.manager = self if manager is None else manager
        self.serializer = serializer
        self.middleware = middleware
        self.components = list(components)
        self.conn = None
        self.metrics_server = None
        self._built_in = os.getpid()
        self._started_components = []

    def add_component(self, component):
        """Run ``component`` (with ``start()`` and ``stop()``) with the
        service, after those given before; returns it. Call it before
        :meth:`start`."""
        self.components.append(component)
        return component

    def __setstate__(self, state):
        # A worker oslo.service spawns (start_method="spawn") unpickles the
        # Service in a fresh interpreter: it asks for native threads there.
        backend.select_threading()
        restore = getattr(super(), "__setstate__", None)
        if restore is None:
            self.__dict__.update(state)
        else:
            restore(state)

    @property
    def launcher_pid(self):
        return None if os.getpid() == self._built_in else os.getppid()

    def start(self):
        """Start the components, then consuming.

        Calls ``manager.initialize_service_hook(self)`` when the manager has
        one, after the consumer is created and before the components
        start. When a component fails to start, those started are stopped
        and the error is raised: nothing is consumed.
        """
        super().start()
        # tacker_rpc.rpc imports this module; rpc.RPC_DISABLED is read here.
        from tacker_rpc import rpc
        self.conn = rpc.create_connection()
        endpoints = [self.manager]
        status_endpoint = status.endpoint_for(self, self.conn)
        if status_endpoint is not None:
            endpoints.append(status_endpoint)
        self.conn.create_consumer(self.topic, endpoints, host=self.host,
                                  serializer=self.serializer,
                                  middleware=self.middleware)
        if status_endpoint is not None:
            status.count_in_flight(status_endpoint, self.conn)
        hook = getattr(self.manager, "initialize_service_hook", None)
        if callable(hook):
            hook(self)
        try:
            for component in self.components:
                component.start()
                self._started_components.append(component)
        except Exception:
            self._stop_components()
            self.conn = None  # its servers never started
            raise
        self._serve_metrics()
        self.conn.consume_in_threads()

    def _stop_components(self):
        while self._started_components:
            component = self._started_components.pop()
            try:
                component.stop()
            except Exception:
                LOG.exception("Error while stopping %r of service %s on %s",
                              component, self.topic, self.host)

    def _serve_metrics(self):
        if not hasattr(self.conn, "servers"):  # RPC disabled
            return
        conf = messaging.current_conf()
        if conf.rpc_metrics_port is None or self.metrics_server is not None:
            return
        try:
            self.metrics_server = metrics.start_http_server(
                conf.rpc_metrics_port, conf.rpc_metrics_host)
        except OSError as exc:
            LOG.error("Cannot serve metrics on %s port %s (rpc_metrics_host, "
                      "rpc_metrics_port): %s; RPC is served without them",
                      conf.rpc_metrics_host, conf.rpc_metrics_port, exc)
            return
        LOG.info("Serving metrics on http://%s:%s/metrics",
                 conf.rpc_metrics_host, conf.rpc_metrics_port)

    def stop(self, graceful=False):
        """Stop consuming, answer the requests in flight, stop the
        components, stop the service.

        Errors while closing the connection or stopping a component are
        logged, not raised, so the service always stops.
        """
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                LOG.exception("Error while closing the RPC connection of "
                              "service %s on %s", self.topic, self.host)
            self.conn = None
        self._stop_components()
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None
        super().stop(graceful)
