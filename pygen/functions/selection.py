"""docker-gen's where* functions (spec §6.3): filter a list by the value at a field path or by labels.

`where` compares with Go's deep equality, type included (values.deep_equal), so `where $ "Env.X"
nil` selects the items that lack X, and the integer 5 does not match the string "5".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions import gostrings
from pygen.functions.deepget import deep_getter
from pygen.functions.goregex import compile_go_regex
from pygen.functions.grouping import container_labels
from pygen.functions.values import as_list, as_str, deep_equal, go_type_name, nil

_MISSING = object()


def _where(function: str, entries: Any, path: Any, keep: Callable[[Any], bool]) -> list[Any]:
    value_at = deep_getter(as_str(function, "key", path))
    return [item for item in as_list(function, entries) if keep(value_at(item))]


def where(entries: Any, path: Any, value: Any) -> list[Any]:
    """Items whose value at `path` deep-equals `value` (type included)."""
    return _where("where", entries, path, lambda found: deep_equal(found, value))


def where_not(entries: Any, path: Any, value: Any) -> list[Any]:
    """The complement of `where`: items with a missing path are kept."""
    return _where("whereNot", entries, path, lambda found: not deep_equal(found, value))


def where_exist(entries: Any, path: Any) -> list[Any]:
    """Items whose value at `path` is not Go-nil (an empty string exists)."""
    return _where("whereExist", entries, path, lambda found: found is not None)


def where_not_exist(entries: Any, path: Any) -> list[Any]:
    """Items whose value at `path` is Go-nil."""
    return _where("whereNotExist", entries, path, lambda found: found is None)


def _pieces(function: str, value: Any, sep: str) -> set[str]:
    if not isinstance(value, str):
        raise TemplateFunctionError(f"{function}: the value must be a string; got {go_type_name(value)}")
    return set(gostrings.split(value, sep))


def _strings(function: str, values: Any) -> set[str]:
    return {as_str(function, "cmp", v) for v in as_list(function, values)}


def where_any(entries: Any, path: Any, sep: Any, cmp: Any) -> list[Any]:
    """Items whose `sep`-separated value shares at least one piece with `cmp`."""
    sep = as_str("whereAny", "sep", sep)
    wanted = _strings("whereAny", cmp)
    return _where(
        "whereAny", entries, path,
        lambda found: found is not None and bool(_pieces("whereAny", found, sep) & wanted),
    )


def where_all(entries: Any, path: Any, sep: Any, cmp: Any) -> list[Any]:
    """Items whose `sep`-separated value contains every element of `cmp`.

    docker-gen compares the number of distinct matches with len(cmp) counting duplicates, so an
    empty `cmp` matches every item with the value present, and a `cmp` with duplicates never matches.
    """
    sep = as_str("whereAll", "sep", sep)
    cmp_list = as_list("whereAll", cmp)
    wanted = _strings("whereAll", cmp_list)
    return _where(
        "whereAll", entries, path,
        lambda found: found is not None and len(_pieces("whereAll", found, sep) & wanted) == len(cmp_list),
    )


def _where_label(function: str, entries: Any, label: Any, keep: Callable[[Any], bool]) -> list[Any]:
    label = as_str(function, "label", label)
    return [
        item for item in as_list(function, entries)
        if keep(container_labels(function, item).get(label, _MISSING))
    ]


def where_label_exists(entries: Any, label: Any) -> list[Any]:
    """Containers that have the label (even with an empty value)."""
    return _where_label("whereLabelExists", entries, label, lambda value: value is not _MISSING)


def where_label_does_not_exist(entries: Any, label: Any) -> list[Any]:
    """Containers that do not have the label."""
    return _where_label("whereLabelDoesNotExist", entries, label, lambda value: value is _MISSING)


def where_label_value_matches(entries: Any, label: Any, pattern: Any) -> list[Any]:
    """Containers that have the label and whose value matches the Go regex anywhere (search)."""
    regex = compile_go_regex(as_str("whereLabelValueMatches", "pattern", pattern))
    return _where_label(
        "whereLabelValueMatches", entries, label,
        lambda value: value is not _MISSING and isinstance(nil(value), str) and regex.search(value) is not None,
    )
