"""tacker-conductor as tacker starts it, serving PackageConductor.

    python -m tests.tacker.conductor_main --config-file FILE

Runs tacker's entry module (``tacker.cmd.conductor``: backend choice,
object registration) and ``tacker.conductor.conductor_server.main``:
``CONF`` parsing, ``rpc.init`` of ``tacker.common.rpc`` (the migration
module), ``tacker.service.Service.create`` on topic ``TACKER_CONDUCTOR`` and
oslo.service's ``launch(...).wait()``, with
:class:`tests.tacker.package_conductor.PackageConductor` as the manager.
"""

# tacker-conductor's entry module, imported first as the console script
# does: it selects oslo.service's backend.
from tacker import objects
from tacker.cmd import conductor  # noqa: F401
from tacker.conductor import conductor_server

if __name__ == "__main__":
    objects.register_all()
    conductor_server.main(
        manager="tests.tacker.package_conductor.PackageConductor")
