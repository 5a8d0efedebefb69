"""The test database servers fail, not skip, when they cannot start, and
say what to install."""

import os

import pytest

from tests import databases


@pytest.mark.parametrize("name", sorted(databases.SERVERS))
def test_a_missing_server_fails_naming_what_to_install(name, monkeypatch):
    monkeypatch.setattr(databases, "_program", lambda *args: None)
    server = databases.SERVERS[name]()
    with pytest.raises(RuntimeError, match="not installed.*run-tests.sh"):
        server.start()
    assert not os.path.exists(server.dir)
