"""Fixtures of the fault scenarios: journals, rpc.init on any broker, and
server processes running :class:`~tests.functional.faults.managers.
JournalManager`."""

from oslo_messaging import opts as om_opts
import pytest

from tacker_rpc import rpc
from tests import config
from tests.functional import conftest as functional
from tests.functional.faults import managers

JOURNAL_MANAGER = "tests.functional.faults.managers:JournalManager"


@pytest.fixture
def journal_dir(tmp_path, monkeypatch):
    """Directory the servers started by this test journal into."""
    monkeypatch.setenv(managers.JOURNAL_DIR_ENV, str(tmp_path))
    return str(tmp_path)


@pytest.fixture(params=["rabbit", "lean-rabbit"])
def driver_url(request):
    """``driver_url(url)``: ``url`` for the driver the test runs on; every
    fault scenario runs on oslo.messaging's driver and on lean-rabbit."""
    if request.param == "rabbit":
        return lambda url: url
    # Other schemes (a test's deliberately wrong URL) stay as they are.
    return lambda url: (config.lean_url(url) if url.startswith("rabbit://")
                        else url)


@pytest.fixture
def rpc_on(driver_url):
    """``rpc_on(url, **overrides)``: ``rpc.init`` on a private conf for
    ``url`` (overrides as for ``tests.functional.conftest.make_conf``);
    cleaned up after the test."""
    initialized = []

    def make_conf(url, **overrides):
        conf = functional.make_conf(driver_url(url))
        # Driver groups such as [oslo_messaging_rabbit] exist only once a
        # transport is made; register them to override them before.
        for group, options in om_opts.list_opts():
            conf.register_opts(options, group=group)
        for name, value in overrides.items():
            group, _, name = name.rpartition("__")
            conf.set_override(name, value, group=group or None)
        return conf

    def init(url, **overrides):
        conf = make_conf(url, **overrides)
        rpc.init(conf)
        initialized.append(conf)
        return conf

    init.make_conf = make_conf
    yield init
    if initialized:
        rpc.cleanup()


@pytest.fixture
def servers(rpc_on, journal_dir, driver_url):
    """``servers(url, topic, host, settings=())``: a journaling server
    process, ready to answer; every one is stopped after the test."""
    started = []

    def start(url, topic, host, settings=(), ready=True):
        server = functional.ServerProcess(driver_url(url), topic, host,
                                          JOURNAL_MANAGER, settings)
        started.append(server)
        return server.wait_ready() if ready else server

    yield start
    for server in started:
        server.stop()
