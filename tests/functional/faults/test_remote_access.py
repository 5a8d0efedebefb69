"""What a caller may be made to do by a reply, and what it may call.

* A failure reply is rebuilt as its own class only when its module is in
  ``rpc.get_allowed_exmods()``; any other module gives ``RemoteError`` and
  is never imported.
* Methods whose name starts with ``_`` are not callable remotely.
"""

import subprocess
import sys
import time

import oslo_messaging
import pytest

from tacker_rpc import exceptions
from tacker_rpc import rpc

# Not imported by anything in a test run: importing it prints the Zen of
# Python, so an import by the client would be visible in sys.modules.
UNIMPORTED = "this"


@pytest.fixture
def service(broker_url, rpc_on, servers, journal_dir, topic):
    rpc_on(broker_url, rpc_response_timeout=30)
    servers(broker_url, topic, "access")
    return rpc.get_client(oslo_messaging.Target(topic=topic))


FORGED = [
    ("os", "system"),
    ("subprocess", "CalledProcessError"),
    (UNIMPORTED, "Zen"),
    ("builtins", "SystemExit"),  # always importable, not an Exception
    ("tacker_rpc.exceptions", "LOG"),  # allowed module, not a class in it
]


def test_reply_naming_another_module_is_remote_error_and_imports_nothing(
        service):
    assert UNIMPORTED not in sys.modules
    modules_before = set(sys.modules)
    for module, name in FORGED:
        with pytest.raises(oslo_messaging.RemoteError) as raised:
            service.call({}, "fail_as", module=module, name=name)
        assert raised.value.exc_type == name
        assert ("raised by access as %s.%s" % (module, name)
                in str(raised.value))
    assert set(sys.modules) == modules_before
    assert UNIMPORTED not in sys.modules


def test_reply_naming_an_allowed_module_is_rebuilt_as_its_class(service):
    with pytest.raises(exceptions.InvalidContext):
        service.call({}, "fail_allowed", message="allowed")
    # subprocess really is a module the caller has imported; that does not
    # make it allowed.
    assert sys.modules["subprocess"] is subprocess
    with pytest.raises(oslo_messaging.RemoteError):
        service.call({}, "fail_as", module="subprocess",
                     name="SubprocessError")


def test_private_methods_are_not_callable_remotely(service):
    for method in ("_private", "_write", "__init__", "__class__",
                   "__getattribute__"):
        started = time.monotonic()
        with pytest.raises(oslo_messaging.RemoteError) as raised:
            service.call({}, method)
        assert raised.value.exc_type == "NoSuchMethod"
        assert method in str(raised.value)
        assert time.monotonic() - started < 15
    assert service.call({}, "echo", value="still serving") == "still serving"
