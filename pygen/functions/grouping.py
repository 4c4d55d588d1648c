"""docker-gen's groupBy* functions (spec §6.3).

Go's text/template ranges over a map in sorted key order, so a template that iterates `groupBy`
output produces stable text. Python dicts iterate in insertion order, so every result here is built
in sorted key order: iterating it gives the same order as in docker-gen. `groupByKeys` is random in
Go; pygen returns it sorted (spec §8.9: fewer spurious reloads).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions import gostrings
from pygen.functions.deepget import deep_getter
from pygen.functions.gofmt import format_value
from pygen.functions.values import as_list, as_str, go_type_name, nil
from pygen.loopmemo import fingerprint, per_item_results

_MISSING = object()


def container_labels(function: str, item: Any) -> Mapping[str, Any]:
    """The Labels of a container (an object with a `Labels` attribute, or a dict with a "Labels" key).

    docker-gen accepts only *RuntimeContainer here; pygen also accepts plain dicts so that data
    built in templates or by other sources works the same.
    """
    item = nil(item)
    if isinstance(item, Mapping) and "Labels" in item:
        labels = item["Labels"]
    elif item is not None and not isinstance(item, Mapping) and hasattr(item, "Labels"):
        labels = item.Labels
    else:
        raise TemplateFunctionError(
            f"must pass an array or slice of *RuntimeContainer to '{function}'; received {format_value(item)}"
        )
    labels = nil(labels)
    return labels if isinstance(labels, Mapping) else {}


def _grouped(
    function: str,
    entries: Any,
    key_of: Callable[[Any], Any],
    pieces: Callable[[str], list[str]] = lambda value: [value],
    *,
    arguments: tuple[Any, ...],
) -> dict[str, list[Any]]:
    """The items by the group(s) each goes under. ``arguments`` (the call's others) name the
    call: in a render that allows it, what each item goes under is kept for the next render,
    which then looks at the items an event changed only (pygen.loopmemo.per_item_results)."""
    groups: dict[str, list[Any]] = {}
    for item, filed_under in per_item_results(
        (function, *[fingerprint(argument) for argument in arguments]), as_list(function, entries),
        lambda item: _filed_under(function, key_of(item), pieces),
    ):
        for piece in filed_under:
            groups.setdefault(piece, []).append(item)
    return {key: groups[key] for key in sorted(groups)}


def _filed_under(function: str, value: Any, pieces: Callable[[str], list[str]]) -> list[str]:
    if value is _MISSING or value is None:
        return []
    if not isinstance(value, str):
        raise TemplateFunctionError(
            f"{function}: the grouping value must be a string; got {go_type_name(value)} {format_value(value)}"
        )
    return pieces(value)


def group_by(entries: Any, path: Any) -> dict[str, list[Any]]:
    """Items grouped by the string at `path`; items where it is Go-nil are skipped."""
    path = as_str("groupBy", "key", path)
    return _grouped("groupBy", entries, deep_getter(path), arguments=(path,))


def group_by_with_default(entries: Any, path: Any, default: Any) -> dict[str, list[Any]]:
    """Like groupBy, but items where the value is Go-nil go under `default`."""
    path = as_str("groupByWithDefault", "key", path)
    value_at = deep_getter(path)

    def key_of(item: Any) -> Any:
        value = value_at(item)
        return nil(default) if value is None else value

    return _grouped("groupByWithDefault", entries, key_of, arguments=(path, nil(default)))


def group_by_keys(entries: Any, path: Any) -> list[str]:
    """The keys of groupBy, sorted."""
    path = as_str("groupByKeys", "key", path)
    return list(_grouped("groupByKeys", entries, deep_getter(path), arguments=(path,)))


def group_by_multi(entries: Any, path: Any, sep: Any) -> dict[str, list[Any]]:
    """Split the string at `path` on `sep` and file the item under every piece (duplicates and empty
    pieces included, as in docker-gen: "a,a" files it twice under "a")."""
    path = as_str("groupByMulti", "key", path)
    sep = as_str("groupByMulti", "sep", sep)
    return _grouped(
        "groupByMulti", entries, deep_getter(path), lambda value: gostrings.split(value, sep),
        arguments=(path, sep),
    )


def group_by_label(entries: Any, label: Any) -> dict[str, list[Any]]:
    """Containers grouped by a label's value; containers without the label are skipped."""
    label = as_str("groupByLabel", "label", label)
    return _grouped(
        "groupByLabel", entries, lambda item: container_labels("groupByLabel", item).get(label, _MISSING),
        arguments=(label,),
    )


def group_by_label_with_default(entries: Any, label: Any, default: Any) -> dict[str, list[Any]]:
    """Like groupByLabel, but containers without the label go under `default` (an empty label stays "")."""
    label = as_str("groupByLabelWithDefault", "label", label)
    default = nil(default)

    def key_of(item: Any) -> Any:
        return container_labels("groupByLabelWithDefault", item).get(label, default)

    return _grouped("groupByLabelWithDefault", entries, key_of, arguments=(label, default))
