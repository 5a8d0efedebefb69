"""A tacker-server-like client: calls the conductor through
``VNFPackageRPCAPI`` and prints what came back, as JSON.

    python -m tests.tacker.api_client_main --config-file FILE -- ID...

Starts as tacker-server does: eventlet monkey patching
(``tacker.cmd.eventlet``), ``tacker.common.config.init`` (which calls
``rpc.init`` of the migration module) and object registration. Then calls
``get_vnf_package_vnfd`` once per package id, with a ``tacker.context``
admin context, and prints one JSON object: ``calls``, per id either
``{"result": ...}`` or ``{"raised": [class paths of the exception's
MRO], "message": ...}``, and ``warnings``, the warnings the process got.
"""

# First, as tacker-server's entry module (tacker/cmd/eventlet) is.
import tacker.cmd.eventlet  # noqa: F401,I001

import json
import sys
import warnings

from tacker.common import config
from tacker.common import exceptions
from tacker.conductor.conductorrpc import vnf_pkgm_rpc
from tacker import context
from tacker import objects


def class_path(cls):
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def main(argv):
    separator = argv.index("--")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config.init(argv[:separator])
        objects.register_all()
        ctxt = context.get_admin_context()
        api = vnf_pkgm_rpc.VNFPackageRPCAPI()
        calls = {}
        for package_id in argv[separator + 1:]:
            package = objects.VnfPackage(id=package_id,
                                         onboarding_state="ONBOARDED")
            try:
                calls[package_id] = {
                    "result": api.get_vnf_package_vnfd(ctxt, package)}
            except exceptions.TackerException as error:
                calls[package_id] = {
                    "raised": [class_path(cls) for cls in type(error).__mro__],
                    "message": str(error)}
    json.dump({"calls": calls,
               "warnings": ["%s: %s" % (w.category.__name__, w.message)
                            for w in caught]}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
