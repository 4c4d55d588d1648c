"""The sprig subset (sprig argument order) and the sprig* aliases of masked names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions import sprig
from pygen.functions.gojson import NilList


@dataclass
class S:
    X: int = 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), (0, True), (0.0, True), (False, True), ([], True), ({}, True), (NilList(), True),
     ("a", False), (1, False), (True, False), ([0], False), ({"a": 1}, False), (S(), False), (-1.5, False)],
)
def test_empty(value: Any, expected: bool) -> None:
    assert sprig.empty(value) is expected


def test_default_uses_sprig_order_and_emptiness() -> None:
    assert sprig.default("dflt", "") == "dflt"
    assert sprig.default("dflt", None) == "dflt"
    assert sprig.default("dflt", 0) == "dflt"
    assert sprig.default("dflt", "given") == "given"
    assert sprig.default("dflt") == "dflt"
    assert sprig.default("dflt", False) == "dflt"


def test_ternary() -> None:
    assert sprig.ternary("a", "b", True) == "a"
    assert sprig.ternary("a", "b", False) == "b"


def test_sprig_coalesce_skips_empty_values() -> None:
    assert sprig.sprig_coalesce(None, "", 0, "x") == "x"
    assert sprig.sprig_coalesce(None, "") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), ("7", 7), ("0x10", 16), ("010", 8), ("5.0", 5), ("abc", 0), (" 5", 0), (2.9, 2), (-2.9, -2),
     (True, 1), (None, 0)],
)
def test_to_int64_like_cast(value: Any, expected: int) -> None:
    assert sprig.to_int64(value) == expected


def test_arithmetic() -> None:
    assert sprig.add1(1) == 2
    assert sprig.add1("41") == 42
    assert sprig.add(1, "2", 3.9) == 6
    assert sprig.add() == 0
    assert sprig.sub(10, 3) == 7
    assert sprig.mul(2, 3, 4) == 24
    assert sprig.mul(5) == 5
    assert sprig.div(7, 2) == 3
    assert sprig.div(-7, 2) == -3  # Go truncates toward zero
    assert sprig.mod(-7, 2) == -1
    with pytest.raises(TemplateFunctionError, match="divide by zero"):
        sprig.div(1, 0)


def test_string_helpers_take_the_string_last() -> None:
    assert sprig.has_prefix("ca", "cat") is True
    assert sprig.has_prefix("cat", "ca") is False
    assert sprig.has_suffix("at", "cat") is True
    assert sprig.trim_prefix("-", "--x") == "-x"
    assert sprig.trim_suffix(".conf", "a.conf") == "a"
    assert sprig.trim_suffix("", "a") == "a"
    assert sprig.trim("\u00a0 x \t") == "x"
    assert sprig.sprig_contains("ell", "hello") is True
    assert sprig.sprig_replace("a", "o", "banana") == "bonono"
    assert sprig.sprig_dir("/a/b/c") == "/a/b"
    assert sprig.plural("one", "many", 1) == "one"
    assert sprig.plural("one", "many", 2) == "many"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("s", "s"), (5, "5"), (1.0, "1"), (None, "<nil>"), (True, "true"), ([1, "a"], "[1 a]"),
     ({"b": 1, "a": 2}, "map[a:2 b:1]"), (b"hi", "hi")],
)
def test_to_string(value: Any, expected: str) -> None:
    assert sprig.to_string(value) == expected


def test_sprig_split_gives_indexed_map() -> None:
    assert sprig.sprig_split(",", "a,b") == {"_0": "a", "_1": "b"}
    assert sprig.sprig_splitn(",", 2, "a,b,c") == {"_0": "a", "_1": "b,c"}


def test_sprig_split_map_iterates_in_go_map_order() -> None:
    parts = sprig.sprig_split(",", ",".join("abcdefghijkl"))
    assert list(parts)[:4] == ["_0", "_1", "_10", "_11"]


def test_join_uses_sprig_order_and_skips_nil_elements() -> None:
    assert sprig.join(",", ["a", 1, None, True]) == "a,1,true"
    assert sprig.join("-", "single") == "single"
    assert sprig.join(",", None) == ""


def test_list_functions_do_not_modify_arguments() -> None:
    original = [1, 2]
    assert sprig.append(original, 3) == [1, 2, 3]
    assert original == [1, 2]
    assert sprig.concat(original, [3], (4,)) == [1, 2, 3, 4]
    assert sprig.without([1, "1", 2, 1], 1) == ["1", 2]
    assert sprig.list_(1, "a") == [1, "a"]


def test_concat_of_nothing_is_nil() -> None:
    assert isinstance(sprig.concat(), NilList)
    assert isinstance(sprig.concat([], None), NilList)
    with pytest.raises(TemplateFunctionError, match="Cannot concat type string as list"):
        sprig.concat("x")


def test_first_and_has() -> None:
    assert sprig.first([3, 4]) == 3
    assert sprig.first([]) is None
    assert sprig.has(1, [1, 2]) is True
    assert sprig.has("1", [1, 2]) is False
    assert sprig.has(1, None) is False
    with pytest.raises(TemplateFunctionError):
        sprig.first("abc")
    with pytest.raises(TemplateFunctionError):
        sprig.append({"a": 1}, 2)


def test_dict_functions() -> None:
    d = sprig.dict_("a", 1, 2, "two", "odd")
    assert d == {"a": 1, "2": "two", "odd": ""}
    assert sprig.dict_(x=1) == {"x": 1}
    assert sprig.get(d, "a") == 1
    assert sprig.get(d, "missing") == ""
    assert sprig.has_key(d, "a") is True
    assert sprig.has_key(None, "a") is False
    assert sprig.set_(d, "b", 2) is d and d["b"] == 2
    assert sprig.unset(d, "b") is d and "b" not in d
    assert sprig.unset(d, "never") is d


def test_merge_fills_missing_and_empty_values_only() -> None:
    dst = {"a": 1, "b": "", "n": {"x": 1}}
    out = sprig.merge(dst, {"a": 2, "b": "filled", "c": 3, "n": {"x": 9, "y": 2}}, {"d": 4})
    assert out is dst
    assert dst == {"a": 1, "b": "filled", "c": 3, "n": {"x": 1, "y": 2}, "d": 4}


def test_deep_copy_is_independent() -> None:
    original = {"a": [1, {"b": 2}]}
    copied = sprig.deep_copy(original)
    copied["a"][1]["b"] = 3
    assert original == {"a": [1, {"b": 2}]}
