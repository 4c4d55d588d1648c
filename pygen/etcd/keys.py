"""Key paths: which keys a prefix selects, the ranges to ask etcd for, and the template tree.

etcd keys are flat byte strings, but everybody uses them as paths (``/services/web/10.0.0.1``).
A config's prefix is therefore matched as a path, not as a raw string:

* ``""`` selects every key.
* A prefix ending in ``/`` selects the keys below it: ``/services/`` selects ``/services/x``.
* Any other prefix selects the key itself and the keys below it: ``/services/web`` selects
  ``/services/web`` and ``/services/web/1``, but not ``/services/webapp`` (a raw prefix would,
  which makes one service's template pick up another's servers).

Keys are never rewritten: ``/a`` and ``a`` are different etcd v3 keys (etcd v2 has only
``/``-rooted keys, so there a prefix ``a`` is taken as ``/a``). The default prefix is
``/``, the convention of confd, registrator and etcd v2 (where every key starts with ``/``).
Keys that are not valid UTF-8 are carried as ``str`` with ``surrogateescape``, so they round-trip
to the same bytes; templates get a printable copy with the odd bytes as ``\\xNN`` escapes (see
``template_text``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DEFAULT_PREFIXES = ("/",)


def normalize_prefixes(prefixes: Iterable[str] | None, absolute: bool = False) -> list[str]:
    """The prefixes of one config, deduplicated and sorted; ``["/"]`` when none are given.

    ``absolute``: the store's keys all start with ``/`` (etcd v2), so ``services`` means
    ``/services``.
    """
    items = prefixes or ()
    if absolute:
        items = [p if not p or p.startswith("/") else "/" + p for p in items]
    found = sorted(set(items))
    return found or list(DEFAULT_PREFIXES)


def selects(prefix: str, key: str) -> bool:
    """Whether ``prefix`` (a path, see the module docstring) selects ``key``."""
    if not prefix or prefix.endswith("/"):
        return key.startswith(prefix)
    return key == prefix or key.startswith(prefix + "/")


def selects_any(prefixes: Sequence[str], key: str) -> bool:
    return any(selects(prefix, key) for prefix in prefixes)


def covers(outer: str, inner: str) -> bool:
    """Whether every key ``inner`` selects is also selected by ``outer``."""
    if not outer:
        return True
    if outer.endswith("/"):
        return inner.startswith(outer)
    return inner == outer or inner.startswith(outer + "/")


def store_prefixes(prefixes: Iterable[str]) -> list[str]:
    """The fewest raw etcd prefixes whose ranges hold every key the path prefixes select.

    A path prefix is also a raw prefix of everything it selects, so the raw ranges are the
    prefixes themselves minus those inside another one (``/a`` already covers ``/a/b`` and
    ``/ab``). The caller filters the superset with ``selects``.
    """
    kept: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not any(prefix.startswith(outer) for outer in kept):
            kept.append(prefix)
    return kept


def to_bytes(key: str) -> bytes:
    """A key or prefix as etcd's bytes (inverse of ``from_bytes``)."""
    return key.encode("utf-8", "surrogateescape")


def from_bytes(raw: bytes) -> str:
    """etcd's key bytes as str; invalid UTF-8 survives as surrogates and encodes back exactly."""
    return raw.decode("utf-8", "surrogateescape")


def range_end(prefix: bytes) -> bytes:
    """etcd's ``range_end`` for "every key starting with ``prefix``" (clientv3.GetPrefixRangeEnd).

    Increment the last byte that is not 0xff and drop what follows; ``b"\\0"`` (to the end of
    the key space) when there is no such byte, which is also what the empty prefix needs.
    """
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


def range_key(prefix: bytes) -> bytes:
    """The start of the range; the empty prefix starts at ``\\0`` (etcd refuses an empty key)."""
    return prefix or b"\0"


def template_text(text: str) -> str:
    """A key as templates see it: the bytes that are not UTF-8 as ``\\xNN`` escapes.

    Templates must get printable text: a lone surrogate would make writing the output fail.
    Escapes rather than U+FFFD, because keys must stay apart: ``/k\\xfe`` and ``/k\\xff`` are
    two keys, and with U+FFFD one would hide the other in ``kv`` (values, which need not be
    unique, get U+FFFD: see ``decode_value``).
    """
    if text.isascii():  # nearly every key; a flag CPython keeps on the string, no scan
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def decode_value(value: bytes) -> str:
    """A value as templates see it: UTF-8, with U+FFFD for bytes that are not.

    Values are whatever writers put there (JSON, host:port, binary); decoding can never fail,
    and the template decides what an odd value means.
    """
    return value.decode("utf-8", "replace")


def path_segments(key: str) -> list[str]:
    """The tree path of a key: one leading ``/`` dropped, then split on ``/``.

    ``/a/b`` and ``a/b`` give ``["a", "b"]``; ``/a/`` gives ``["a", ""]``; ``/`` gives ``[""]``.
    """
    return key.removeprefix("/").split("/")


OWN_VALUE = ""
"""The tree name under which a key that also has children keeps its own value."""


def build_tree(kv: Mapping[str, str]) -> dict[str, Any]:
    """Nested dicts by path segment, children sorted by name, leaves are the values.

    etcd v3 allows a key to be both a value and a parent (``/a`` = 1 and ``/a/b`` = 2); the
    tree then has a dict at ``a`` and keeps ``/a``'s value under the empty name
    (``tree.a[""]``), whatever order the keys come in. Two keys with the same path (``/a/b``
    and ``a/b``; ``/a`` with children and ``/a/``) share one place; the one that sorts last
    wins. ``kv`` is always exact; the tree is a convenience for walking paths.
    """
    tree: dict[str, Any] = {}
    for key in sorted(kv):
        segments = path_segments(key)
        node = tree
        for segment in segments[:-1]:
            child = node.get(segment)
            if not isinstance(child, dict):
                child = {} if child is None else {OWN_VALUE: child}
                node[segment] = child
            node = child
        last = segments[-1]
        existing = node.get(last)
        if isinstance(existing, dict):
            existing[OWN_VALUE] = kv[key]
        else:
            node[last] = kv[key]
    return _sorted_tree(tree)


def _sorted_tree(node: dict[str, Any]) -> dict[str, Any]:
    return {name: _sorted_tree(child) if isinstance(child, dict) else child
            for name, child in sorted(node.items())}
