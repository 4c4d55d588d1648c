"""The small interface between etcd-gen and a key-value store (confd's StoreClient idea).

A store client does two things: read every key under some prefixes *at one revision*, and
follow the changes after that revision. Everything else (the mirror, min-keys, rendering) is
the source's business, so the etcd v3 and v2 clients stay small and interchangeable, and a
test or another store only has to provide these two calls.

A client returns at least every key a prefix selects as a path (pygen.etcd.keys.selects),
and may return more: v3 reads raw byte ranges (``/a`` also holds ``/ab``), v2 reads the
prefixes' common parent directory (the only way to get one consistent index). The caller
filters.

Errors are one line and name the endpoints, because that is what an operator needs in a log:

* ``StoreUnavailable``: no endpoint answered (refused, timed out, no leader).
* ``Compacted``: the history needed to resume a watch is gone (compaction, v2's 1000-event
  window, or a store whose revision went backwards); the caller must read everything again.
* ``StoreError``: anything else the store refused (permission denied, bad credentials).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol


class StoreError(Exception):
    """The store refused a request; the message is one line and names the endpoints."""


class StoreUnavailable(StoreError):
    """No endpoint answered."""

    def __init__(self, endpoints: Sequence[str], reason: str) -> None:
        self.endpoints = list(endpoints)
        self.reason = reason
        super().__init__(f"etcd unavailable at {', '.join(self.endpoints)}: {reason}")


class Compacted(StoreError):
    """The revision a watch must resume from is no longer available: read everything again."""

    def __init__(self, revision: int, detail: str = "") -> None:
        self.revision = revision
        super().__init__(detail or f"etcd history compacted at revision {revision}")


def short_reason(error: BaseException) -> str:
    """requests' messages run to several lines of pool internals; keep the part that matters
    ("connection refused", "connection reset by peer", "timed out", a TLS verify error)."""
    text = str(error)
    if "timed out" in text.lower():
        return "timed out"
    for pattern in (r"\[Errno -?\d+\] ([^'\"\)]+)",  # [Errno 111] Connection refused
                    r"Error\(-?\d+, '([^']+)'\)",  # ConnectionResetError(104, 'Connection reset by peer')
                    r"\[SSL: [A-Z_]+\] ([^(']+)",  # [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed
                    r"RemoteDisconnected\('([^']+)'"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip().rstrip(".").lower()
    return text.splitlines()[0][:200] if text else type(error).__name__


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every key under the prefixes read, all at one ``revision`` (values are raw bytes)."""

    revision: int
    kv: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """One change. ``recursive`` deletes (v2 directory deletes and expiries) also remove
    every key below ``key + "/"``: etcd v2 reports a directory delete as one event."""

    kind: Literal["put", "delete"]
    key: str
    value: bytes = b""
    revision: int = 0
    recursive: bool = False


class StoreClient(Protocol):
    """What EtcdSource needs from a store."""

    def read(self, prefixes: Sequence[str]) -> Snapshot:
        """All keys under ``prefixes`` at one revision. Raises StoreError subclasses."""
        ...

    def watch(self, prefixes: Sequence[str], from_revision: int,
              stop_event: threading.Event) -> Iterator[list[KeyEvent]]:
        """Batches of changes from ``from_revision`` on, in revision order, until ``stop_event``.

        Reconnects (to the other endpoints too) and resumes on its own; raises Compacted when
        the history is gone and StoreUnavailable when no endpoint answers for a while.
        """
        ...

    def describe(self) -> str:
        """One phrase for logs, e.g. ``etcd v3 at http://a:2379, http://b:2379``."""
        ...

    def close(self) -> None:
        """Abort a watch blocked on the network (so a stop is prompt) and free connections."""
        ...
