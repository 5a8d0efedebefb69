"""A manager whose ``work`` method can be told to stall for a while."""

import threading
import time

from tests.functional.managers import TestManager


class StallManager(TestManager):
    """TestManager plus ``work``, which holds every request until the
    wall-clock time set by ``stall_until`` has passed, then answers at
    once."""

    def __init__(self, host):
        super().__init__(host)
        self._stall_lock = threading.Lock()
        self._stalled_until = 0.0

    def stall_until(self, ctxt, deadline):
        """Hold ``work`` requests until ``deadline`` (a time.time() value).

        :returns: how many seconds from now that is.
        """
        with self._stall_lock:
            self._stalled_until = float(deadline)
        return deadline - time.time()

    def work(self, ctxt):
        with self._stall_lock:
            pause = self._stalled_until - time.time()
        if pause > 0:
            time.sleep(pause)
        return self.host
