"""TLS to the broker: a private CA, a node with a TLS listener, and clients
and a Service that verify the broker's certificate."""

import json
import os
import subprocess

import kombu
import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tests import broker as broker_mod
from tests.functional.faults import traffic


def openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(directory, name):
    """A self-signed CA; returns the paths of its certificate and key."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", name + ".key", "-out", name + ".pem",
            "-subj", "/CN=tacker_rpc test %s" % name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return (os.path.join(directory, name + ".pem"),
            os.path.join(directory, name + ".key"))


def make_server_certificate(directory, ca_cert, ca_key):
    """A certificate for 127.0.0.1 signed by the CA; returns (cert, key)."""
    with open(os.path.join(directory, "server.ext"), "w") as ext:
        ext.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                  "basicConstraints = CA:FALSE\n"
                  "extendedKeyUsage = serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=directory)
    openssl("x509", "-req", "-in", "server.csr", "-CA", ca_cert,
            "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
            "-extfile", "server.ext", "-out", "server.pem", cwd=directory)
    return (os.path.join(directory, "server.pem"),
            os.path.join(directory, "server.key"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("pki"))
    ca_cert, ca_key = make_ca(directory, "ca")
    other_ca, _ = make_ca(directory, "other-ca")
    server = make_server_certificate(directory, ca_cert, ca_key)
    return {"ca": ca_cert, "other_ca": other_ca, "server": server,
            "dir": directory}


@pytest.fixture(scope="module")
def tls_broker(pki):
    with broker_mod.RabbitBroker(name="trpctls", tls=pki["server"]) as b:
        yield b


def tls_settings(ca_file):
    return {"oslo_messaging_rabbit__ssl": True,
            "oslo_messaging_rabbit__ssl_ca_file": ca_file}


def test_calls_work_over_tls_with_the_ca(tls_broker, pki, rpc_on, servers,
                                         topic):
    url = tls_broker.tls_url()
    rpc_on(url, **tls_settings(pki["ca"]))
    servers(url, topic, "tls", settings=[
        "oslo_messaging_rabbit.ssl=True",
        "oslo_messaging_rabbit.ssl_ca_file=%s" % pki["ca"]])
    client = rpc.get_client(oslo_messaging.Target(topic=topic))
    assert client.call({}, "echo", value="over tls") == "over tls"
    # Every connection of the broker is the TLS listener's, encrypted.
    connections = json.loads(tls_broker.rabbitmqctl(
        "list_connections", "port", "ssl", "-q", "--formatter", "json"))
    assert connections
    assert all(c == {"port": tls_broker.tls_port, "ssl": True}
               for c in connections), connections


def test_untrusted_broker_fails_the_call_clearly_within_its_retry(
        tls_broker, pki, rpc_on, topic):
    """The broker's certificate is signed by a CA the client does not
    trust: a client with ``retry`` fails its call naming the certificate
    problem instead of blocking."""
    rpc_on(tls_broker.tls_url(), **tls_settings(pki["other_ca"]))
    client = rpc.get_client(oslo_messaging.Target(topic=topic), retry=1)
    with pytest.raises(oslo_messaging.MessageDeliveryFailure,
                       match="CERTIFICATE_VERIFY_FAILED"):
        traffic.bounded(lambda: client.call({}, "echo", value="x"), 60)
    # Casts honour retry by themselves; oslo.messaging lets kombu's error
    # through, lean-rabbit raises MessageDeliveryFailure as for calls.
    with pytest.raises((kombu.exceptions.OperationalError,
                        oslo_messaging.MessageDeliveryFailure),
                       match="CERTIFICATE_VERIFY_FAILED"):
        traffic.bounded(lambda: client.cast({}, "echo", value="x"), 60)


def test_missing_ca_file_is_refused_at_init(tls_broker, pki, rpc_on):
    missing = os.path.join(pki["dir"], "no-such-ca.pem")
    with pytest.raises(exceptions.InvalidConfiguration,
                       match="ssl_ca_file = %s: no such file" % missing):
        rpc_on(tls_broker.tls_url(), **tls_settings(missing))
