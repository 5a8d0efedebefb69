"""Managers the functional tests' server processes run."""

import os
import threading
import time

from tacker_rpc import exceptions


class NotAllowedError(Exception):
    """Raised remotely from a module that is not in the allowed list."""


class TestManager:
    """Echo, sleep, record casts, fail on demand."""

    def __init__(self, host):
        self.host = host
        self.recorded = []
        self._lock = threading.Lock()
        self.service = None

    def initialize_service_hook(self, service):
        self.service = service

    def echo(self, ctxt, value):
        return value

    def whoami(self, ctxt):
        return {"host": self.host, "pid": os.getpid(),
                "context": ctxt.to_dict()}

    def sleep(self, ctxt, seconds):
        time.sleep(seconds)
        return seconds

    def record(self, ctxt, token):
        with self._lock:
            self.recorded.append(token)

    def get_recorded(self, ctxt):
        with self._lock:
            return list(self.recorded)

    def fail_allowed(self, ctxt, message):
        raise exceptions.InvalidContext(message)

    def fail_not_allowed(self, ctxt, message):
        raise NotAllowedError(message)

    def fail_builtin(self, ctxt, message):
        raise KeyError(message)

    def _private(self, ctxt):
        return "must never be reachable"
