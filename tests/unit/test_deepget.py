"""deep_get: docker-gen spec §6.2 field paths, over dataclasses, dicts, lists and other objects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
import pytest

from pygen.functions.deepget import deep_get, deep_getter
from pygen.functions.gojson import NilDict


@dataclass
class Thing:
    X: str = "foo"


@dataclass
class Address:
    Port: str = ""


@dataclass
class Image:
    Repository: str = ""


@dataclass
class Container:
    Env: dict[str, str] = field(default_factory=dict)
    Addresses: list[Address] = field(default_factory=list)
    Labels: dict[str, str] = field(default_factory=NilDict)
    Image: Image = field(default_factory=Image)

    def Method(self) -> str:  # a Go-style method name: must not be reachable
        return "method"


CONTAINER = Container(Env={"K": "v", "E": ""}, Addresses=[Address(Port="80")])


@pytest.mark.parametrize(
    ("item", "path", "expected"),
    [
        ({"Env": "quux"}, "Env", "quux"),
        ({"..": "foo"}, "...", "foo"),  # nested empty keys: "..." -> ".." -> ["", "", ""]
        ({"Env": {"foo.bar.baz.qux": "quux"}}, "Env.foo.bar.baz.qux", "quux"),
        ({"Env": {"foo.bar": {"baz.qux": "quux"}}}, "Env.foo.bar.baz.qux", "quux"),
        (Thing(), "X", "foo"),
        (["foo", "bar"], "1", "bar"),
        ([], "0", None),
        ([], "-1", None),
        ([], "foo", None),
        (["foo", "bar"], "+1", "bar"),
        (["foo", "bar"], "01", "bar"),
        (Thing(), "x", None),  # field names are case-sensitive
        ("a string", "a", None),
        (CONTAINER, "Env.K", "v"),
        (CONTAINER, "Env.E", ""),  # present but empty is not missing
        (CONTAINER, "Env.MISSING", None),
        (CONTAINER, "Addresses.0.Port", "80"),
        (CONTAINER, "Labels.x", None),
        (CONTAINER, "Image.Repository", ""),
    ],
)
def test_spec_vectors(item: Any, path: str, expected: Any) -> None:
    assert deep_get(item, path) == expected
    if expected is None:
        assert deep_get(item, path) is None


def test_nil_map_field_addressed_by_itself_is_not_nil() -> None:
    labels = deep_get(CONTAINER, "Labels")
    assert labels is not None
    assert labels == {}


@pytest.mark.parametrize(
    ("item", "path", "expected"),
    [
        # docker-gen returns nil for these two because it does not unwrap interface-typed values;
        # pygen is more permissive, as the spec allows: the nested mapping is traversed.
        ({"a": {"b": 1}, "a.b": 2}, "a.b", 1),
        ({"a.b": {"c": "X"}, "a.b.c": "Y"}, "a.b.c", "X"),
        # dict built in a template: path "a" gives the inner map, "a.b" descends into it
        ({"a": {"b": "1"}}, "a", {"b": "1"}),
        ({"a": {"b": "1"}}, "a.b", "1"),
    ],
)
def test_nested_generic_values_are_traversed(item: Any, path: str, expected: Any) -> None:
    assert deep_get(item, path) == expected


def test_empty_path_returns_the_item_itself() -> None:
    assert deep_get(CONTAINER, "") is CONTAINER
    assert deep_get(None, "") is None


def test_one_leading_dot_is_ignored() -> None:
    assert deep_get(CONTAINER, ".Env.K") == "v"
    assert deep_get({"": {"Env": "x"}}, "..Env") == "x"  # only the first dot goes


def test_shortest_joined_key_wins_and_there_is_no_backtracking() -> None:
    labels = {"com": "plain", "com.docker.compose.project": "proj"}
    # "com" exists, so the walk continues into the string "plain" and fails.
    assert deep_get({"Labels": labels}, "Labels.com.docker.compose.project") is None
    labels = {"com.docker": {"compose.project": "short"}, "com.docker.compose.project": "long"}
    assert deep_get({"Labels": labels}, "Labels.com.docker.compose.project") == "short"


def test_compose_label_with_dots() -> None:
    item = {"Labels": {"com.docker.compose.project": "proj"}}
    assert deep_get(item, "Labels.com.docker.compose.project") == "proj"


@pytest.mark.parametrize("index", ["2", "99999999999999999999999", "x1", "1.0", " 1", "1_0"])
def test_bad_list_indexes_give_none(index: str) -> None:
    assert deep_get(["a", "b"], index) is None


def test_explicit_none_value_is_nil() -> None:
    assert deep_get({"a": None}, "a") is None
    assert deep_get({"a": None}, "a.b") is None


def test_scalars_cannot_be_indexed() -> None:
    for scalar in (5, 1.5, True, b"bytes"):
        assert deep_get(scalar, "x") is None


def test_jinja_undefined_is_nil() -> None:
    undefined = jinja2.Undefined(name="missing")
    assert deep_get(undefined, "") is None
    assert deep_get(undefined, "a") is None
    assert deep_get({"a": undefined}, "a") is None


def test_methods_are_not_reachable() -> None:
    assert deep_get(CONTAINER, "Method") is None


class PlainObject:
    def __init__(self) -> None:
        self.Name = "n"
        self._private = "p"

    def Compute(self) -> str:
        return "c"

    @property
    def Prop(self) -> str:
        return "prop"


@pytest.mark.parametrize(
    ("path", "expected"), [("Name", "n"), ("Prop", "prop"), ("_private", None), ("Compute", None), ("Nope", None)]
)
def test_other_objects_expose_attributes_but_not_methods(path: str, expected: Any) -> None:
    assert deep_get(PlainObject(), path) == expected


def test_tuples_index_like_lists() -> None:
    assert deep_get(("a", "b"), "1") == "b"


def test_mapping_with_non_string_keys() -> None:
    assert deep_get({1: "one"}, "1") is None  # Go's string-keyed lookup misses an int key


class RaisesTypeError:
    @property
    def Field(self) -> str:
        raise TypeError("from a property")


class UnhashableKeys(dict):  # type: ignore[type-arg]
    def __contains__(self, key: object) -> bool:
        raise TypeError("incomparable keys")


def test_a_type_error_after_a_mapping_step_is_a_miss() -> None:
    assert deep_get({"a": RaisesTypeError()}, "a.Field") is None
    assert deep_get({"a": UnhashableKeys()}, "a.b") is None
    assert deep_get(UnhashableKeys(), "b") is None


def test_a_type_error_before_any_mapping_step_propagates() -> None:
    with pytest.raises(TypeError, match="from a property"):
        deep_get(RaisesTypeError(), "Field")


@dataclass
class MappingStruct(Mapping[str, str]):
    Field: str = "field"

    def __getitem__(self, key: str) -> str:
        if key != "key":
            raise KeyError(key)
        return "item"

    def __iter__(self) -> Iterator[str]:
        return iter(["key"])

    def __len__(self) -> int:
        return 1


def test_a_dataclass_that_is_a_mapping_is_walked_as_a_mapping() -> None:
    assert deep_get(MappingStruct(), "key") == "item"
    assert deep_get(MappingStruct(), "Field") is None


def test_a_dataclass_type_is_not_a_struct_value() -> None:
    assert deep_get(Address, "Port") == ""  # the class attribute (field default), as any object
    assert deep_get(Address, "__init__") is None


def test_one_getter_serves_items_of_different_types() -> None:
    value_at = deep_getter("Env.K")
    items = [CONTAINER, {"Env": {"K": "d"}}, None, jinja2.Undefined(), [1], Thing(), {"Env.K": "joined"}]
    assert [value_at(item) for item in items] == ["v", "d", None, None, None, None, "joined"]
    assert deep_getter("")(CONTAINER) is CONTAINER
