"""tacker_rpc: a ready RPC layer for OpenStack-style services.

The public API lives in :mod:`tacker_rpc.rpc`.
"""

from importlib import metadata

from tacker_rpc import backend as _backend

try:
    __version__ = metadata.version("tacker_rpc")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

# The toolkit runs on native threads: oslo.service's threading backend,
# selected here whether oslo_messaging was imported before or not.
_backend.select_threading()
