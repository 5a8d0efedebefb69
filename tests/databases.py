"""Private PostgreSQL and MariaDB servers for the request store's tests.

Each server runs from a fresh data directory in a temporary directory and
listens only on a unix socket there; :meth:`DatabaseServer.new_database`
makes an empty database for one test. Every process started is stopped by
pid. A server that cannot start raises :class:`RuntimeError` saying what
is missing: tools/run-tests.sh installs Debian's postgresql and
mariadb-server.

PostgreSQL refuses to run as root: as root, the server runs as the
``postgres`` user that Debian's postgresql package creates.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import sqlalchemy as sa

#: Seconds a server may take to accept connections; far above what one
#: needs, reached only when it cannot start.
START_DEADLINE = 120

INSTALL_HINT = ("Run tools/run-tests.sh (it installs Debian's postgresql "
                "and mariadb-server as root) or apt-get install them.")


def _program(names, patterns=()):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    for pattern in patterns:
        found = sorted(glob.glob(pattern), key=_version_key)
        if found:
            return found[-1]
    return None


def _version_key(path):
    return [int(part) if part.isdigit() else 0 for part in path.split("/")]


class DatabaseServer:
    """A server of ``NAME`` in its own temporary directory."""

    NAME = None
    #: Stops the server without waiting for its clients to disconnect.
    STOP_SIGNAL = signal.SIGTERM

    def __init__(self):
        # In /tmp: reachable by the postgres user (the servers also run
        # there, whatever the caller's directory), and short enough for a
        # unix socket path (at most 107 bytes).
        self.dir = tempfile.mkdtemp(prefix="trpc-%s-" % self.NAME,
                                    dir="/tmp")
        self.log_path = os.path.join(self.dir, "server.log")
        self._proc = None

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(self.STOP_SIGNAL)
            try:
                self._proc.wait(60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def new_database(self):
        """The SQLAlchemy URL of a new, empty database."""
        name = "trpc_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(self.url(self.ADMIN_DATABASE),
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE %s" % name)
        engine.dispose()
        return self.url(name)

    def log(self):
        try:
            with open(self.log_path) as log:
                return log.read()[-4000:]
        except OSError:
            return ""

    def _run(self, command, **kwargs):
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=START_DEADLINE, cwd=self.dir, **kwargs)
        if done.returncode:
            raise RuntimeError("%s: %s failed (%d):\n%s%s" % (
                self.NAME, " ".join(command), done.returncode, done.stdout,
                done.stderr))

    def _serve(self, command, **kwargs):
        """Start ``command`` and wait until the server takes a
        connection."""
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=self.dir, **kwargs)
        engine = sa.create_engine(self.url(self.ADMIN_DATABASE))
        end = time.monotonic() + START_DEADLINE
        try:
            while True:
                if self._proc.poll() is not None:
                    raise RuntimeError("%s exited with %s:\n%s" % (
                        self.NAME, self._proc.returncode, self.log()))
                try:
                    with engine.connect():
                        return
                except sa.exc.OperationalError as exc:
                    if time.monotonic() > end:
                        raise RuntimeError(
                            "%s takes no connection after %ss (%s):\n%s" % (
                                self.NAME, START_DEADLINE, exc, self.log()))
                    time.sleep(0.2)
        finally:
            engine.dispose()


class PostgreSQLServer(DatabaseServer):
    NAME = "postgresql"
    ADMIN_DATABASE = "postgres"
    STOP_SIGNAL = signal.SIGINT  # "fast" shutdown; SIGTERM waits

    def url(self, database):
        return "postgresql+psycopg2://postgres@/%s?host=%s" % (
            database, self.dir)

    def _start(self):
        initdb = _program(["initdb"], ["/usr/lib/postgresql/*/bin/initdb"])
        if initdb is None:
            raise RuntimeError("PostgreSQL's initdb is not installed; the "
                               "request store tests start a private "
                               "server. " + INSTALL_HINT)
        user = {}
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "PostgreSQL refuses to run as root and there is no "
                    "'postgres' user to run it as. " + INSTALL_HINT)
            os.chown(self.dir, account.pw_uid, account.pw_gid)
            user = {"user": account.pw_uid, "group": account.pw_gid}
        data = os.path.join(self.dir, "data")
        self._run([initdb, "-D", data, "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"], **user)
        self._serve([os.path.join(os.path.dirname(initdb), "postgres"),
                     "-D", data, "-k", self.dir, "-c", "listen_addresses=",
                     "-c", "fsync=off"], **user)


class MariaDBServer(DatabaseServer):
    NAME = "mariadb"
    ADMIN_DATABASE = "mysql"

    def url(self, database):
        return ("mysql+pymysql://root@localhost/%s?unix_socket=%s"
                "&charset=utf8mb4" % (database, self._socket()))

    def _socket(self):
        return os.path.join(self.dir, "mysqld.sock")

    def _start(self):
        install = _program(["mariadb-install-db", "mysql_install_db"])
        server = _program(["mariadbd", "mysqld"],
                          ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"])
        if install is None or server is None:
            raise RuntimeError("MariaDB (mariadb-install-db, mariadbd) is "
                               "not installed; the request store tests "
                               "start a private server. " + INSTALL_HINT)
        data = os.path.join(self.dir, "data")
        user = pwd.getpwuid(os.geteuid()).pw_name
        self._run([install, "--no-defaults", "--datadir=" + data,
                   "--user=" + user, "--auth-root-authentication-method="
                   "normal", "--skip-test-db"])
        self._serve([server, "--no-defaults", "--datadir=" + data,
                     "--user=" + user, "--socket=" + self._socket(),
                     "--skip-networking",
                     "--pid-file=" + os.path.join(self.dir, "mysqld.pid"),
                     "--character-set-server=utf8mb4",
                     "--innodb-flush-log-at-trx-commit=0"])


SERVERS = {"postgresql": PostgreSQLServer, "mariadb": MariaDBServer}
