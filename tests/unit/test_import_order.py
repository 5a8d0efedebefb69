"""oslo.service's backend: importing tacker_rpc, rpc.init and clients leave
it as oslo.service chose it; building a Service (or select_threading)
selects the threading one whatever the import order (tacker_rpc.backend).
Each case runs in a fresh interpreter, since the backend is chosen once per
process."""

import os
import pickle
import subprocess
import sys

from oslo_service import backend as oslo_backend
import pytest

from tacker_rpc import rpc
from tacker_rpc.cli.serve import EchoManager

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: Prints the backend selected, then the modules of the launcher and of the
#: looping call a daemon would use now.
REPORT = """
from oslo_service import backend, loopingcall, service
print(backend.get_backend_type() and backend.get_backend_type().value,
      service.launch.__module__,
      loopingcall.FixedIntervalLoopingCall.__module__)
"""
THREADING = ("threading oslo_service.backend._threading.service "
             "oslo_service.backend._threading.loopingcall")
EVENTLET = ("eventlet oslo_service.backend._eventlet.service "
            "oslo_service.backend._eventlet.loopingcall")

#: A client-only process: init on the in-memory transport, a cast, cleanup.
CLIENT = """
from oslo_config import cfg
import oslo_messaging
from tacker_rpc import opts, rpc
conf = cfg.ConfigOpts()
conf([], project="client_only")
opts.register_opts(conf)
conf.set_override("transport_url", "kombu+memory:////")
rpc.init(conf)
rpc.get_client(oslo_messaging.Target(topic="t")).cast({}, "m")
rpc.get_notifier("client").info({}, "client.end", {})
rpc.cleanup()
"""

SERVICE = """
from tacker_rpc import rpc
rpc.Service("h", "t", manager=object())
"""

IMPORT_ORDERS = [
    "import tacker_rpc\nfrom tacker_rpc import rpc\nimport oslo_messaging",
    "import oslo_messaging\nfrom tacker_rpc import rpc",
    "import oslo_messaging\nfrom oslo_service import service\n"
    "from oslo_service import loopingcall\nfrom tacker_rpc import rpc",
]


def run_python(code, timeout=120):
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr, result.stderr
    return result.stdout.splitlines()


def test_importing_tacker_rpc_selects_no_backend():
    assert run_python(
        "import sys\nimport tacker_rpc\nfrom tacker_rpc import backend\n"
        "from oslo_service import backend as oslo_backend\n"
        "print(oslo_backend.get_backend_type(),"
        " 'oslo_service.service' in sys.modules)") == ["None False"]


@pytest.mark.parametrize("imports", IMPORT_ORDERS)
def test_imports_and_clients_keep_oslo_services_own_choice(imports):
    # What oslo.service chooses in this process without tacker_rpc.
    assert run_python("import oslo_messaging" + REPORT) == [EVENTLET]
    assert run_python(imports + CLIENT + REPORT) == [EVENTLET]


@pytest.mark.parametrize("imports", IMPORT_ORDERS)
def test_a_service_selects_threading_whatever_the_import_order(imports):
    assert run_python(imports + SERVICE + REPORT) == [THREADING]
    assert run_python(
        imports + "\nfrom tacker_rpc import backend\n"
        "backend.select_threading()" + REPORT) == [THREADING]


def test_a_client_only_process_with_running_looping_calls_exits():
    # tacker's tests start FixedIntervalLoopingCalls and never stop them;
    # on threading they would be threads that futurist's atexit joins for
    # ever. On oslo.service's default they end with the process.
    run_python(
        "from tacker_rpc import rpc\n"
        "from oslo_service import loopingcall\n"
        "loopingcall.FixedIntervalLoopingCall(lambda: None).start(0.01)\n"
        + CLIENT, timeout=60)


def test_a_process_monkey_patched_by_eventlet_is_told_at_a_service_only():
    lines = run_python(
        "import warnings\nimport eventlet\neventlet.monkey_patch()\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from tacker_rpc import rpc\n"
        + "\n".join("    " + line for line in CLIENT.splitlines())
        + "\n    print(len([w for w in caught"
        " if w.category is RuntimeWarning]))\n"
        "    rpc.Service('h', 't', manager=object())\n"
        "print([str(w.message) for w in caught "
        "if w.category is RuntimeWarning])\n"
        "from oslo_service import backend\n"
        "print(backend.get_backend_type().value)\n")
    at_import_and_init, warned, selected = lines[-3:]
    assert at_import_and_init == "0"
    assert "eventlet backend is in use" in warned
    assert "clients and notifier work there" in warned
    assert selected == "eventlet"


def test_oslo_config_generator_in_its_own_order_warns_nothing(tmp_path):
    generator = os.path.join(os.path.dirname(sys.executable),
                             "oslo-config-generator")
    result = subprocess.run(
        [generator, "--config-file",
         "etc/oslo-config-generator/tacker_rpc.conf",
         "--output-file", str(tmp_path / "sample.conf")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr, result.stderr
    assert "rpc_status_endpoint" in (tmp_path / "sample.conf").read_text()


def test_oslo_service_still_has_the_reset_hook():
    assert callable(getattr(oslo_backend, "_reset_backend", None)), (
        "oslo.service hook backend._reset_backend is gone: "
        "tacker_rpc.backend._unselect must change")
    assert hasattr(oslo_backend, "_backend_hook"), (
        "oslo.service hook backend._backend_hook is gone: "
        "tacker_rpc.backend._eventlet_in_use must change")


def test_a_service_unpickled_in_a_spawned_worker_selects_threading():
    # oslo.service's launcher with start_method="spawn" pickles the Service
    # into a fresh interpreter.
    code = (
        "import pickle, sys\n"
        "import oslo_messaging\n"
        "service = pickle.loads(sys.stdin.buffer.read())\n"
        "print(type(service).__name__, service.topic)" + REPORT)
    pickled = pickle.dumps(rpc.Service("h", "spawned",
                                       manager=EchoManager()))
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        input=pickled, cwd=REPO_ROOT, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == ["Service spawned",
                                                   THREADING]
