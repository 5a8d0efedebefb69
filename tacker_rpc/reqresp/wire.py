"""The old name of :mod:`tacker_rpc.reqresp.delivery`, kept so that
``from tacker_rpc.reqresp import wire`` keeps working: importing it gives
that very module (one object: ``mock.patch`` on either name patches
both). Not to be confused with :mod:`tacker_rpc.driver.wire`, the
lean-rabbit driver's AMQP wire."""

import sys

from tacker_rpc.reqresp import delivery

sys.modules[__name__] = delivery
