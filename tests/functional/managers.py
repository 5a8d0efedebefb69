"""Managers the functional tests' server processes run."""

import os
import threading
import time

from tacker_rpc import exceptions
from tacker_rpc import rpc
from tests.functional import remote_errors


def refusal(vnf_id):
    """The Errors TestManager.refuse raises for ``vnf_id``."""
    return [exceptions.Error("INVALID_ID", "not a VNF id", field="vnf_id",
                             details={"got": vnf_id, "expected": ["vnf-*"]}),
            exceptions.Error("QUOTA", "no room for another VNF")]


class NotAllowedError(Exception):
    """Raised remotely from a module that is not in the allowed list."""


class TestManager:
    """Echo, sleep, record casts, fail on demand."""

    def __init__(self, host):
        self.host = host
        self.recorded = []
        self.sleeping = 0
        self._lock = threading.Lock()
        self.service = None

    def initialize_service_hook(self, service):
        self.service = service

    def echo(self, ctxt, value):
        return value

    def whoami(self, ctxt):
        """Who answered, and the request context as the server sees it."""
        context_type = type(ctxt)
        return {"host": self.host, "pid": os.getpid(),
                "service_topic": getattr(self.service, "topic", None),
                "context_class": "%s.%s" % (context_type.__module__,
                                            context_type.__name__),
                "context": {name: getattr(ctxt, name) for name in (
                    "user_id", "project_id", "roles", "is_admin",
                    "request_id", "global_request_id")}}

    def sleep(self, ctxt, seconds):
        with self._lock:
            self.sleeping += 1
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self.sleeping -= 1
        return seconds

    def sleeping_now(self, ctxt):
        """How many sleep() calls are in progress."""
        with self._lock:
            return self.sleeping

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

    def fail_extra(self, ctxt, message):
        raise remote_errors.VnfNotFound(message)

    def fail_builtin(self, ctxt, message):
        raise KeyError(message)

    def refuse(self, ctxt, vnf_id):
        raise exceptions.ActionError(refusal(vnf_id))

    def refuse_extra(self, ctxt, vnf_id):
        raise remote_errors.VnfRefused(refusal(vnf_id))

    def _private(self, ctxt):
        return "must never be reachable"


class SelfServingService(rpc.Service):
    """A Service that is its own manager (built without one), as tacker's
    Service may be: its own public methods are served."""

    def echo(self, ctxt, value):
        return value

    def served_by(self, ctxt):
        return {"topic": self.topic, "host": self.host}
