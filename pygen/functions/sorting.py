"""docker-gen's sort functions (spec §6.3).

`sortStrings*` sort their argument in place (and return it), as Go's sort.Strings does; templates
that sort once and reuse the variable depend on that. `sortObjectsByKeys*` return a new, stably
sorted list; the key is compared numerically only when both sides are int64 strings.
"""

from __future__ import annotations

import datetime as _dt
import functools
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions.deepget import deep_getter
from pygen.functions.gofmt import format_value
from pygen.functions.gostrings import parse_int64
from pygen.functions.values import as_list, as_str, go_type_name, nil


def _string_list(function: str, values: Any) -> list[Any]:
    values = nil(values)
    items = values if isinstance(values, list) else as_list(function, values)
    for item in items:
        if not isinstance(item, str):
            raise TemplateFunctionError(
                f"{function}: wrong type for value; expected []string; got an element of type {go_type_name(item)}"
            )
    return items


def sort_strings_asc(values: Any) -> list[str]:
    """Sort strings byte-wise ascending, in place; returns the same list."""
    items = _string_list("sortStringsAsc", values)
    items.sort()
    return items


def sort_strings_desc(values: Any) -> list[str]:
    """Sort strings byte-wise descending, in place; returns the same list."""
    items = _string_list("sortStringsDesc", values)
    items.sort(reverse=True)
    return items


def sort_key_text(value: Any) -> str:
    """docker-gen's conversion of a field to its sort key: ints in decimal, strings as is, bools as
    true/false, times in Go's String() form; anything else (floats, lists, missing) sorts as ""."""
    value = nil(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    if hasattr(value, "go_json_value") or isinstance(value, _dt.datetime):
        return format_value(value)
    return ""


def _compare(a: str, b: str) -> int:
    x, y = parse_int64(a), parse_int64(b)
    if x is not None and y is not None:
        return (x > y) - (x < y)
    return (a > b) - (a < b)


def _sorted_by_key(function: str, entries: Any, path: Any, descending: bool) -> list[Any]:
    value_at = deep_getter(as_str(function, "key", path))
    items = as_list(function, entries)
    keyed = [(sort_key_text(value_at(item)), item) for item in items]
    sign = -1 if descending else 1
    keyed.sort(key=functools.cmp_to_key(lambda p, q: sign * _compare(p[0], q[0])))
    return [item for _, item in keyed]


def sort_objects_by_keys_asc(entries: Any, path: Any) -> list[Any]:
    """A new list sorted stably by the value at `path`, ascending."""
    return _sorted_by_key("sortObjectsByKeysAsc", entries, path, descending=False)


def sort_objects_by_keys_desc(entries: Any, path: Any) -> list[Any]:
    """A new list sorted stably by the value at `path`, descending (ties keep input order)."""
    return _sorted_by_key("sortObjectsByKeysDesc", entries, path, descending=True)
