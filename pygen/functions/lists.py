"""docker-gen's small collection helpers: keys, intersect, closest, coalesce, contains, when.

Go returns `keys` and `intersect` in random map order, which makes generated files churn and proxies
reload for nothing (spec §8.9); pygen returns them sorted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions.gofmt import format_value
from pygen.functions.values import as_list, as_str, deep_equal, go_type_name, nil


def _sorted_keys(keys: list[Any]) -> list[Any]:
    try:
        return sorted(keys)
    except TypeError:  # mixed key types: group by type, then by value
        return sorted(keys, key=lambda k: (type(k).__name__, format_value(k)))


def keys(mapping: Any) -> list[Any] | None:
    """The keys of a map, sorted; None (Go-nil) for nil; an error for anything that is not a map."""
    mapping = nil(mapping)
    if mapping is None:
        return None
    if not isinstance(mapping, Mapping):
        raise TemplateFunctionError(f"cannot call keys on a non-map value: {format_value(mapping)}")
    return _sorted_keys(list(mapping))


def intersect(first: Any, second: Any) -> list[str]:
    """The distinct strings present in both lists, sorted."""
    left = {as_str("intersect", "l1", v) for v in as_list("intersect", first)}
    right = {as_str("intersect", "l2", v) for v in as_list("intersect", second)}
    return sorted(left & right)


def closest(values: Any, s: Any) -> str:
    """The longest element that is a substring of `s` (first one on ties, "" never wins)."""
    s = as_str("closest", "input", s)
    best = ""
    for value in as_list("closest", values):
        value = as_str("closest", "values", value)
        # Go compares byte lengths.
        if value in s and len(value.encode("utf-8", "surrogateescape")) > len(best.encode("utf-8", "surrogateescape")):
            best = value
    return best


def coalesce(*values: Any) -> Any:
    """The first argument that is not Go-nil ("", 0 and false count as values, unlike sprig's)."""
    for value in values:
        value = nil(value)
        if value is not None:
            return value
    return None


def contains(mapping: Any, key: Any) -> bool:
    """Whether a map has `key` (type-exact: the key 1 is not "1"). Not a substring test."""
    mapping = nil(mapping)
    if not isinstance(mapping, Mapping):
        return False
    key = nil(key)
    return any(deep_equal(existing, key) for existing in mapping)


def when(condition: Any, if_true: Any, if_false: Any) -> Any:
    """`if_true` if condition else `if_false`; the condition must be a real bool, as in Go."""
    condition = nil(condition)
    if not isinstance(condition, bool):
        raise TemplateFunctionError(
            f"when: wrong type for value of condition; expected bool; got {go_type_name(condition)}"
        )
    return if_true if condition else if_false
