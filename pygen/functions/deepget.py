"""docker-gen's `deepGet`: the dotted field paths that groupBy*, where* and sortObjectsByKeys* take.

A path like `Labels.com.docker.compose.project` must reach the label whose key itself contains
dots, so a mapping step tries the next segment as a key and, when absent, progressively longer
dotted joins of the following segments (shortest first); there is no backtracking once a key
matched. Struct fields are matched by exact (case-sensitive) name; methods are never reachable.

Divergence, allowed by the spec: docker-gen does not descend into values held in interface-typed
containers (maps built by `dict`, `parseJson`, `fromYaml`). Python has no such distinction, so
pygen descends into every nested mapping and list.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Any

from pygen.functions.values import is_list, is_struct, nil

_INDEX_RE = re.compile(r"[+-]?[0-9]+")


def deep_get(item: Any, path: str) -> Any:
    """The value at `path` in `item`, or None (Go-nil) when any step is missing.

    "" returns the item itself; one leading "." is ignored; list steps are base-10 indexes
    (`+1` and `01` are accepted, negative or out-of-range ones give None).
    """
    item = nil(item)
    if path == "":
        return item
    return _walk(item, path.removeprefix(".").split("."))


def _walk(value: Any, parts: list[str]) -> Any:
    value = nil(value)
    if not parts or value is None:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(value, Mapping):
        return _walk_mapping(value, parts)
    if is_struct(value):
        if head in _field_names(type(value)):
            return _walk(getattr(value, head), rest)
        return None
    if is_list(value):
        if not _INDEX_RE.fullmatch(head):
            return None
        index = int(head)
        if index < 0 or index >= len(value):
            return None
        return _walk(value[index], rest)
    if isinstance(value, (str, bytes, int, float, bool)):
        return None
    # Any other object (e.g. a GoTime, a DockerImage without dataclass fields): a plain attribute
    # is a field; methods and private names are not reachable, as in Go.
    if head.startswith("_") or not hasattr(value, head):
        return None
    attribute = getattr(value, head)
    if callable(attribute):
        return None
    return _walk(attribute, rest)


def _walk_mapping(mapping: Mapping[Any, Any], parts: list[str]) -> Any:
    try:
        if parts[0] in mapping:
            return _walk(mapping[parts[0]], parts[1:])
        for end in range(2, len(parts) + 1):
            joined = ".".join(parts[:end])
            if joined in mapping:
                return _walk(mapping[joined], parts[end:])
    except TypeError:  # an unhashable or incomparable key type: no match, like Go's MapIndex miss
        return None
    return None


@functools.lru_cache(maxsize=256)
def _field_names(cls: type) -> frozenset[str]:
    """Dataclass field names per class; cached because groupBy walks every container."""
    return frozenset(f.name for f in dataclasses.fields(cls))
