"""Shared by all tests.

``tacker_rpc`` is imported before anything imports oslo.messaging, so that
oslo.service's threading backend is selected for this process, as it is in
a daemon that imports tacker_rpc first.
"""

import tacker_rpc  # noqa: F401
