"""groupBy*, where*, sort*, keys, intersect, closest, coalesce, contains, when (spec §6.3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import jinja2
import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.gojson import NilDict
from pygen.functions.grouping import (
    group_by,
    group_by_keys,
    group_by_label,
    group_by_label_with_default,
    group_by_multi,
    group_by_with_default,
)
from pygen.functions.lists import closest, coalesce, contains, intersect, keys, when
from pygen.functions.selection import (
    where,
    where_all,
    where_any,
    where_exist,
    where_label_does_not_exist,
    where_label_exists,
    where_label_value_matches,
    where_not,
    where_not_exist,
)
from pygen.functions.sorting import (
    sort_key_text,
    sort_objects_by_keys_asc,
    sort_objects_by_keys_desc,
    sort_strings_asc,
    sort_strings_desc,
)


@dataclass
class C:
    Name: str = ""
    Env: dict[str, str] = field(default_factory=dict)
    Labels: dict[str, str] = field(default_factory=NilDict)
    Port: Any = None


A = C("a", {"VIRTUAL_HOST": "demo1.localhost", "P": "80"}, {"app": "web", "tier": ""})
B = C("b", {"VIRTUAL_HOST": "demo2.localhost,demo3.localhost"}, {"app": "web"})
D = C("d", {"VIRTUAL_HOST": "demo1.localhost", "E": ""}, {"app": "db"})
E = C("e", {}, NilDict())
ALL = [A, B, D, E]


def names(items: list[C]) -> list[str]:
    return [item.Name for item in items]


# ---------------------------------------------------------------------------- groupBy*


def test_group_by_keeps_input_order_within_groups_and_iterates_sorted() -> None:
    groups = group_by(ALL, "Env.VIRTUAL_HOST")
    assert list(groups) == ["demo1.localhost", "demo2.localhost,demo3.localhost"]
    assert names(groups["demo1.localhost"]) == ["a", "d"]


def test_group_by_skips_nil_values_but_keeps_empty_strings() -> None:
    groups = group_by(ALL, "Env.E")
    assert list(groups) == [""]
    assert names(groups[""]) == ["d"]


def test_group_by_value_must_be_a_string() -> None:
    with pytest.raises(TemplateFunctionError, match="must be a string"):
        group_by([C(Port=80)], "Port")


def test_group_by_needs_a_list() -> None:
    message = "must pass an array or slice to 'groupBy'; received x; kind string"
    with pytest.raises(TemplateFunctionError, match=message):
        group_by("x", "Name")
    with pytest.raises(TemplateFunctionError, match="kind map"):
        group_by({"a": 1}, "Name")


def test_group_by_accepts_generators_from_jinja_filters() -> None:
    assert list(group_by((c for c in ALL), "Name")) == ["a", "b", "d", "e"]


def test_group_by_over_dicts() -> None:
    items = [{"k": "x", "n": 1}, {"k": "y", "n": 2}, {"k": "x", "n": 3}]
    assert group_by(items, "k") == {"x": [items[0], items[2]], "y": [items[1]]}


def test_group_by_with_default() -> None:
    groups = group_by_with_default(ALL, "Env.P", "none")
    assert list(groups) == ["80", "none"]
    assert names(groups["none"]) == ["b", "d", "e"]


def test_group_by_keys_is_sorted() -> None:
    assert group_by_keys([D, B, A], "Name") == ["a", "b", "d"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a,b", {"a": 1, "b": 1}),
        ("a,a", {"a": 2}),  # the item is filed twice under "a"
        ("a,", {"": 1, "a": 1}),  # empty pieces count
        ("a, b", {" b": 1, "a": 1}),  # no trimming
    ],
)
def test_group_by_multi(value: str, expected: dict[str, int]) -> None:
    groups = group_by_multi([C("x", {"H": value})], "Env.H", ",")
    assert {k: len(v) for k, v in groups.items()} == expected
    assert list(groups) == sorted(groups)


def test_group_by_multi_over_several_items() -> None:
    groups = group_by_multi(ALL, "Env.VIRTUAL_HOST", ",")
    assert {k: names(v) for k, v in groups.items()} == {
        "demo1.localhost": ["a", "d"], "demo2.localhost": ["b"], "demo3.localhost": ["b"],
    }


def test_group_by_label() -> None:
    groups = group_by_label(ALL, "app")
    assert {k: names(v) for k, v in groups.items()} == {"db": ["d"], "web": ["a", "b"]}
    assert list(groups) == ["db", "web"]


def test_group_by_label_empty_value_is_its_own_group() -> None:
    assert {k: names(v) for k, v in group_by_label(ALL, "tier").items()} == {"": ["a"]}


def test_group_by_label_with_default() -> None:
    groups = group_by_label_with_default(ALL, "tier", "default")
    assert {k: names(v) for k, v in groups.items()} == {"": ["a"], "default": ["b", "d", "e"]}


def test_group_by_label_accepts_plain_dicts_with_labels() -> None:
    items = [{"Labels": {"app": "x"}}, {"Labels": None}, {"Labels": {}}]
    assert group_by_label(items, "app") == {"x": [items[0]]}


def test_group_by_label_rejects_non_containers() -> None:
    message = r"must pass an array or slice of \*RuntimeContainer to 'groupByLabel'"
    with pytest.raises(TemplateFunctionError, match=message):
        group_by_label(["not a container"], "app")


# ---------------------------------------------------------------------------- where*


def test_where_is_type_exact() -> None:
    items = [{"v": 5}, {"v": "5"}, {"v": True}, {"v": 1}, {"v": 5.0}]
    assert where(items, "v", 5) == [items[0]]
    assert where(items, "v", "5") == [items[1]]
    assert where(items, "v", True) == [items[2]]
    assert where(items, "v", 1) == [items[3]]
    assert where(items, "v", 5.0) == [items[4]]


def test_where_nil_selects_missing_values() -> None:
    assert names(where(ALL, "Env.P", None)) == ["b", "d", "e"]
    assert names(where(ALL, "Env.P", jinja2.Undefined(name="nil"))) == ["b", "d", "e"]


def test_where_and_where_not_are_complements() -> None:
    assert names(where(ALL, "Env.VIRTUAL_HOST", "demo1.localhost")) == ["a", "d"]
    assert names(where_not(ALL, "Env.VIRTUAL_HOST", "demo1.localhost")) == ["b", "e"]


def test_where_compares_collections_deeply() -> None:
    items = [{"v": [1, 2]}, {"v": [1, 2.0]}, {"v": {"a": "b"}}]
    assert where(items, "v", [1, 2]) == [items[0]]
    assert where(items, "v", {"a": "b"}) == [items[2]]


def test_where_over_where_output() -> None:
    assert names(where(where(ALL, "Labels.app", "web"), "Env.P", "80")) == ["a"]


def test_where_exist_and_not_exist() -> None:
    assert names(where_exist(ALL, "Env.E")) == ["d"]  # "" exists
    assert names(where_not_exist(ALL, "Env.E")) == ["a", "b", "e"]
    assert names(where_exist(ALL, "Labels")) == ["a", "b", "d", "e"]  # a nil map field is not nil


def test_where_any() -> None:
    assert names(where_any(ALL, "Env.VIRTUAL_HOST", ",", ["demo3.localhost", "nope"])) == ["b"]
    assert names(where_any(ALL, "Env.VIRTUAL_HOST", ",", ["nope"])) == []
    assert names(where_any(ALL, "Env.VIRTUAL_HOST", ",", [])) == []


def test_where_all() -> None:
    both = ["demo2.localhost", "demo3.localhost"]
    assert names(where_all(ALL, "Env.VIRTUAL_HOST", ",", both)) == ["b"]
    assert names(where_all(ALL, "Env.VIRTUAL_HOST", ",", ["demo2.localhost", "nope"])) == []


def test_where_all_quirks() -> None:
    # An empty list matches every item that has the value; duplicates in the list never match.
    assert names(where_all(ALL, "Env.VIRTUAL_HOST", ",", [])) == ["a", "b", "d"]
    assert names(where_all(ALL, "Env.VIRTUAL_HOST", ",", ["demo1.localhost", "demo1.localhost"])) == []


def test_where_label_exists_and_does_not_exist() -> None:
    assert names(where_label_exists(ALL, "tier")) == ["a"]  # empty value still exists
    assert names(where_label_does_not_exist(ALL, "tier")) == ["b", "d", "e"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^web$", ["a", "b"]),
        ("e", ["a", "b"]),  # search, not full match
        ("^(?i)WEB$", ["a", "b"]),  # Go allows inline flags mid-pattern
        ("^d", ["d"]),
        ("^$", []),
    ],
)
def test_where_label_value_matches(pattern: str, expected: list[str]) -> None:
    assert names(where_label_value_matches(ALL, "app", pattern)) == expected


def test_where_label_value_matches_empty_label() -> None:
    assert names(where_label_value_matches(ALL, "tier", "^$")) == ["a"]


def test_where_label_value_matches_invalid_regex() -> None:
    with pytest.raises(TemplateFunctionError, match="error parsing regexp"):
        where_label_value_matches(ALL, "app", "(")


# ---------------------------------------------------------------------------- sort*


def test_sort_strings_sorts_in_place_bytewise() -> None:
    values = ["b", "B", "a", "é", "A"]
    result = sort_strings_asc(values)
    assert result is values
    assert values == ["A", "B", "a", "b", "é"]
    assert sort_strings_desc(values) == ["é", "b", "a", "B", "A"]


def test_sort_strings_rejects_non_strings() -> None:
    with pytest.raises(TemplateFunctionError):
        sort_strings_asc(["a", 1])


def test_sort_objects_by_keys_is_numeric_when_both_sides_are_ints() -> None:
    items = [{"p": "10"}, {"p": "9"}, {"p": "100"}, {"p": "x"}]
    assert [i["p"] for i in sort_objects_by_keys_asc(items, "p")] == ["9", "10", "100", "x"]
    assert [i["p"] for i in sort_objects_by_keys_desc(items, "p")] == ["x", "100", "10", "9"]


def test_sort_objects_returns_a_new_list_and_is_stable() -> None:
    items = [{"k": "b", "i": 1}, {"k": "a", "i": 2}, {"k": "b", "i": 3}, {"k": "a", "i": 4}]
    snapshot = list(items)
    assert [i["i"] for i in sort_objects_by_keys_asc(items, "k")] == [2, 4, 1, 3]
    assert [i["i"] for i in sort_objects_by_keys_desc(items, "k")] == [1, 3, 2, 4]  # ties keep input order
    assert items == snapshot


def test_sort_objects_missing_and_unsupported_keys_sort_as_empty() -> None:
    items = [{"k": "b"}, {}, {"k": 1.5}, {"k": "a"}]
    assert sort_objects_by_keys_asc(items, "k") == [{}, {"k": 1.5}, {"k": "a"}, {"k": "b"}]


def test_sort_objects_by_struct_field() -> None:
    assert names(sort_objects_by_keys_desc(ALL, "Name")) == ["e", "d", "b", "a"]


class Stamp:
    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def go_json_value(self) -> str:
        return self.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, "42"),
        (-1, "-1"),
        ("s", "s"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        (1.5, ""),
        ([1], ""),
        (Stamp("2026-01-01 00:00:00 +0000 UTC"), "2026-01-01 00:00:00 +0000 UTC"),
        (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2026-01-02 03:04:05 +0000 UTC"),
    ],
)
def test_sort_key_text(value: Any, expected: str) -> None:
    assert sort_key_text(value) == expected


# ---------------------------------------------------------------------------- small helpers


def test_keys_sorted_nil_and_errors() -> None:
    assert keys({"b": 1, "a": 2}) == ["a", "b"]
    assert keys(None) is None
    assert keys({}) == []
    assert keys({1: "x", "a": "y"}) == [1, "a"]
    with pytest.raises(TemplateFunctionError, match="cannot call keys on a non-map value: \\[1\\]"):
        keys([1])


def test_intersect_is_distinct_and_sorted() -> None:
    assert intersect(["c", "a", "b", "a"], ["a", "c", "x", "c"]) == ["a", "c"]
    assert intersect([], ["a"]) == []


@pytest.mark.parametrize(
    ("values", "s", "expected"),
    [
        (["foo.fr", "foo.fr.example", "example"], "www.foo.fr.example", "foo.fr.example"),
        (["ab", "cd"], "abcd", "ab"),  # ties keep the first
        (["", "zz"], "abc", ""),  # "" never wins, no match gives ""
        ([], "abc", ""),
    ],
)
def test_closest(values: list[str], s: str, expected: str) -> None:
    assert closest(values, s) == expected


def test_closest_compares_byte_lengths() -> None:
    assert closest(["éé", "abc"], "ééabc") == "éé"  # 4 bytes beat 3


def test_coalesce_returns_first_non_nil() -> None:
    assert coalesce(None, jinja2.Undefined(name="x"), "", "b") == ""
    assert coalesce(None, 0) == 0
    assert coalesce(None, False, True) is False
    assert coalesce() is None
    assert coalesce(None, None) is None


def test_contains_tests_map_keys_type_exactly() -> None:
    assert contains({"a": 1}, "a") is True
    assert contains({"a": 1}, "b") is False
    assert contains({1: "x"}, "1") is False
    assert contains({1: "x"}, 1) is True
    assert contains("abc", "a") is False  # not a substring test
    assert contains(None, "a") is False


def test_when() -> None:
    assert when(True, "a", "b") == "a"
    assert when(False, "a", "b") == "b"
    with pytest.raises(TemplateFunctionError, match="expected bool"):
        when("yes", "a", "b")
