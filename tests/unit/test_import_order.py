"""tacker_rpc runs on oslo.service's threading backend whatever the import
order (tacker_rpc.backend). Each case runs in a fresh interpreter, since
the backend is chosen once per process."""

import os
import subprocess
import sys

from oslo_service import backend as oslo_backend
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

REPORT = """
from oslo_service import backend, service
from tacker_rpc import rpc
print(backend.get_backend_type().value, service.launch.__module__,
      rpc.Service.__mro__[1].__module__)
"""
THREADING = ("threading oslo_service.backend._threading.service "
             "oslo_service.backend._threading.service")


def run_python(code):
    return subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("imports", [
    "import tacker_rpc\nimport oslo_messaging",
    "import oslo_messaging\nimport tacker_rpc",
    "import oslo_messaging\nfrom oslo_service import service\n"
    "from oslo_service import loopingcall\nimport tacker_rpc",
])
def test_threading_backend_whatever_the_import_order(imports):
    result = run_python(imports + REPORT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == THREADING, result.stdout
    assert "RuntimeWarning" not in result.stderr, result.stderr


def test_a_process_monkey_patched_by_eventlet_is_told():
    result = run_python(
        "import warnings\nimport eventlet\neventlet.monkey_patch()\n"
        "import oslo_messaging\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import tacker_rpc\n"
        "print([str(w.message) for w in caught "
        "if w.category is RuntimeWarning])\n"
        "from oslo_service import backend\n"
        "print(backend.get_backend_type().value)\n")
    assert result.returncode == 0, result.stderr
    warned, selected = result.stdout.splitlines()[-2:]
    assert "eventlet backend is in use" in warned
    assert "native threads" in warned
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
