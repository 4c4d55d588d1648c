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
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined

from pygen.functions.values import nil

_log = logging.getLogger("pygen")

_INDEX_RE = re.compile(r"[+-]?[0-9]+")

# What one step of a path does with a value, decided by the value's type (see _classify).
_NIL, _MAPPING, _STRUCT, _LIST, _SCALAR, _OBJECT = range(6)
_MISSING = object()

_KINDS: dict[type, tuple[int, frozenset[str]]] = {}
"""Per type: its kind and, for a struct, its field names. A plain dict, not lru_cache: this is
looked up on every step of every item, and lru_cache's key building doubles the cost."""
_KINDS_LIMIT = 1024


def deep_get(item: Any, path: str) -> Any:
    """The value at `path` in `item`, or None (Go-nil) when any step is missing.

    "" returns the item itself; one leading "." is ignored; list steps are base-10 indexes
    (`+1` and `01` are accepted, negative or out-of-range ones give None).
    """
    return deep_getter(path)(item)


def deep_getter(path: str) -> Callable[[Any], Any]:
    """``deep_get`` with the path parsed once: for groupBy*/where*/sort*, which look up the same
    path on every item of a list."""
    if path == "":
        return nil
    return functools.partial(_walk, tuple(path.removeprefix(".").split(".")))


def _walk(parts: tuple[str, ...], value: Any) -> Any:
    """Follow ``parts`` from ``value``: one loop turn per step, dispatched on the value's type.

    Mapping keys and struct fields, the steps of nearly every real path, are taken inline.
    Once a mapping step was taken, a TypeError (an unhashable or incomparable key type, in that
    mapping or deeper) means no match, like Go's MapIndex miss; before that it propagates.
    """
    index = 0
    end = len(parts)
    in_mapping = False
    try:
        while True:
            kind, fields = _KINDS.get(type(value)) or _classify(type(value))
            if kind == _NIL:
                return None
            if index == end:
                return value
            head = parts[index]
            if kind == _MAPPING:
                in_mapping = True
                if head in value:
                    value = value[head]
                    index += 1
                else:
                    value, index = _joined_key_step(value, parts, index)
            elif kind == _STRUCT:
                value = getattr(value, head) if head in fields else _MISSING
                index += 1
            else:
                value = _step(kind, value, head)
                index += 1
            if value is _MISSING:
                return None
    except TypeError:
        if in_mapping:
            return None
        raise


def _joined_key_step(mapping: Mapping[Any, Any], parts: tuple[str, ...], index: int) -> tuple[Any, int]:
    """A key containing dots: progressively longer joins of the next segments, shortest first."""
    for end in range(index + 2, len(parts) + 1):
        joined = ".".join(parts[index:end])
        if joined in mapping:
            return mapping[joined], end
    return _MISSING, index


def _step(kind: int, value: Any, head: str) -> Any:
    """One step into a list or another object; _MISSING when it cannot be taken."""
    if kind == _LIST:
        position = int(head) if _INDEX_RE.fullmatch(head) else -1
        if 0 <= position < len(value):
            return value[position]
        # docker-gen logs it too; debug, because a template meets it on every render
        _log.debug("deepGet: %r is not an index of a list of %d items: nil", head, len(value))
        return _MISSING
    if kind == _SCALAR:
        return _MISSING
    # Any other object (e.g. a GoTime, a DockerImage without dataclass fields): a plain attribute
    # is a field; methods and private names are not reachable, as in Go.
    if head.startswith("_") or not hasattr(value, head):
        return _MISSING
    attribute = getattr(value, head)
    return _MISSING if callable(attribute) else attribute


def _classify(cls: type) -> tuple[int, frozenset[str]]:
    """How a path step treats values of ``cls`` (and a struct's field names), remembered in _KINDS.

    Go-nil (None, Jinja Undefined) first, then mappings, dataclass instances (Go structs), lists,
    scalars, anything else. All of it depends on the type alone, so it is decided once per type
    instead of with up to five isinstance checks (two of them ABC checks) per step of every item.
    """
    fields: frozenset[str] = frozenset()
    if cls is type(None) or issubclass(cls, Undefined):
        kind = _NIL
    elif issubclass(cls, Mapping):
        kind = _MAPPING
    elif dataclasses.is_dataclass(cls) and not issubclass(cls, type):
        kind = _STRUCT
        fields = frozenset(f.name for f in dataclasses.fields(cls))
    elif issubclass(cls, (list, tuple)):
        kind = _LIST
    elif issubclass(cls, (str, bytes, int, float, bool)):
        kind = _SCALAR
    else:
        kind = _OBJECT
    if len(_KINDS) >= _KINDS_LIMIT:
        _KINDS.clear()
    _KINDS[cls] = (kind, fields)
    return kind, fields
