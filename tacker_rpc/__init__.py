"""tacker_rpc: a ready RPC layer for OpenStack-style services.

The public API lives in :mod:`tacker_rpc.rpc`.
"""

from importlib import metadata
import warnings

from oslo_service import backend as _oslo_service_backend

try:
    __version__ = metadata.version("tacker_rpc")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

# oslo.service fixes its backend the first time oslo_service.service is
# imported (oslo_messaging does so), and eventlet is its default. The toolkit
# runs on native threads, so it selects the threading backend before any
# other module of it imports oslo.messaging.
if _oslo_service_backend.get_backend_type() is None:
    with warnings.catch_warnings():
        # The threading backend imports futurist, which imports eventlet
        # when it is installed (oslo.service depends on it), and eventlet
        # warns at import that it is deprecated. Nothing here runs on
        # eventlet: that warning would only be noise on every command.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        _oslo_service_backend.init_backend(
            _oslo_service_backend.BackendType.THREADING)
elif (_oslo_service_backend.get_backend_type()
      is not _oslo_service_backend.BackendType.THREADING):
    warnings.warn(
        "oslo.service's %s backend was selected before tacker_rpc was "
        "imported; import tacker_rpc before oslo_messaging or "
        "oslo_service.service so that services run on native threads"
        % _oslo_service_backend.get_backend_type().value, RuntimeWarning,
        stacklevel=2)
