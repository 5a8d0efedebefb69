"""How an RPC server runs its handlers: a thread pool that grows on stalls.

oslo.messaging's threading executor (futurist's ``ThreadPoolExecutor``)
starts a new thread for every message until ``executor_thread_pool_size``
threads exist, so a busy server with quick handlers hands each message to
a different thread, and those threads contend for the GIL.
:class:`StallGrowingExecutor` keeps quick handlers on as few threads as keep
up and adds threads only when queued work has waited ``grow_after`` seconds
without a free thread (every thread is in a slow handler), so slow handlers
still run up to ``max_workers`` at a time.
"""

import collections
from concurrent import futures
import functools
import logging
import threading
import time

LOG = logging.getLogger(__name__)

#: Seconds a queued message may wait for a free thread before one is added
#: (the default of the ``rpc_executor_grow_after`` option).
DEFAULT_GROW_AFTER = 0.01

#: Seconds a thread beyond the first stays without work before it ends.
IDLE_TIMEOUT = 60.0


class StallGrowingExecutor:
    """A thread pool for :class:`oslo_messaging.MessageHandlingServer`.

    What a caller may rely on:

    * Work is picked up in submission order, by at most ``max_workers``
      threads at a time.
    * Work that finds no free thread gets a new one (while fewer than
      ``max_workers`` exist) after waiting about ``grow_after`` seconds at
      most: it never waits for a running handler to finish while the pool
      may still grow.
    * A free thread that ran most recently gets the next work, so quick
      handlers stay on few threads; threads without work for
      :data:`IDLE_TIMEOUT` seconds end, down to one.
    * :meth:`shutdown` refuses new work, and with ``wait`` returns once
      everything submitted has run.

    :param max_workers: ceiling of threads (``executor_thread_pool_size``).
    :param grow_after: seconds work may wait before a thread is added.
    """

    def __init__(self, max_workers, grow_after=DEFAULT_GROW_AFTER):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1, got %r"
                             % (max_workers,))
        if grow_after < 0:
            raise ValueError("grow_after must be >= 0, got %r"
                             % (grow_after,))
        self._max_workers = max_workers
        self._grow_after = grow_after
        self._lock = threading.Lock()
        self._queue = collections.deque()
        # Wake-up locks of free threads, the most recently free last.
        self._free = []
        # Threads woken or started that have not taken their work yet.
        self._claimed = 0
        self._threads = set()
        self._shutdown = False
        self._backlog = threading.Condition(self._lock)
        self._grower_asleep = False
        self._grower = threading.Thread(target=self._grow_on_stalls,
                                        name="rpc-executor-grower",
                                        daemon=True)
        self._grower.start()

    def submit(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` on a pool thread; returns a
        ``concurrent.futures.Future`` of its result.

        :raises RuntimeError: after :meth:`shutdown`.
        """
        future = futures.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit work after shutdown")
            self._queue.append((time.monotonic(), future, fn, args, kwargs))
            if self._free:
                self._claimed += 1
                self._free.pop().release()
            elif not self._threads:
                self._start_thread()
            elif self._grower_asleep:
                self._backlog.notify()
        return future

    def shutdown(self, wait=True):
        """Refuse new work; with ``wait``, return when all work has run."""
        with self._lock:
            self._shutdown = True
            while self._free:
                self._claimed += 1
                self._free.pop().release()
            self._backlog.notify_all()
        if not wait:
            return
        # The grower ends once the queue is empty; the threads are joined
        # after it, so that none it started is missed.
        self._grower.join()
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return
            for thread in threads:
                thread.join()

    @property
    def thread_count(self):
        """Threads currently in the pool."""
        with self._lock:
            return len(self._threads)

    def _start_thread(self):
        # With self._lock held.
        thread = threading.Thread(target=self._work, name="rpc-executor",
                                  daemon=True)
        self._threads.add(thread)
        self._claimed += 1
        thread.start()

    def _work(self):
        me = threading.current_thread()
        wake = threading.Lock()
        wake.acquire()
        with self._lock:
            self._claimed -= 1
        while True:
            with self._lock:
                item = self._next_item(me, wake)
            if item is None:
                return
            _, future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del item, future, fn, args, kwargs

    def _next_item(self, me, wake):
        """With self._lock held: the next work item, waiting for one while
        free; None when this thread is to end."""
        while not self._queue:
            if self._shutdown:
                self._threads.discard(me)
                return None
            self._free.append(wake)
            if not self._wait(wake, IDLE_TIMEOUT):
                if wake in self._free:
                    self._free.remove(wake)
                    if len(self._threads) > 1:
                        self._threads.discard(me)
                        return None
                    continue
                # Popped by submit or shutdown as the wait ended: the
                # release is made or about to be; take it.
                self._wait(wake, None)
            self._claimed -= 1
        item = self._queue.popleft()
        if self._shutdown and not self._queue:
            # The grower waits for the queue to drain before it ends.
            self._backlog.notify_all()
        return item

    def _wait(self, wake, timeout):
        """Wait for ``wake`` with self._lock released meanwhile."""
        self._lock.release()
        try:
            return wake.acquire(timeout=-1 if timeout is None else timeout)
        finally:
            self._lock.acquire()

    def _grow_on_stalls(self):
        with self._lock:
            while self._queue or not self._shutdown:
                unclaimed = len(self._queue) - self._claimed
                if (unclaimed <= 0
                        or len(self._threads) >= self._max_workers):
                    self._grower_asleep = True
                    self._backlog.wait()
                    self._grower_asleep = False
                    continue
                oldest = self._queue[self._claimed][0]
                waited = time.monotonic() - oldest
                if waited < self._grow_after:
                    self._backlog.wait(self._grow_after - waited)
                    continue
                for _ in range(min(unclaimed, self._max_workers
                                   - len(self._threads))):
                    self._start_thread()


def install(server, grow_after):
    """Make ``server`` (an oslo.messaging server not yet started) run its
    handlers on a :class:`StallGrowingExecutor`.

    oslo.messaging accepts only its own executor names, so this sets the
    executor class the server builds at ``start()``. Should a future
    oslo.messaging build it differently, the server keeps its own executor
    and a warning says so.
    """
    if not hasattr(server, "_executor_cls"):
        LOG.warning("This oslo.messaging has no executor class to replace; "
                    "%r keeps its own executor", server)
        return
    server._executor_cls = functools.partial(StallGrowingExecutor,
                                             grow_after=grow_after)
