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
from pygen.loopmemo import fingerprint, per_item_results

_MISSING = object()


def _selected(function: str, entries: Any, keeps: Callable[[Any], bool], arguments: tuple[Any, ...]) -> list[Any]:
    """The items ``keeps`` accepts. ``arguments`` (the call's others) name the call: in a render
    that allows it, each item's answer is kept for the next render, which then asks about the
    items an event changed only (pygen.loopmemo.per_item_results)."""
    site = (function, *[fingerprint(argument) for argument in arguments])
    return [item for item, kept in per_item_results(site, as_list(function, entries), keeps) if kept]


def _where(function: str, entries: Any, path: Any, keep: Callable[[Any], bool], *arguments: Any) -> list[Any]:
    path = as_str(function, "key", path)
    value_at = deep_getter(path)
    return _selected(function, entries, lambda item: keep(value_at(item)), (path, *arguments))


def where(entries: Any, path: Any, value: Any) -> list[Any]:
    """Items whose value at `path` deep-equals `value` (type included)."""
    return _where("where", entries, path, lambda found: deep_equal(found, value), value)


def where_not(entries: Any, path: Any, value: Any) -> list[Any]:
    """The complement of `where`: items with a missing path are kept."""
    return _where("whereNot", entries, path, lambda found: not deep_equal(found, value), value)


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
        sep, tuple(sorted(wanted)),
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
        sep, tuple(sorted(wanted)), len(cmp_list),
    )


def _where_label(function: str, entries: Any, label: Any, keep: Callable[[Any], bool], *arguments: Any) -> list[Any]:
    label = as_str(function, "label", label)
    return _selected(
        function, entries, lambda item: keep(container_labels(function, item).get(label, _MISSING)), (label, *arguments)
    )


def where_label_exists(entries: Any, label: Any) -> list[Any]:
    """Containers that have the label (even with an empty value)."""
    return _where_label("whereLabelExists", entries, label, lambda value: value is not _MISSING)


def where_label_does_not_exist(entries: Any, label: Any) -> list[Any]:
    """Containers that do not have the label."""
    return _where_label("whereLabelDoesNotExist", entries, label, lambda value: value is _MISSING)


def where_label_value_matches(entries: Any, label: Any, pattern: Any) -> list[Any]:
    """Containers that have the label and whose value matches the Go regex anywhere (search)."""
    pattern = as_str("whereLabelValueMatches", "pattern", pattern)
    regex = compile_go_regex(pattern)
    return _where_label(
        "whereLabelValueMatches", entries, label,
        lambda value: value is not _MISSING and isinstance(nil(value), str) and regex.search(value) is not None,
        pattern,
    )
