"""json/parseJson/toJson/toPrettyJson and fromYaml/mustFromYaml/toYaml/mustToYaml (yaml.v3 shapes)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.gojson import NilDict, NilList
from pygen.functions.goyaml import sorted_yaml_keys
from pygen.functions.serialization import (
    from_yaml,
    json_,
    must_from_yaml,
    must_to_yaml,
    parse_json,
    to_json,
    to_pretty_json,
    to_yaml,
)

# ---------------------------------------------------------------------------- JSON


def test_json_is_compact_and_html_escaped() -> None:
    assert json_({"b": "<x>", "a": [1.0, None]}) == '{"a":[1,null],"b":"\\u003cx\\u003e"}'


def test_json_fails_where_to_json_returns_empty() -> None:
    with pytest.raises(TemplateFunctionError):
        json_(math.nan)
    assert to_json(math.nan) == ""
    assert to_pretty_json(math.nan) == ""


def test_to_pretty_json_indents_by_two() -> None:
    assert to_pretty_json({"a": [1], "b": "<"}) == '{\n  "a": [\n    1\n  ],\n  "b": "\\u003c"\n}'


def test_parse_json() -> None:
    assert parse_json('{"port": 80, "tags": ["a"], "x": null}') == {"port": 80.0, "tags": ["a"], "x": None}
    with pytest.raises(TemplateFunctionError):
        parse_json("{bad")


# ---------------------------------------------------------------------------- YAML decoding


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: yes", {"a": "yes"}),  # YAML 1.1 booleans stay strings
        ("a: on", {"a": "on"}),
        ("a: true", {"a": True}),
        ("a: False", {"a": False}),
        ("a: 12", {"a": 12}),
        ("a: 012", {"a": 10}),  # legacy octal, as yaml.v3
        ("a: 0o12", {"a": 10}),
        ("a: 0x1F", {"a": 31}),
        ("a: 1_000", {"a": 1000}),
        ("a: 1.5", {"a": 1.5}),
        ("a: 1e3", {"a": 1000.0}),
        ("a: 08", {"a": 8.0}),
        ("a: .inf", {"a": math.inf}),
        ("a: ~", {"a": None}),
        ("a:", {"a": None}),
        ("a: 2001-12-14", {"a": "2001-12-14"}),  # timestamps stay strings
        ("a: 1:20", {"a": "1:20"}),  # no sexagesimal numbers
        ('a: "12"', {"a": "12"}),
        ("a: !!str 12", {"a": "12"}),
        ("a: !custom x", {"a": "x"}),  # unknown tags are ignored
        ("- 1\n- two\n- [3]", [1, "two", [3]]),
        ("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2", {"base": {"x": 1}, "derived": {"x": 1, "y": 2}}),
        ("", None),
        ("a: 1\n---\nb: 2", {"a": 1}),  # the first document only
        ("a: 18446744073709551615", {"a": 18446744073709551615}),  # uint64
        ("a: 18446744073709551616", {"a": 1.8446744073709552e19}),
    ],
)
def test_from_yaml(text: str, expected: Any) -> None:
    assert must_from_yaml(text) == expected
    assert from_yaml(text) == expected


@pytest.mark.parametrize("text", ["a: [", "a: 1\na: 2", "\tx: 1", "a: b: c"])
def test_yaml_errors(text: str) -> None:
    with pytest.raises(TemplateFunctionError, match=r"^yaml: "):
        must_from_yaml(text)
    assert from_yaml(text) is None


def test_from_yaml_of_non_string_is_nil() -> None:
    assert from_yaml(None) is None


# ---------------------------------------------------------------------------- YAML encoding


@dataclass
class Inner:
    Repository: str = "nginx"
    Tag: str = ""


@dataclass
class Outer:
    ID: str = "x"
    Image: Inner = field(default_factory=Inner)
    Mounts: list[Any] = field(default_factory=NilList)
    Labels: dict[str, str] = field(default_factory=NilDict)
    Ports: list[int] = field(default_factory=lambda: [80, 443])


class Stamp:
    def go_json_value(self) -> str:
        return "2015-02-24T18:19:39Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null\n"),
        ("foo", "foo\n"),
        (5, "5\n"),
        ([], "[]\n"),
        ({}, "{}\n"),
        ({"v": "hi"}, "v: hi\n"),
        ({"v": "true"}, 'v: "true"\n'),
        ({"v": "off"}, 'v: "off"\n'),
        ({"v": "10"}, 'v: "10"\n'),
        ({"v": ""}, 'v: ""\n'),
        ({"v": None}, "v: null\n"),
        ({"v": True, "w": 10, "x": -0.1, "y": 1.0, "z": 1e6}, "v: true\nw: 10\nx: -0.1\n\"y\": 1\nz: 1e+06\n"),
        ({"v": math.inf, "w": -math.inf, "x": math.nan}, "v: .inf\nw: -.inf\nx: .nan\n"),
        ({"a": "-"}, "a: '-'\n"),
        ({"a": "1:1"}, 'a: "1:1"\n'),
        ({"a": "b: c"}, "a: 'b: c'\n"),
        ({"a": "Hello #comment"}, "a: 'Hello #comment'\n"),
        ({"a": "<foo>"}, "a: <foo>\n"),
        ({"a": "2015-02-24T18:19:39Z"}, 'a: "2015-02-24T18:19:39Z"\n'),
        ({"a": Stamp()}, "a: 2015-02-24T18:19:39Z\n"),  # a real time is written unquoted
        ({"a": "\x00"}, 'a: "\\0"\n'),
        ({"a": "你好"}, "a: 你好\n"),
        ({"a": "a\tb"}, 'a: "a\\tb"\n'),
        ({"a": "x\U0001F600"}, 'a: "x\\U0001F600"\n'),
        ({"a": "it's"}, "a: it's\n"),
        ({"a": " lead"}, "a: ' lead'\n"),
        ({"a": "don't "}, "a: 'don''t '\n"),
        ({"list": ["foo", "bar"]}, "list:\n    - foo\n    - bar\n"),
        ({"v": ["A", "B\nC"]}, "v:\n    - A\n    - |-\n      B\n      C\n"),
        ({"a": "\tB\n\tC\n"}, "a: |\n    \tB\n    \tC\n"),
        ({"a": "x\n\ny\n\n"}, "a: |+\n    x\n\n    y\n\n"),
        ({"a": " x\ny"}, "a: |4-\n     x\n    y\n"),
        ({"a": "trailing \nspace"}, 'a: "trailing \\nspace"\n'),
        ("a\nb", "|-\n    a\n    b\n"),
        ({"a": {"b": "c"}}, "a:\n    b: c\n"),
        ({"a": {"b": [{"c": 1, "d": 2}]}}, "a:\n    b:\n        - c: 1\n          d: 2\n"),
        ([{"a": 1, "b": 2}, [1, 2], "x", None, [], {}], "- a: 1\n  b: 2\n- - 1\n  - 2\n- x\n- null\n- []\n- {}\n"),
        ([{"a": [1]}], "- a:\n    - 1\n"),
        ({"k\nl": 1}, '"k\\nl": 1\n'),
        ({"": 1}, '"": 1\n'),
        ({"a": NilList(), "b": NilDict()}, "a: []\nb: {}\n"),
        ({"a": "x" * 100 + " y"}, "a: " + "x" * 100 + " y\n"),  # long lines are not folded
    ],
)
def test_to_yaml_matches_yaml_v3(value: Any, expected: str) -> None:
    assert must_to_yaml(value) == expected
    assert to_yaml(value) == expected


def test_to_yaml_v3_indent_four_example() -> None:
    """yaml.v3's own indentation example: nested maps +4, sequences under their key."""
    value = {"a": {"b": {"c": "d"}, "e": [1, 2, 3], "f": ["g", "h"]}}
    assert must_to_yaml(value) == (
        "a:\n    b:\n        c: d\n    e:\n        - 1\n        - 2\n        - 3\n    f:\n        - g\n        - h\n"
    )


