"""go_json / parse_go_json: Go encoding/json output shape (spec §5.2) and json.Unmarshal semantics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import jinja2
import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.gojson import NilDict, NilList, go_json, parse_go_json


@dataclass
class Address:
    IP: str = ""
    IP6LinkLocal: str = ""
    IP6Global: str = ""
    Port: str = ""
    HostPort: str = ""
    Proto: str = ""
    HostIP: str = ""


@dataclass
class Container:
    ID: str = "abc"
    Addresses: list[Address] = field(default_factory=list)
    Labels: dict[str, str] = field(default_factory=NilDict)
    Mounts: list[Any] = field(default_factory=NilList)
    _cache: Any = None


class Stamp:
    """Stands in for GoTime: encodes through go_json_value()."""

    def go_json_value(self) -> str:
        return "2026-11-25T19:53:45.123456789Z"


def test_nil_list_and_dict_behave_as_empty_but_encode_as_null() -> None:
    assert list(NilList()) == [] and len(NilDict()) == 0
    assert not NilList() and not NilDict()
    assert go_json(NilList()) == "null"
    assert go_json(NilDict()) == "null"
    assert go_json([]) == "[]"
    assert go_json({}) == "{}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        ("x", '"x"'),
        ([1, "a", None], '[1,"a",null]'),
        ((1, 2), "[1,2]"),
        ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
        ({10: "x", 2: "y"}, '{"10":"x","2":"y"}'),  # int keys become strings, sorted as strings
        (jinja2.Undefined(name="x"), "null"),
    ],
)
def test_compact_values(value: Any, expected: str) -> None:
    assert go_json(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (1.5, "1.5"),
        (-2.25, "-2.25"),
        (0.0, "0"),
        (-0.0, "-0"),
        (100.0, "100"),
        (123456789.0, "123456789"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1.25e-10, "1.25e-10"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (80.0, "80"),
    ],
)
def test_floats_print_like_go(value: float, expected: str) -> None:
    assert go_json(value) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_errors(value: float) -> None:
    with pytest.raises(TemplateFunctionError, match="json: unsupported value"):
        go_json(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a&b>", '"\\u003ca\\u0026b\\u003e"'),
        ('q"b\\s/', '"q\\"b\\\\s/"'),
        ("\n\r\t", '"\\n\\r\\t"'),
        ("\b\f", '"\\b\\f"'),
        ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'),
        ("\x7f", '"\x7f"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("café 日本", '"café 日本"'),
        ("\U0001F600", '"\U0001F600"'),
        ("bad\udc80byte", '"bad\\ufffdbyte"'),
    ],
)
def test_strings_are_escaped_like_go(value: str, expected: str) -> None:
    assert go_json(value) == expected


def test_html_escaping_can_be_disabled() -> None:
    assert go_json("<a&b>", escape_html=False) == '"<a&b>"'
    assert go_json({"<k>": 1}) == '{"\\u003ck\\u003e":1}'


def test_dataclasses_keep_field_order_and_skip_private_fields() -> None:
    container = Container(Addresses=[Address(Port="80", Proto="tcp")])
    assert go_json(container) == (
        '{"ID":"abc","Addresses":[{"IP":"","IP6LinkLocal":"","IP6Global":"","Port":"80","HostPort":"",'
        '"Proto":"tcp","HostIP":""}],"Labels":null,"Mounts":null}'
    )


def test_runtime_container_model_field_order() -> None:
    """Spec §5.2: a container's keys come out in docker-gen's struct field order."""
    model = pytest.importorskip("pygen.docker.model")
    encoded = parse_go_json(go_json(model.RuntimeContainer()))
    assert list(encoded) == [
        "ID", "Created", "Addresses", "Networks", "Devices", "Gateway", "Name", "Hostname", "NetworkMode",
        "Image", "Env", "Volumes", "Node", "Labels", "IP", "IP6LinkLocal", "IP6Global", "Mounts", "State",
    ]
    assert encoded["Mounts"] is None


def test_go_json_value_replaces_the_object() -> None:
    assert go_json({"Created": Stamp()}) == '{"Created":"2026-11-25T19:53:45.123456789Z"}'


def test_indented_output_matches_marshal_indent() -> None:
    value = {"b": {}, "a": [1, 2], "c": None, "d": [], "e": {"x": [{"y": NilList()}]}}
    assert go_json(value, indent=2) == (
        "{\n"
        '  "a": [\n'
        "    1,\n"
        "    2\n"
        "  ],\n"
        '  "b": {},\n'
        '  "c": null,\n'
        '  "d": [],\n'
        '  "e": {\n'
        '    "x": [\n'
        "      {\n"
        '        "y": null\n'
        "      }\n"
        "    ]\n"
        "  }\n"
        "}"
    )


def test_indented_scalars_and_empty_containers_stay_on_one_line() -> None:
    assert go_json("x", indent=2) == '"x"'
    assert go_json([], indent=2) == "[]"
    assert go_json(NilDict(), indent=2) == "null"


def test_cycles_are_errors_not_recursion() -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(TemplateFunctionError, match="cycle"):
        go_json(looped)


def test_shared_but_acyclic_values_are_fine() -> None:
    shared = {"a": 1}
    assert go_json([shared, shared]) == '[{"a":1},{"a":1}]'


def test_unsupported_types_are_errors() -> None:
    with pytest.raises(TemplateFunctionError, match="unsupported type"):
        go_json(object())
    with pytest.raises(TemplateFunctionError, match="unsupported type"):
        go_json({True: 1})


def test_bytes_are_base64_like_go() -> None:
    assert go_json(b"hi") == '"aGk="'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1, "b": [true, null, "x"], "c": 1.5}', {"a": 1.0, "b": [True, None, "x"], "c": 1.5}),
        ("3", 3.0),
        ("null", None),
        (' "s" ', "s"),
        ('{"a": 1, "a": 2}', {"a": 2.0}),
    ],
)
def test_parse_go_json(text: str, expected: Any) -> None:
    decoded = parse_go_json(text)
    assert decoded == expected


def test_parsed_numbers_are_floats() -> None:
    assert isinstance(parse_go_json('{"n": 80}')["n"], float)


@pytest.mark.parametrize("text", ["", "   ", "{", "[1,]", "NaN", "Infinity", '{"a":1} x', "1e400", "'a'"])
def test_parse_go_json_errors(text: str) -> None:
    with pytest.raises(TemplateFunctionError):
        parse_go_json(text)


def test_parse_empty_input_message() -> None:
    with pytest.raises(TemplateFunctionError, match="unexpected end of JSON input"):
        parse_go_json("")


def test_round_trip() -> None:
    value = {"list": [1.5, "a", None, True], "map": {"k": "v"}}
    assert parse_go_json(go_json(value)) == value


def test_go_nil_lists_and_maps_print_as_empty_ones():
    """`{{ c.Mounts }}` of a container without mounts prints `[]`, not a class name."""
    from pygen.functions.registry import docker_gen_functions
    from pygen.templating import make_environment

    environment = make_environment([], docker_gen_functions())
    assert environment.from_string("{{ a }} {{ b }}").render(a=NilList(), b=NilDict()) == "[] {}"
