"""A declared API and the managers that implement it (or fail to), for
the functional tests' server processes and their clients alike."""

import os
import threading
import time

from tacker_rpc import api


class InventoryAPI(api.RPCAPI):
    """An inventory service: one declaration for both sides."""

    version = "1.2"

    @api.call(since="1.0")
    def echo(self, ctxt, value):
        """Return value (what ServerProcess.wait_ready calls)."""

    @api.call(since="1.0")
    def get_item(self, ctxt, item_id: api.Field(str, "the item's id"),
                 detail: bool = False) -> dict:
        """One item, and who served it."""

    @api.call(since="1.0")
    def slow_echo(self, ctxt, value: int, seconds: float) -> int:
        """Return value after sleeping seconds."""

    @api.call(since="1.0")
    def fail(self, ctxt, message: str):
        """Raise KeyError(message)."""

    @api.call(since="1.0")
    def reached(self, ctxt) -> dict:
        """How often each method ran, and the most slow_echo at once."""

    @api.cast(since="1.1")
    def record(self, ctxt, token: str):
        """Keep token."""

    @api.call(since="1.1")
    def recorded(self, ctxt) -> list[str]:
        """The tokens kept, in order."""

    @api.call(since="1.2")
    def newest(self, ctxt) -> str:
        """Only servers of 1.2 have it."""


@api.implements(InventoryAPI)
class InventoryManager:
    def __init__(self, host):
        self.host = host
        self._lock = threading.Lock()
        self._reached = {}
        self._running = self._most_running = 0
        self._tokens = []

    def _count(self, name):
        with self._lock:
            self._reached[name] = self._reached.get(name, 0) + 1

    def echo(self, ctxt, value):
        return value

    def get_item(self, ctxt, item_id, detail=False):
        self._count("get_item")
        return {"id": item_id, "detail": detail, "host": self.host,
                "pid": os.getpid()}

    def slow_echo(self, ctxt, value, seconds):
        with self._lock:
            self._running += 1
            self._most_running = max(self._most_running, self._running)
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self._running -= 1
        return value

    def fail(self, ctxt, message):
        raise KeyError(message)

    def reached(self, ctxt):
        with self._lock:
            return {"methods": dict(self._reached),
                    "most_slow_echo_at_once": self._most_running}

    def record(self, ctxt, token):
        with self._lock:
            self._tokens.append(token)

    def recorded(self, ctxt):
        with self._lock:
            return list(self._tokens)

    def newest(self, ctxt):
        return "1.2"


@api.implements(InventoryAPI)
class MismatchedManager(InventoryManager):
    """get_item lacks detail, record requires an undeclared argument."""

    def get_item(self, ctxt, item_id):
        return {}

    def record(self, ctxt, token, when):
        pass


class EchoAPI(api.RPCAPI):
    """What the plain TestManager of tests.functional.managers serves,
    declared: a declared client of a plain server."""

    @api.call(since="1.0")
    def echo(self, ctxt, value):
        """Return value."""

    @api.call(since="1.0")
    def whoami(self, ctxt) -> dict:
        """Who answered."""
