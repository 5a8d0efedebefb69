"""The manager the fault scenarios' server processes run.

Every request it receives is written to a journal file before it is handled,
one ``os.write`` per line on a file opened with ``O_APPEND``: a line reaches
the kernel at once, so it survives a SIGKILL of the process and lines of
several processes (a server and the one started after it crashed) never
interleave.
"""

import os
import time

from tests.functional import managers

#: Environment variable naming the directory of the journals; the tests set
#: it and the server processes inherit it.
JOURNAL_DIR_ENV = "TRPC_FAULT_JOURNAL_DIR"


def journal_path(directory, host):
    return os.path.join(directory, "%s.journal" % host)


class JournalManager(managers.TestManager):
    """:class:`TestManager` whose ``logged_call`` and ``logged_cast`` write
    ``<kind> <token> <pid>`` lines to ``<dir>/<host>.journal``."""

    def __init__(self, host):
        super().__init__(host)
        self._journal = os.open(
            journal_path(os.environ[JOURNAL_DIR_ENV], host),
            os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _write(self, kind, token):
        os.write(self._journal, ("%s %s %d\n" % (kind, token, os.getpid()))
                 .encode())

    def logged_call(self, ctxt, token, seconds=0):
        """Journal ``call``, sleep ``seconds``, journal ``reply``; returns
        ``token``."""
        self._write("call", token)
        if seconds:
            time.sleep(seconds)
        self._write("reply", token)
        return token

    def logged_cast(self, ctxt, token):
        self._write("cast", token)

    def fail_as(self, ctxt, module, name):
        """Raise an exception whose class claims to live in ``module`` under
        ``name``: what reaches the caller is a reply naming that module."""
        forged = type(name, (Exception,), {"__module__": module})
        raise forged("raised by %s as %s.%s" % (self.host, module, name))
