"""Unit tests of the shape check of incoming RPC messages."""

import pytest

from tacker_rpc import dispatcher
from tacker_rpc import exceptions


@pytest.mark.parametrize("message, names", [
    ({}, "'method' is None"),
    ({"method": ""}, "'method' is ''"),
    ({"method": 42}, "'method' is 42"),
    ({"method": "echo", "args": ["a"]}, "'args' must be a dict"),
    ({"method": "echo", "args": {}, "namespace": 1},
     "'namespace' must be a string"),
    ({"method": "echo", "version": 1.0}, "'version' must be a string"),
])
def test_malformed_message_is_refused_naming_the_field(message, names):
    with pytest.raises(exceptions.InvalidMessage, match=names):
        dispatcher.check_message(message)


def test_huge_field_is_shortened_in_the_error():
    with pytest.raises(exceptions.InvalidMessage) as raised:
        dispatcher.check_message({"method": "echo", "args": "x" * 10 ** 6})
    assert len(str(raised.value)) < 300


def test_well_formed_messages_pass():
    dispatcher.check_message({"method": "echo"})
    dispatcher.check_message({"method": "echo", "args": {"value": 1},
                              "namespace": None, "version": "1.0"})
