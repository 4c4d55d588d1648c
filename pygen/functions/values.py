"""Go value semantics shared by the template functions: Go-nil, kinds, type names, deep equality.

Go templates pass typed values; Jinja passes Python objects. These helpers answer the questions Go's
reflection answers in docker-gen (is it nil? is it a slice? are these deeply equal, type included?)
so that every function draws the same lines.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import Undefined

from pygen.errors import TemplateFunctionError
from pygen.functions.gojson import NilDict, NilList


def nil(value: Any) -> Any:
    """Jinja `Undefined` (a missing field or key) is Go-nil: None. Everything else passes through."""
    return None if isinstance(value, Undefined) else value


def is_struct(value: Any) -> bool:
    """Dataclass instances play the part of Go structs (field access by exact name)."""
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def is_list(value: Any) -> bool:
    """A Go slice or array: a list or tuple (strings, bytes and mappings are not)."""
    return isinstance(value, (list, tuple))


def go_kind(value: Any) -> str:
    """The reflect.Kind name Go would report, for error messages that mirror docker-gen's."""
    value = nil(value)
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    if is_list(value):
        return "slice"
    if is_struct(value):
        return "struct"
    return "ptr"


def go_type_name(value: Any) -> str:
    """The %T name Go would print for the corresponding template value."""
    value = nil(value)
    if value is None:
        return "<nil>"
    simple = {bool: "bool", int: "int", float: "float64", str: "string"}
    for python_type, name in simple.items():
        if type(value) is python_type:
            return name
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if is_list(value):
        return "[]interface {}"
    return type(value).__name__


def deep_equal(a: Any, b: Any) -> bool:
    """Go's reflect.DeepEqual on template values: the type must match too.

    `where` relies on this: an int 5 never equals the string "5", True never equals 1 and 1 never
    equals 1.0 (Python's == says both of those are equal). A nil slice differs from an empty one.
    """
    a, b = nil(a), nil(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if is_list(a) and is_list(b):
        if isinstance(a, NilList) != isinstance(b, NilList) or len(a) != len(b):
            return False
        return all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if isinstance(a, NilDict) != isinstance(b, NilDict) or len(a) != len(b):
            return False
        return all(key in b and deep_equal(value, b[key]) for key, value in a.items())
    if is_struct(a) and is_struct(b):
        if type(a) is not type(b):
            return False
        return all(
            deep_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    return type(a) is type(b) and a == b


def as_list(function: str, value: Any) -> list[Any]:
    """The elements of a Go slice argument, or docker-gen's "must pass an array or slice" error.

    Lenient on purpose: any non-string, non-mapping iterable is accepted, so Jinja's own filters
    (`select`, `map`, ... which return generators) can feed docker-gen's functions.
    """
    value = nil(value)
    if is_list(value):
        return list(value)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, bytearray, Mapping)):
        return list(value)
    from pygen.functions.gofmt import format_value

    raise TemplateFunctionError(
        f"must pass an array or slice to '{function}'; received {format_value(value)}; kind {go_kind(value)}"
    )


def as_str(function: str, name: str, value: Any) -> str:
    """A string argument; Go's template engine rejects anything else with a type error."""
    value = nil(value)
    if isinstance(value, str):
        return value
    raise TemplateFunctionError(
        f"{function}: wrong type for value of {name}; expected string; got {go_type_name(value)}"
    )


def as_int(function: str, name: str, value: Any) -> int:
    """An integer argument; floats with an integral value are accepted (Jinja arithmetic makes them)."""
    value = nil(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TemplateFunctionError(
        f"{function}: wrong type for value of {name}; expected int; got {go_type_name(value)}"
    )