def test_to_yaml_dataclasses_use_lowercased_field_names_in_order() -> None:
    assert must_to_yaml(Outer()) == (
        "id: x\nimage:\n    repository: nginx\n    tag: \"\"\nmounts: []\nlabels: {}\nports:\n    - 80\n    - 443\n"
    )


def test_to_yaml_round_trips_through_from_yaml() -> None:
    value = {"name": "web", "ports": [80, 443], "env": {"A": "yes", "B": "", "C": "012"}, "ok": True}
    assert must_from_yaml(must_to_yaml(value)) == value


def test_to_yaml_cycle_is_an_error_and_to_yaml_swallows_it() -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(TemplateFunctionError):
        must_to_yaml(looped)
    assert to_yaml(looped) == ""


def test_yaml_v3_key_order() -> None:
    """The order of yaml.v3's TestSortedOutput."""
    order: list[Any] = [
        False, True, 1, 1.1, 1.2, 2, 2.1, "", ".1", ".2", ".a", "1", "2", "a!10", "a/0001", "a/002", "a/3",
        "a/10", "a/11", "a/0012", "a/100", "a~10", "ab/1", "b/1", "b/01", "b/2", "b/02", "b/3", "b/03", "b1",
        "b01", "b3", "c2.10", "c10.2", "d1", "d7", "d7abc", "d12", "d12a", "e2b", "e4b", "e21a",
    ]
    shuffled = list(reversed(order))
    shuffled = shuffled[1::2] + shuffled[::2]
    assert sorted_yaml_keys(shuffled) == order
