"""A private RabbitMQ for the functional tests, started with pifpaf.

Each :class:`RabbitBroker` runs its own node (or three-node cluster) on
loopback ports chosen free at start, with its own node names and data
directory, so several can run side by side and none touches a broker the
tests did not start. Every process it starts is stopped by pid.
"""

import json
import os
import shutil
import signal
import socket
import tempfile

from pifpaf.drivers import rabbitmq

RABBITMQ_SERVER_PATHS = ("/usr/lib/rabbitmq/bin/rabbitmq-server",
                         "/usr/sbin/rabbitmq-server")


def require_rabbitmq_server():
    """Fail with a clear message when rabbitmq-server is not installed."""
    if shutil.which("rabbitmq-server") or any(
            os.path.exists(path) for path in RABBITMQ_SERVER_PATHS):
        return
    raise RuntimeError(
        "rabbitmq-server is not installed; the functional tests start a "
        "private broker with it. Run tools/run-tests.sh (it installs "
        "Debian's rabbitmq-server as root) or apt-get install "
        "rabbitmq-server.")


def _ports_free(ports):
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_block(size, start=21000, stop=30000):
    """A base port P such that P..P+size-1 and their Erlang distribution
    ports (P+20000..) are all free on loopback."""
    base = start + (os.getpid() * 7) % (stop - start - 100)
    for offset in range(0, stop - start, size + 1):
        port = start + (base - start + offset) % (stop - start - size)
        wanted = list(range(port, port + size))
        if _ports_free(wanted + [p + 20000 for p in wanted]):
            return port
    raise RuntimeError("no free block of %d ports for RabbitMQ" % size)


class _ConfiguredRabbitMQDriver(rabbitmq.RabbitMQDriver):
    """pifpaf's driver, starting nodes with a RabbitMQ configuration file
    (pifpaf has no option for one)."""

    def __init__(self, config_file, **kwargs):
        super().__init__(**kwargs)
        self._config_file = config_file

    def start_node(self, nodename):
        self.env["RABBITMQ_CONFIG_FILE"] = self._config_file
        return super().start_node(nodename)


class RabbitBroker:
    """One private RabbitMQ node, or a three-node cluster.

    :param cluster: start three clustered nodes instead of one.
    :param name: prefix of the Erlang node names.
    :param tls: ``(certfile, keyfile)`` of a server certificate: the node
        also listens with TLS on loopback port :attr:`tls_port`.
    """

    USERNAME = rabbitmq.RabbitMQDriver.DEFAULT_USERNAME
    PASSWORD = rabbitmq.RabbitMQDriver.DEFAULT_PASSWORD

    _started = 0

    def __init__(self, cluster=False, name="trpc", tls=None):
        require_rabbitmq_server()
        RabbitBroker._started += 1
        self.cluster = cluster
        self.port = free_port_block(3 if cluster else 2 if tls else 1)
        self.name = "%s%d-%d" % (name, os.getpid(), RabbitBroker._started)
        self.tls_port = None
        if tls:
            self.tls_port = self.port + 1
            self._config_dir = tempfile.mkdtemp(prefix="trpc-rabbit-")
            config_file = os.path.join(self._config_dir, "rabbitmq.conf")
            with open(config_file, "w") as config:
                config.write(
                    "listeners.ssl.default = 127.0.0.1:%d\n"
                    "ssl_options.certfile = %s\n"
                    "ssl_options.keyfile = %s\n"
                    "ssl_options.verify = verify_none\n"
                    "ssl_options.fail_if_no_peer_cert = false\n"
                    % (self.tls_port, tls[0], tls[1]))
            self._driver = _ConfiguredRabbitMQDriver(
                config_file, port=self.port, nodename=self.name)
        else:
            self._driver = rabbitmq.RabbitMQDriver(
                port=self.port, nodename=self.name, cluster=cluster)

    def start(self):
        self._driver.setUp()
        return self

    def stop(self):
        self._driver.cleanUp()
        if self.tls_port:
            shutil.rmtree(self._config_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def nodes(self):
        """Erlang node names, in the order of :attr:`ports`."""
        if self.cluster:
            return ["%s-%d@localhost" % (self.name, i) for i in (1, 2, 3)]
        return ["%s@localhost" % self.name]

    @property
    def ports(self):
        """AMQP port of each node."""
        return [self._driver.get_port(node) for node in self.nodes]

    def url(self, nodes=None, username=USERNAME, password=PASSWORD,
            vhost=""):
        """Transport URL listing ``nodes`` (indexes; default all)."""
        indexes = range(len(self.nodes)) if nodes is None else nodes
        hosts = ",".join("%s:%s@127.0.0.1:%d" % (username, password,
                                                 self.ports[i])
                         for i in indexes)
        return "rabbit://%s/%s" % (hosts, vhost)

    def tls_url(self, username=USERNAME, password=PASSWORD):
        """Transport URL of the TLS listener (see ``tls``)."""
        return "rabbit://%s:%s@127.0.0.1:%d/" % (username, password,
                                                 self.tls_port)

    def node_pid(self, index=0):
        """Process id of a node's rabbitmq-server process group leader."""
        return self._driver._process[self.nodes[index]].pid

    def kill_node(self, index=0, sig=signal.SIGKILL):
        """Kill a node's processes with ``sig`` (SIGKILL: a crash)."""
        self._driver.kill_node(self.nodes[index], signal=sig)

    def start_node(self, index=0):
        """Start a node again after :meth:`kill_node` or :meth:`stop_app`."""
        self._driver.start_node(self.nodes[index])

    def stop_app(self, index=0):
        """Stop the RabbitMQ application of a node (connections close)."""
        self._driver.stop_node(self.nodes[index])

    def rabbitmqctl(self, *args, index=0):
        """Run ``rabbitmqctl`` against a node; returns its output."""
        _, output = self._driver._exec(
            ["rabbitmqctl", "-n", self.nodes[index]] + list(args),
            stdout=True, path=self._driver._path, env=self._driver.env)
        return output.decode()

    def connection_ports(self, index=0):
        """The AMQP port (hence the node, see :attr:`ports`) of every client
        connection of the cluster, as seen from node ``index``."""
        output = self.rabbitmqctl("list_connections", "port", "-q",
                                  "--formatter", "json", index=index)
        return [entry["port"] for entry in json.loads(output)]
