"""etcd v3 over its JSON gateway (``/v3/...``), with etcd3gw underneath for what it does well.

etcd3gw (pure Python, maintained) discovers the gateway path (``/v3/`` since etcd 3.4) and
builds the URLs. Everything it gets wrong for a long-running watcher is done here
(services.md, "etcd clients for Python"):

* **Several endpoints.** etcd3gw talks to one; we rotate through the list on connection
  errors, timeouts and "no leader" answers, and remember the member that worked.
* **TLS that the environment cannot override.** One ``requests.Session`` with
  ``trust_env=False`` (``REQUESTS_CA_BUNDLE`` and proxy variables would otherwise win),
  ``verify=<ca>`` and ``cert=(crt, key)``.
* **User/password auth.** A token from ``/v3/auth/authenticate``, sent as ``Authorization``,
  fetched again when etcd answers 401 (simple tokens expire after 5 idle minutes).
* **Consistent reads of several prefixes.** One read-only transaction with a range per
  prefix, so every key comes from the same revision (chunks of ``max_txn_ops`` beyond 128
  prefixes, the later chunks pinned to the first one's revision).
* **Bytes, not text.** Keys and values are base64 on the wire; keys become ``str`` with
  ``surrogateescape`` (exact round trip), values stay ``bytes``. etcd3gw encodes ``str`` keys
  as Latin-1, so its key helpers are not used.
* **Its own watch** (``pygen.etcd.v3watch``): etcd3gw's watch blocks forever when its
  endpoint dies.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import etcd3gw
import requests
from etcd3gw import exceptions as gw_exceptions

from pygen.etcd import keys
from pygen.etcd.endpoints import Endpoint, EndpointRing, parse_endpoint
from pygen.etcd.store import KeyEvent, Snapshot, StoreError, StoreUnavailable, short_reason

log = logging.getLogger("pygen")

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_IDLE_TIMEOUT = 10.0
DEFAULT_UNAVAILABLE_GRACE = 3.0
MAX_TXN_OPS = 128  # etcd's --max-txn-ops default
_GRPC_OUT_OF_RANGE = 11  # "required revision has been compacted"
_GRPC_PERMISSION_DENIED = 7
_GRPC_UNAUTHENTICATED = 16


class Transient(Exception):
    """This endpoint did not answer usefully; another one (or a later try) may."""


class RevisionCompacted(Exception):
    """A range pinned to a revision that has since been compacted."""


class _Unauthenticated(Exception):
    """401: the token is missing, invalid or expired."""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def grpc_error(body: Any) -> tuple[int, str]:
    """(gRPC code, message) of a gateway error body (unary ``{"code","message"}`` or the
    stream's ``{"error": {"grpc_code", "message"}}``)."""
    if not isinstance(body, dict):
        return 0, ""
    inner = body.get("error")
    if isinstance(inner, dict):
        return int(inner.get("grpc_code") or inner.get("code") or 0), str(inner.get("message") or "")
    return int(body.get("code") or 0), str(body.get("message") or body.get("error") or "")


def auth_failure(message: str) -> bool:
    """etcd's wording for a missing, invalid or expired token."""
    lowered = message.lower()
    return "invalid auth token" in lowered or "user name is empty" in lowered or "unauthenticated" in lowered


class EtcdV3Client:
    """A StoreClient for etcd v3 (3.4 or newer) over the JSON gateway."""

    api = "v3"

    def __init__(self, endpoints: Sequence[str | Endpoint], *, cacert: str | None = None,
                 cert: str | None = None, key: str | None = None, user: str | None = None,
                 password: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                 unavailable_grace: float = DEFAULT_UNAVAILABLE_GRACE,
                 max_txn_ops: int = MAX_TXN_OPS) -> None:
        scheme = "https" if (cacert or cert) else "http"
        self.ring = EndpointRing([e if isinstance(e, Endpoint) else parse_endpoint(e, scheme)
                                  for e in endpoints])
        if bool(cert) != bool(key):
            raise ValueError("an etcd client certificate needs both the certificate and its key")
        if bool(user) != bool(password):
            raise ValueError("etcd authentication needs both a user and a password")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = cacert or True
        if cert and key:
            self.session.cert = (cert, key)
        self.user = user
        self._password = password
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.unavailable_grace = unavailable_grace
        self.max_txn_ops = max_txn_ops
        self._gateways: dict[Endpoint, etcd3gw.Etcd3Client] = {}
        self._token: str | None = None
        self._auth_lock = threading.Lock()
        self._streams: set[requests.Response] = set()
        self._streams_lock = threading.Lock()

    def describe(self) -> str:
        return f"etcd v3 at {self.ring}"

    def __repr__(self) -> str:
        return f"<EtcdV3Client {self.ring}>"

    # -- HTTP plumbing --------------------------------------------------------------------------

    def url(self, endpoint: Endpoint, path: str) -> str:
        """The gateway URL of ``path`` on ``endpoint`` (etcd3gw discovers ``/v3/`` vs older)."""
        gateway = self._gateways.get(endpoint)
        if gateway is None:
            gateway = etcd3gw.Etcd3Client(host=endpoint.host, port=endpoint.port,
                                          protocol=endpoint.scheme, session=self.session,
                                          timeout=(self.connect_timeout, self.timeout))
            self._gateways[endpoint] = gateway
        try:
            return gateway.get_url(path)
        except gw_exceptions.Etcd3Exception as error:  # its /version discovery failed
            raise Transient(short_reason(Exception(error.detail_text or str(error) or "no answer"))) from None

    def auth_headers(self, endpoint: Endpoint) -> dict[str, str]:
        if not self.user:
            return {}
        with self._auth_lock:
            if self._token is None:
                self._token = self._authenticate(endpoint)
            return {"Authorization": self._token}

    def forget_token(self, headers: dict[str, str]) -> bool:
        """Drop the token a request was refused with; False when there are no credentials."""
        if not self.user:
            return False
        with self._auth_lock:
            if self._token == headers.get("Authorization"):
                self._token = None
        return True

    def _authenticate(self, endpoint: Endpoint) -> str:
        body = self._send(endpoint, "/auth/authenticate", {"name": self.user, "password": self._password}, {})
        token = body.get("token")
        if not token:
            raise StoreError(f"etcd at {endpoint}: authentication of user {self.user!r} returned no token")
        return str(token)

    def _send(self, endpoint: Endpoint, path: str, body: dict[str, Any],
              headers: dict[str, str]) -> dict[str, Any]:
        """One POST to one endpoint; Transient for what another endpoint might answer."""
        try:
            response = self.session.post(self.url(endpoint, path), json=body, headers=headers,
                                         timeout=(self.connect_timeout, self.timeout))
        except requests.RequestException as error:
            raise Transient(short_reason(error)) from None
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                raise Transient("answer is not JSON") from None
        try:
            code, message = grpc_error(response.json())
        except ValueError:
            code, message = 0, response.text.strip()[:200]
        message = message or f"HTTP {response.status_code}"
        if code == _GRPC_OUT_OF_RANGE:
            raise RevisionCompacted(message)
        if response.status_code == 401 or code == _GRPC_UNAUTHENTICATED or auth_failure(message):
            if path == "/auth/authenticate":
                raise StoreError(f"etcd at {endpoint}: authentication of user {self.user!r} failed: {message}")
            raise _Unauthenticated(message)
        if response.status_code == 403 or code == _GRPC_PERMISSION_DENIED:
            raise StoreError(f"etcd at {endpoint}: {message} (user {self.user or '(none)'})")
        if "authentication failed" in message:
            raise StoreError(f"etcd at {endpoint}: authentication of user {self.user!r} failed: {message}")
        if response.status_code >= 500:
            raise Transient(message)
        raise StoreError(f"etcd at {endpoint}: {path}: {message}")

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the current endpoint, moving through the others until one answers."""
        endpoint = self.ring.current
        reason = ""
        for _ in range(len(self.ring)):
            try:
                return self._post_authenticated(endpoint, path, body)
            except Transient as error:
                reason = self.reason(endpoint, error)
                log.debug("etcd %s: %s", endpoint, error)
                endpoint = self.ring.advance(endpoint)
        raise StoreUnavailable(self.ring.urls(), reason)

    def reason(self, endpoint: Endpoint, error: BaseException) -> str:
        """The last failure, naming the member when there are several."""
        return f"{error}" if len(self.ring) == 1 else f"{error} (last tried {endpoint})"

    def _post_authenticated(self, endpoint: Endpoint, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = self.auth_headers(endpoint)
        try:
            return self._send(endpoint, path, body, headers)
        except _Unauthenticated as error:
            if not self.forget_token(headers):
                raise StoreError(f"etcd at {endpoint}: authentication required ({error}); "
                                 "give a user and password") from None
        try:  # the token had expired: once more with a fresh one
            return self._send(endpoint, path, body, self.auth_headers(endpoint))
        except _Unauthenticated as error:
            raise StoreError(f"etcd at {endpoint}: refused a fresh token for user {self.user!r}: {error}") from None

    # -- read -----------------------------------------------------------------------------------

    def read(self, prefixes: Sequence[str]) -> Snapshot:
        """Every key under ``prefixes`` at one revision (a read-only transaction)."""
        ranges = [{"key": b64(keys.range_key(raw)), "range_end": b64(keys.range_end(raw))}
                  for raw in (keys.to_bytes(prefix) for prefix in prefixes)]
        for _ in range(3):
            try:
                return self._read_ranges(ranges)
            except RevisionCompacted:
                continue  # compacted between two chunks: start again at a newer revision
        raise StoreError(f"{self.describe()}: the store was compacted during each of 3 reads")

    def _read_ranges(self, ranges: list[dict[str, str]]) -> Snapshot:
        if not ranges:
            body = self.post("/kv/range", {"key": b64(b"\0"), "count_only": True})
            return Snapshot(int(body["header"]["revision"]), {})
        revision: int | None = None
        kv: dict[str, bytes] = {}
        for start in range(0, len(ranges), self.max_txn_ops):
            chunk = ranges[start:start + self.max_txn_ops]
            if revision is not None:
                chunk = [dict(item, revision=revision) for item in chunk]
            body = self.post("/kv/txn", {"success": [{"request_range": item} for item in chunk]})
            if revision is None:
                revision = int(body["header"]["revision"])
            for response in body.get("responses") or []:
                for item in (response.get("response_range") or {}).get("kvs") or []:
                    kv[keys.from_bytes(unb64(item.get("key")))] = unb64(item.get("value"))
        assert revision is not None
        return Snapshot(revision, kv)

    # -- watch ----------------------------------------------------------------------------------

    def watch(self, prefixes: Sequence[str], from_revision: int,
              stop_event: threading.Event) -> Iterator[list[KeyEvent]]:
        from pygen.etcd.v3watch import watch

        return watch(self, prefixes, from_revision, stop_event)

    def register_stream(self, response: requests.Response) -> None:
        with self._streams_lock:
            self._streams.add(response)

    def unregister_stream(self, response: requests.Response) -> None:
        with self._streams_lock:
            self._streams.discard(response)

    def close(self) -> None:
        """Shut the sockets of open watch streams: a blocked read returns at once."""
        with self._streams_lock:
            streams = list(self._streams)
        for response in streams:
            abort_response(response)

    # -- writes (tests, tools) ------------------------------------------------------------------

    def put(self, key: str, value: bytes | str, lease: int = 0) -> int:
        """Put one key (for tools and tests); returns the new revision."""
        raw = value.encode("utf-8") if isinstance(value, str) else value
        body: dict[str, Any] = {"key": b64(keys.to_bytes(key)), "value": b64(raw)}
        if lease:
            body["lease"] = lease
        return int(self.post("/kv/put", body)["header"]["revision"])

    def delete(self, key: str) -> int:
        return int(self.post("/kv/deleterange", {"key": b64(keys.to_bytes(key))})["header"]["revision"])


def abort_response(response: requests.Response) -> None:
    """Shut down a streaming response's socket from another thread (closing it is not enough
    to wake a thread blocked in ``recv``)."""
    import socket

    raw = response.raw
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
