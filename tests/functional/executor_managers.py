"""A manager whose calls only return once several are inside at once."""

import threading

from tests.functional.managers import TestManager


class MeetingManager(TestManager):
    """``meet(parties)`` returns once ``parties`` calls are in it together,
    and raises ``BrokenBarrierError`` if they never are (handlers that run
    one at a time)."""

    def __init__(self, host):
        super().__init__(host)
        self._meetings = {}
        self._meetings_lock = threading.Lock()

    def meet(self, ctxt, parties, timeout):
        with self._meetings_lock:
            barrier = self._meetings.setdefault(
                parties, threading.Barrier(parties, timeout=timeout))
        return barrier.wait() >= 0
