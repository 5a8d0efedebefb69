"""An eventlet process that only sends, like tacker-server (monkey-patched,
an eventlet.wsgi API server making RPC clients, casts and notifications):
importing tacker_rpc and rpc.init warn nothing, and clients, casts and the
notifier work (doc/differences.rst, "Eventlet processes"). It runs in a
fresh interpreter, since monkey patching is process-wide."""

import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

API_SERVER = """
import eventlet
eventlet.monkey_patch()

import warnings
warnings.simplefilter("error", RuntimeWarning)

from oslo_config import cfg
import oslo_messaging
from tacker_rpc import opts, rpc
from tacker_rpc.testing import notifications

conf = cfg.ConfigOpts()
conf([], project="api_server")
opts.register_opts(conf)
conf.set_override("transport_url", "kombu+memory:////")
conf.set_override("rpc_response_timeout", 30)
conf.set_override("driver", [notifications.DRIVER_NAME],
                  "oslo_messaging_notifications")
conf.set_override("topics", ["api"], "oslo_messaging_notifications")
rpc.init(conf)

cast_done = eventlet.event.Event()
notified = []
notifications.record_topic("api", notified.append)


class Conductor:
    def echo(self, ctxt, value):
        return {"value": value, "project": ctxt.project_id}

    def note(self, ctxt, value):
        cast_done.send(value)


server = rpc.get_server(oslo_messaging.Target(topic="conductor",
                                              server="h"), [Conductor()])
server.start()
client = rpc.get_client(oslo_messaging.Target(topic="conductor"))
print(client.call({"project_id": "p1"}, "echo", value="hi"))
client.cast({}, "note", value="cast")
with eventlet.Timeout(30):
    print(cast_done.wait())
rpc.get_notifier("api").info({}, "vnf.create.end", {"n": 1})
print([(n.event_type, n.payload) for n in notified])
server.stop()
server.wait()
rpc.cleanup()
"""


def test_an_eventlet_api_server_sends_without_a_warning():
    result = subprocess.run(
        [sys.executable, "-c", API_SERVER], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr, result.stderr
    assert result.stdout.splitlines() == [
        "{'value': 'hi', 'project': 'p1'}",
        "cast",
        "[('vnf.create.end', {'n': 1})]",
    ]
