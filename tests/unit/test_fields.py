"""Field declarations and the checks of named values against them."""

import datetime
import typing

import pytest

from tacker_rpc import exceptions
from tacker_rpc import fields


class Vnf:
    """Stands for an object a serializer rebuilds on the server."""


def refusal(field_type, value, **options):
    """What checking ``value`` against a field of ``field_type`` says, or
    None when it is accepted."""
    checked = fields.Fields({"x": fields.Field(field_type, **options)},
                            "API.m()", "argument")
    try:
        checked.check({"x": value})
    except exceptions.InvalidArguments as exc:
        assert (exc.field, exc.method) == ("x", "API.m()")
        return str(exc)
    return None


@pytest.mark.parametrize("field_type, value", [
    (str, "a"), (int, 3), (float, 2.5), (float, 2), (bool, False),
    (dict, {"a": 1}), (list, [1, "a"]), (type(None), None), (None, None),
    (typing.Any, object()), (list[str], []), (list[str], ["a", "b"]),
    (dict[str, int], {"a": 1}), (typing.Optional[str], None),
    (str | None, "a"), (typing.Union[int, str], "a"),
    (typing.Literal["a", "b"], "b"), (Vnf, Vnf()),
    (list[dict[str, list[int]]], [{"a": [1]}, {}]),
    (datetime.datetime, datetime.datetime(2026, 1, 1)),
])
def test_accepted(field_type, value):
    assert refusal(field_type, value) is None


@pytest.mark.parametrize("field_type, value, message", [
    (str, 3, "argument 'x' must be str, got int 3"),
    (int, True, "argument 'x' must be int, got bool True"),
    (float, False, "argument 'x' must be float, got bool False"),
    (int, 2.0, "argument 'x' must be int, got float 2.0"),
    (str, None, "argument 'x' must be str, got NoneType None"),
    (dict, [], "argument 'x' must be dict, got list []"),
    (list[str], ["a", 2], "argument 'x'[1] must be str, got int 2"),
    (list[str], "ab", "argument 'x' must be list[str], got str 'ab'"),
    (dict[str, int], {"a": "1"}, "argument 'x'['a'] must be int, got str"),
    (dict[str, int], {1: 1}, "argument 'x' key 1 must be str"),
    (str | None, 1, "argument 'x' must be str | None, got int 1"),
    (typing.Literal["a", "b"], "c", "argument 'x' must be 'a' | 'b'"),
    (typing.Literal[1], True, "argument 'x' must be 1, got bool True"),
    (Vnf, {"id": 1}, "argument 'x' must be %s.Vnf, got dict" % __name__),
])
def test_refused_with_the_path_to_the_fault(field_type, value, message):
    found = refusal(field_type, value)
    assert found is not None and found.startswith("API.m(): " + message), \
        found


def test_a_default_of_none_accepts_none():
    assert refusal(str, None, default=None) is None
    assert refusal(str, 3, default=None) is not None


def test_unknown_and_missing_are_named():
    checked = fields.Fields(
        {"a": fields.Field(str), "b": fields.Field(int, default=1)},
        "Certs.request()", "field")
    with pytest.raises(exceptions.InvalidArguments,
                       match=r"^Certs.request\(\): field 'c' is not one of "
                             r"\(a, b\)$") as error:
        checked.check({"a": "x", "c": 1})
    assert error.value.field == "c"
    with pytest.raises(exceptions.InvalidArguments,
                       match=r"field 'a' is missing$") as error:
        checked.check({"b": 2})
    assert error.value.field == "a"
    checked.check({"a": "x"})
    with pytest.raises(exceptions.InvalidArguments, match=r"\(none\)"):
        fields.Fields({}, "f()").check({"z": 1})


def test_long_values_are_cut_in_messages():
    found = refusal(int, "x" * 10000)
    assert len(found) < 200


@pytest.mark.parametrize("field_type, problem", [
    (tuple, "does not survive JSON"), (set, "does not survive JSON"),
    (bytes, "does not survive JSON"), (list[bytes], "does not survive"),
    (dict[int, str], "JSON object keys are strings"),
    (typing.Callable[[int], int], "cannot be checked"),
    ("str", "cannot be checked"),
])
def test_types_that_cannot_be_checked_are_refused_when_declared(
        field_type, problem):
    with pytest.raises(exceptions.InvalidDeclaration, match=problem):
        fields.Field(field_type)


def test_required_with_a_default_is_refused():
    with pytest.raises(exceptions.InvalidDeclaration, match="required"):
        fields.Field(str, required=True, default="a")


def test_optional_without_default():
    field = fields.Field(str, required=False)
    assert not field.required
    fields.Fields({"a": field}, "f()").check({})


def test_describe():
    checked = fields.Fields({
        "name": fields.Field(str, "the name"),
        "tags": fields.Field(list[str] | None, default=None),
        "when": fields.Field(datetime.date, default=datetime.date(2026, 1,
                                                                   2)),
        "any": fields.Field(),
    }, "f()")
    assert checked.describe() == [
        {"name": "name", "type": "str", "description": "the name",
         "required": True},
        {"name": "tags", "type": "list[str] | None", "description": "",
         "required": False, "default": None},
        {"name": "when", "type": "datetime.date", "description": "",
         "required": False, "default": "datetime.date(2026, 1, 2)"},
        {"name": "any", "type": "any", "description": "", "required": True},
    ]


def test_one_field_class_under_the_names_declarations_import():
    from tacker_rpc import api
    from tacker_rpc import fields
    from tacker_rpc import reqresp
    assert api.Field is reqresp.Field is fields.Field


def test_the_old_name_of_reqresp_delivery_is_the_same_module(monkeypatch):
    from tacker_rpc.reqresp import delivery
    from tacker_rpc.reqresp import wire
    import tacker_rpc.reqresp.wire as wire_again
    assert wire is wire_again is delivery
    monkeypatch.setattr(wire, "REQUEUE_DELAY", 0.5)
    assert delivery.REQUEUE_DELAY == 0.5
