"""tacker_rpc: a ready RPC layer for OpenStack-style services.

The public API lives in :mod:`tacker_rpc.rpc`. Importing the package or any
of its modules changes nothing process-wide (oslo.service's backend
included: see :mod:`tacker_rpc.backend`).
"""

from importlib import metadata

try:
    __version__ = metadata.version("tacker_rpc")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"
