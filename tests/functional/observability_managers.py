"""Managers of the observability tests' server processes."""

import logging
import os
import threading

import oslo_messaging

from tacker_rpc import health
from tacker_rpc import rpc
from tests.functional.managers import TestManager

LOG = logging.getLogger(__name__)


class RelayManager(TestManager):
    """Passes a request down a chain of topics, as manager code that does
    not pass its context on: every call, cast and notification it makes
    gets an empty context."""

    def __init__(self, host):
        super().__init__(host)
        self.casts_seen = []
        self._seen_lock = threading.Lock()

    def relay(self, ctxt, chain):
        """What each server of the chain saw, this one first."""
        LOG.info("relay at %s, %d hop(s) to go", self.host, len(chain))
        seen = [{"host": self.host, "pid": os.getpid(),
                 "request_id": ctxt.request_id,
                 "global_request_id": ctxt.global_request_id}]
        if chain:
            client = rpc.get_client(oslo_messaging.Target(topic=chain[0]))
            client.cast({}, "remember_cast", sender=self.host)
            seen += client.call({}, "relay", chain=chain[1:])
        else:
            rpc.get_notifier("relay").info({}, "relay.end",
                                           {"host": self.host})
        return seen

    def remember_cast(self, ctxt, sender):
        LOG.info("cast from %s arrived at %s", sender, self.host)
        with self._seen_lock:
            self.casts_seen.append({"sender": sender,
                                    "global_request_id":
                                        ctxt.global_request_id})

    def get_casts_seen(self, ctxt):
        with self._seen_lock:
            return list(self.casts_seen)


class HealthyManager(TestManager):
    @health.check
    def database(self):
        return health.OK, "3 connections"

    @health.check
    def disk(self):
        return health.WARNING, "81% full"


class FailingManager(TestManager):
    @health.check
    def database(self):
        return health.ERROR, "cannot reach db.example:5432"

    @health.check
    def disk(self):
        return health.OK
