"""etcd endpoint URLs and the rotation both clients use for failover.

Neither etcd3gw nor python-etcd rotates through a list the way we need (etcd3gw talks to one
endpoint; python-etcd empties its machine cache and then stays on the last one), so the list
and the "current" member live here and the clients move on when a member stops answering.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 2379


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def __str__(self) -> str:
        return self.url


def parse_endpoint(text: str, default_scheme: str = "http") -> Endpoint:
    """``http://h:p``, ``https://h:p`` or ``h:p`` (``h`` alone gets port 2379). ValueError if bad."""
    raw = text.strip()
    if not raw:
        raise ValueError("empty etcd endpoint")
    if "://" not in raw:
        raw = f"{default_scheme}://{raw}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"etcd endpoint {text!r}: scheme must be http or https")
    if not parts.hostname:
        raise ValueError(f"etcd endpoint {text!r}: no host")
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"etcd endpoint {text!r}: unexpected path or query")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"etcd endpoint {text!r}: bad port") from None
    return Endpoint(parts.scheme, parts.hostname, port)


class EndpointRing:
    """The endpoints in order and the one in use; ``advance`` moves on after a failure."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        if not endpoints:
            raise ValueError("no etcd endpoint given")
        self.endpoints = list(endpoints)
        self._index = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.endpoints)

    @property
    def current(self) -> Endpoint:
        with self._lock:
            return self.endpoints[self._index]

    def advance(self, failed: Endpoint) -> Endpoint:
        """Move past ``failed`` (unless another thread already did) and return the next one."""
        with self._lock:
            if self.endpoints[self._index] == failed:
                self._index = (self._index + 1) % len(self.endpoints)
            return self.endpoints[self._index]

    def urls(self) -> list[str]:
        return [endpoint.url for endpoint in self.endpoints]

    def __str__(self) -> str:
        return ", ".join(self.urls())
