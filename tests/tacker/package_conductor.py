"""A conductor manager of tacker's classes for tests/tacker.

tacker's own ``Conductor`` needs a database, glance_store and tooz before
it answers; this manager is built and started by tacker's start path
(``conductor_server.main``, ``tacker.service.Service``) in its place and
serves ``get_vnf_package_vnfd`` as ``VNFPackageRPCAPI`` calls it.
"""

from tacker import manager
from tacker.common import exceptions

#: The package id for which the manager raises tacker's
#: ``VnfPackageNotFound``.
MISSING_PACKAGE_ID = "00000000-0000-4000-8000-000000000404"


def class_path(value):
    return "%s.%s" % (type(value).__module__, type(value).__qualname__)


class PackageConductor(manager.Manager):

    def get_vnf_package_vnfd(self, context, vnf_package):
        """What the manager received: the classes of the context and the
        package, and the package's id and the context's project read as
        attributes (a dict has neither)."""
        if vnf_package.id == MISSING_PACKAGE_ID:
            raise exceptions.VnfPackageNotFound(id=vnf_package.id)
        return {
            "package_class": class_path(vnf_package),
            "package_id": vnf_package.id,
            "context_class": class_path(context),
            "project_id": context.project_id,
        }
