"""Legacy etcd v2 (the 2014 seed's registry, registrator's etcd backend) through python-etcd.

etcd 3.6 removed the v2 API, and 3.4/3.5 serve it only with ``--enable-v2=true``; v2 and v3
keys are separate key spaces. Use the v3 client unless the writers still speak v2.

v2 is a tree of directories and leaves: only leaves are keys here, and every key starts with
``/``. A read is one recursive quorum GET of the prefixes' common parent directory, because
that is the only way to get several prefixes at one index (``X-Etcd-Index``); the source
filters the extra keys out. The watch is v2's long poll (``wait=true&recursive=true``) on the
same directory, resumed at ``waitIndex = last modifiedIndex + 1``:

* ``expire`` (a TTL ran out) and ``compareAndDelete`` are deletes; deleting or expiring a
  directory is one event for the directory, reported as a recursive delete;
* creating a directory is not a key change and is skipped;
* "401: The event in requested index is outdated and cleared" (v2 keeps the last 1000
  events only) is ``Compacted``: read everything again.

python-etcd fails over between the hosts by itself (``allow_reconnect=True``) but empties its
list of machines on the way and then sticks to the last one, so a client is dropped and built
again, starting at the next endpoint, after it gives up. Its constructor talks to the cluster
(to learn the members), so it is built lazily: an unreachable store at start-up is an ordinary
StoreUnavailable, not a crash.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence

import etcd

from pygen.etcd.endpoints import Endpoint, EndpointRing, parse_endpoint
from pygen.etcd.store import (
    Compacted,
    KeyEvent,
    Snapshot,
    StoreError,
    StoreUnavailable,
    short_reason,
)

log = logging.getLogger("pygen")

DEFAULT_TIMEOUT = 5.0
DEFAULT_WATCH_TIMEOUT = 5.0
DEFAULT_UNAVAILABLE_GRACE = 3.0
_PUT_ACTIONS = frozenset({"set", "create", "update", "compareAndSwap"})
_DELETE_ACTIONS = frozenset({"delete", "expire", "compareAndDelete"})


def v2_directory(prefixes: Sequence[str]) -> str:
    """The deepest directory holding every prefix (``/`` for none, or for unrelated ones).

    ``/services/web`` and ``/services/api/`` give ``/services``; a single prefix gives itself
    (a leaf or a directory, both fine for a recursive GET).
    """
    paths = [[segment for segment in prefix.split("/") if segment] for prefix in prefixes]
    if not paths:
        return "/"
    common = paths[0]
    for path in paths[1:]:
        length = 0
        while length < min(len(common), len(path)) and common[length] == path[length]:
            length += 1
        common = common[:length]
    return "/" + "/".join(common)


def _value(text: str | None) -> bytes:
    # v2 values are JSON strings; a lone surrogate from a \\ud800 escape must not crash
    return (text or "").encode("utf-8", "surrogatepass")


class EtcdV2Client:
    """A StoreClient for the etcd v2 API."""

    api = "v2"
    absolute_keys = True  # every v2 key starts with "/": a prefix "services" means "/services"

    def __init__(self, endpoints: Sequence[str | Endpoint], *, cacert: str | None = None,
                 cert: str | None = None, key: str | None = None, user: str | None = None,
                 password: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 watch_timeout: float = DEFAULT_WATCH_TIMEOUT,
                 unavailable_grace: float = DEFAULT_UNAVAILABLE_GRACE) -> None:
        scheme = "https" if (cacert or cert) else "http"
        self.ring = EndpointRing([e if isinstance(e, Endpoint) else parse_endpoint(e, scheme)
                                  for e in endpoints])
        if len({e.scheme for e in self.ring.endpoints}) > 1:
            raise ValueError(f"etcd v2 endpoints must all use the same scheme: {self.ring}")
        if bool(cert) != bool(key):
            raise ValueError("an etcd client certificate needs both the certificate and its key")
        if bool(user) != bool(password):
            raise ValueError("etcd authentication needs both a user and a password")
        self.cacert = cacert
        self.cert = (cert, key) if cert and key else None
        self.user = user
        self._password = password
        self.timeout = timeout
        self.watch_timeout = watch_timeout
        self.unavailable_grace = unavailable_grace
        self._client: etcd.Client | None = None
        self._lock = threading.Lock()
        # python-etcd logs every failed request at ERROR (a flood during an outage, on the
        # root logger's stderr); the source logs one line per state change instead.
        logging.getLogger("etcd").setLevel(logging.CRITICAL)

    def describe(self) -> str:
        return f"etcd v2 at {self.ring}"

    def __repr__(self) -> str:
        return f"<EtcdV2Client {self.ring}>"

    def _connect(self) -> etcd.Client:
        with self._lock:
            if self._client is not None:
                return self._client
            first = self.ring.current
            ordered = self.ring.endpoints[self.ring.endpoints.index(first):] + \
                self.ring.endpoints[:self.ring.endpoints.index(first)]
            try:
                self._client = etcd.Client(
                    host=tuple((e.host, e.port) for e in ordered), protocol=first.scheme,
                    allow_reconnect=True, read_timeout=self.timeout, ca_cert=self.cacert,
                    cert=self.cert, username=self.user, password=self._password)
            except etcd.EtcdException:  # its text blames the host list; the hosts just did not answer
                self.ring.advance(first)
                raise StoreUnavailable(self.ring.urls(), "no member answered") from None
            return self._client

    def _give_up(self, error: Exception) -> StoreUnavailable:
        """Drop the client (its machine list is spent) and start at another endpoint next time."""
        with self._lock:
            self._client = None
        self.ring.advance(self.ring.current)
        cause = getattr(error, "cause", None)
        return StoreUnavailable(self.ring.urls(), short_reason(cause or error))

    def read(self, prefixes: Sequence[str]) -> Snapshot:
        directory = v2_directory(prefixes)
        client = self._connect()
        try:
            result = client.read(directory, recursive=True, quorum=True, timeout=self.timeout)
        except etcd.EtcdKeyNotFound as error:
            return Snapshot(int((error.payload or {}).get("index") or 0), {})
        except etcd.EtcdInsufficientPermissions as error:
            raise StoreError(f"{self.describe()}: reading {directory}: permission denied ({error})") from None
        except etcd.EtcdException as error:
            raise self._give_up(error) from None
        kv = {node.key: _value(node.value) for node in result.leaves if not node.dir}
        return Snapshot(int(result.etcd_index), kv)

    def watch(self, prefixes: Sequence[str], from_revision: int,
              stop_event: threading.Event) -> Iterator[list[KeyEvent]]:
        directory = v2_directory(prefixes)
        index = from_revision
        failing_since: float | None = None
        while not stop_event.is_set():
            try:
                client = self._connect()
                result = client.read(directory, wait=True, recursive=True, waitIndex=index,
                                     timeout=self.watch_timeout)
            except etcd.EtcdWatchTimedOut:
                continue  # a quiet long poll: ask again
            except etcd.EtcdEventIndexCleared as error:
                current = int((error.payload or {}).get("index") or 0)
                raise Compacted(current, f"etcd v2 history no longer holds index {index} "
                                         f"(now at {current})") from None
            except etcd.EtcdInsufficientPermissions as error:
                raise StoreError(f"{self.describe()}: watching {directory}: permission denied ({error})") from None
            except (etcd.EtcdException, StoreUnavailable) as error:
                if stop_event.is_set():
                    return
                unavailable = error if isinstance(error, StoreUnavailable) else self._give_up(error)
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since >= self.unavailable_grace:
                    raise unavailable from None
                if stop_event.wait(0.2):
                    return
                continue
            failing_since = None
            index = int(result.modifiedIndex) + 1
            event = _event(result)
            if event is not None:
                yield [event]

    def close(self) -> None:
        """python-etcd cannot abort a long poll; the watch notices a stop within ``watch_timeout``."""
        with self._lock:
            client = self._client
        if client is not None:
            client.http.clear()


def _event(result: etcd.EtcdResult) -> KeyEvent | None:
    revision = int(result.modifiedIndex)
    if result.action in _DELETE_ACTIONS:
        return KeyEvent("delete", result.key, b"", revision, recursive=bool(result.dir))
    if result.action in _PUT_ACTIONS and not result.dir:
        return KeyEvent("put", result.key, _value(result.value), revision)
    return None
