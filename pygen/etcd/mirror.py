"""The in-memory copy of the watched keys, replaced by full reads and patched by events.

A full read replaces everything at once (never a partial state). Events at or below the
revision of the last full read are ignored: they are already in it. That matters when a
``refresh()`` on the engine's thread reads a newer snapshot while the watcher thread still
has older events in flight; applying those would briefly bring back old values.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from pygen.etcd.keys import covers, selects_any
from pygen.etcd.store import KeyEvent, Snapshot


class Mirror:
    """Keys selected by ``prefixes`` (path semantics, see pygen.etcd.keys), with raw values."""

    def __init__(self, prefixes: Sequence[str] = ()) -> None:
        self.prefixes = list(prefixes)
        self._kv: dict[str, bytes] = {}
        self.base_revision = 0
        self.revision = 0
        self._lock = threading.Lock()

    def replace(self, snapshot: Snapshot, prefixes: Sequence[str] | None = None) -> None:
        """Take a full read of ``store_prefixes(prefixes)`` (and, when given, the prefixes)."""
        with self._lock:
            if prefixes is not None:
                self.prefixes = list(prefixes)
            if all(not prefix or prefix.endswith("/") for prefix in self.prefixes):
                self._kv = dict(snapshot.kv)  # such a prefix's etcd range is exactly what it selects
            else:  # "/a" also reads "/ab...": keep only what the paths select
                self._kv = {key: value for key, value in snapshot.kv.items() if selects_any(self.prefixes, key)}
            self.base_revision = self.revision = snapshot.revision

    def apply(self, events: Iterable[KeyEvent]) -> bool:
        """Apply one batch; True when a selected key changed (a re-put of the same value or an
        event outside the prefixes changes nothing, so it need not cause a render)."""
        changed = False
        with self._lock:
            for event in events:
                if event.revision and event.revision <= self.base_revision:
                    continue
                self.revision = max(self.revision, event.revision)
                if event.kind == "put":
                    if selects_any(self.prefixes, event.key) and self._kv.get(event.key) != event.value:
                        self._kv[event.key] = event.value
                        changed = True
                    continue
                if self._kv.pop(event.key, None) is not None:
                    changed = True
                if event.recursive:
                    below = event.key.rstrip("/") + "/"
                    doomed = [key for key in self._kv if key.startswith(below)]
                    for key in doomed:
                        del self._kv[key]
                    changed |= bool(doomed)
        return changed

    def select(self, prefixes: Sequence[str]) -> dict[str, bytes]:
        """A copy of the keys ``prefixes`` select.

        The mirror holds only keys its own prefixes select, so asking with prefixes that cover
        all of those (the usual single-config case) is a plain copy, not a test per key.
        """
        with self._lock:
            if all(any(covers(wanted, own) for wanted in prefixes) for own in self.prefixes):
                return dict(self._kv)
            return {key: value for key, value in self._kv.items() if selects_any(prefixes, key)}

    def __len__(self) -> int:
        with self._lock:
            return len(self._kv)
