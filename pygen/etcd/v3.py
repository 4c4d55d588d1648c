"""etcd v3 over its JSON gateway (``/v3/...``, etcd 3.4 or newer), on pygen's own HTTP client,
with reads over gRPC.

What a long-running watcher needs from a client, and generic gateway clients such as etcd3gw
get wrong (services.md, "etcd clients for Python"):

* **Several endpoints.** We rotate through the list on connection errors, timeouts and "no
  leader" answers, and remember the member that worked.
* **TLS that the environment cannot override.** Only the ``-cacert``, ``-cert`` and ``-key``
  given count: no ``REQUESTS_CA_BUNDLE``, no proxy variables (``pygen.http1`` reads neither).
* **User/password auth.** A token from ``/v3/auth/authenticate``, sent as ``Authorization``,
  fetched again when etcd answers 401 (simple tokens expire after 5 idle minutes).
* **Consistent reads of several prefixes.** One read-only transaction with a range per
  prefix, so every key comes from the same revision (chunks of ``max_txn_ops`` beyond 128
  prefixes, the later chunks pinned to the first one's revision).
* **Fast big reads.** The transaction goes over gRPC (``pygen.grpc``, ``pygen.etcd.v3proto``):
  the gateway's JSON of 10,000 keys costs etcd 100-160 ms, the protobuf 20-35 ms. A member
  that does not speak HTTP/2 is read through the gateway from then on; a refused call is asked
  again of the gateway, whose answer says why (compacted, permission denied...).
* **Bytes, not text.** Keys and values are base64 on the wire; keys become ``str`` with
  ``surrogateescape`` (exact round trip), values stay ``bytes``.
* **Its own watch** (``pygen.etcd.v3watch``): etcd3gw's watch blocks forever when its
  endpoint dies.
* **Start-up cost.** The register script pygen renders is a new process on every change; on
  etcd3gw (requests, urllib3, futurist...) its imports took 185 ms of the 500 ms budget from
  ``docker run`` to the first answer. ``pygen.http1`` imports nothing beyond the socket module.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from pygen import grpc
from pygen.etcd import keys, v3proto
from pygen.etcd.endpoints import Endpoint, EndpointRing, parse_endpoint
from pygen.etcd.store import KeyEvent, Snapshot, StoreError, StoreUnavailable
from pygen.http1 import Address, CannotConnect, ConnectionLost, ConnectionPool, Stream

if TYPE_CHECKING:
    import ssl

log = logging.getLogger("pygen")

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_IDLE_TIMEOUT = 10.0
DEFAULT_UNAVAILABLE_GRACE = 3.0
MAX_TXN_OPS = 128  # etcd's --max-txn-ops default
_GRPC_OUT_OF_RANGE = 11  # "required revision has been compacted"
_GRPC_PERMISSION_DENIED = 7
_GRPC_UNAUTHENTICATED = 16
T = TypeVar("T")


class Transient(Exception):
    """This endpoint did not answer usefully; another one (or a later try) may."""


class RevisionCompacted(Exception):
    """A range pinned to a revision that has since been compacted."""


class _Unauthenticated(Exception):
    """401: the token is missing, invalid or expired."""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str | None) -> bytes:
    # binascii directly: a read of 10,000 keys decodes 20,000 of these (base64.b64decode's
    # argument checks cost twice the decoding)
    return binascii.a2b_base64(text) if text else b""


def grpc_error(body: Any) -> tuple[int, str]:
    """(gRPC code, message) of a gateway error body (unary ``{"code","message"}`` or the
    stream's ``{"error": {"grpc_code", "message"}}``)."""
    if not isinstance(body, dict):
        return 0, ""
    inner = body.get("error")
    if isinstance(inner, dict):
        return int(inner.get("grpc_code") or inner.get("code") or 0), str(inner.get("message") or "")
    return int(body.get("code") or 0), str(body.get("message") or body.get("error") or "")


def refusal(status: int, body: bytes) -> tuple[int, str]:
    """(gRPC code, message) of an error answer: its JSON, else its text, else the HTTP status."""
    try:
        code, message = grpc_error(json.loads(body))
    except ValueError:
        code, message = 0, body.decode(errors="replace").strip()[:200]
    return code, message or f"HTTP {status}"


def auth_failure(message: str) -> bool:
    """etcd's wording for a missing, invalid or expired token."""
    lowered = message.lower()
    return "invalid auth token" in lowered or "user name is empty" in lowered or "unauthenticated" in lowered


class EtcdV3Client:
    """A StoreClient for etcd v3 (3.4 or newer): the JSON gateway, and gRPC for reads."""

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
        self.cacert = cacert
        self.cert = cert
        self.key = key
        self.user = user
        self._password = password
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.unavailable_grace = unavailable_grace
        self.max_txn_ops = max_txn_ops
        self._pools: dict[Endpoint, ConnectionPool] = {}
        self._pools_lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self._grpc_tls: ssl.SSLContext | None = None
        self._gateway_only: set[Endpoint] = set()  # members whose port does not speak gRPC
        self._token: str | None = None
        self._auth_lock = threading.Lock()
        self._streams: set[Stream] = set()
        self._streams_lock = threading.Lock()

    def describe(self) -> str:
        return f"etcd v3 at {self.ring}"

    def __repr__(self) -> str:
        return f"<EtcdV3Client {self.ring}>"

    # -- HTTP plumbing --------------------------------------------------------------------------

    def tls_context(self) -> ssl.SSLContext:
        """Server verification against ``cacert`` (else the system's CAs), hostname checked,
        and the client certificate when given; built on first use, once."""
        if self._tls is None:
            self._tls = self._new_tls_context()
        return self._tls

    def grpc_tls_context(self) -> ssl.SSLContext:
        """The same, offering HTTP/2 (ALPN ``h2``), which the HTTP/1.1 connections must not."""
        if self._grpc_tls is None:
            self._grpc_tls = grpc.alpn_h2(self._new_tls_context())
        return self._grpc_tls

    def _new_tls_context(self) -> ssl.SSLContext:
        import ssl  # plain-HTTP clients do not pay for it

        try:
            context = ssl.create_default_context(cafile=self.cacert or None)
            if self.cert and self.key:
                context.load_cert_chain(self.cert, self.key)
        except OSError as error:  # a missing or unreadable file: a setup error, not a retry
            files = ", ".join(f for f in (self.cacert, self.cert, self.key) if f)
            raise StoreError(f"etcd TLS files ({files}): {error.strerror or error}") from None
        return context

    def pool(self, endpoint: Endpoint) -> ConnectionPool:
        """The kept-alive connections to one member."""
        with self._pools_lock:
            pool = self._pools.get(endpoint)
            if pool is None:
                tls = self.tls_context() if endpoint.scheme == "https" else None
                pool = ConnectionPool(Address(endpoint.host, endpoint.port, scheme=endpoint.scheme), tls,
                                      timeout=self.timeout, connect_timeout=self.connect_timeout)
                self._pools[endpoint] = pool
            return pool

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
        with self._transient_failures():
            response = self.pool(endpoint).request("POST", "/v3" + path, json.dumps(body).encode(), headers)
        if response.status == 200:
            try:
                return json.loads(response.body)
            except ValueError:
                raise Transient("answer is not JSON") from None
        self.raise_refusal(endpoint, path, response.status, response.body)
        raise AssertionError("unreachable")

    @contextmanager
    def _transient_failures(self) -> Iterator[None]:
        """A connection that failed or a member that did not answer: another one may."""
        try:
            yield
        except ConnectionLost as error:
            raise Transient(error.reason) from None
        except TimeoutError:
            raise Transient(f"no answer within {self.timeout:g}s") from None

    def raise_refusal(self, endpoint: Endpoint, path: str, status: int, body: bytes) -> None:
        """Turn an error answer into the exception that says what to do about it."""
        code, message = refusal(status, body)
        if code == _GRPC_OUT_OF_RANGE:
            raise RevisionCompacted(message)
        if status == 401 or code == _GRPC_UNAUTHENTICATED or auth_failure(message):
            if path == "/auth/authenticate":
                raise StoreError(f"etcd at {endpoint}: authentication of user {self.user!r} failed: {message}")
            raise _Unauthenticated(message)
        if status == 403 or code == _GRPC_PERMISSION_DENIED:
            raise StoreError(f"etcd at {endpoint}: {message} (user {self.user or '(none)'})")
        if "authentication failed" in message:
            raise StoreError(f"etcd at {endpoint}: authentication of user {self.user!r} failed: {message}")
        if status >= 500:
            raise Transient(message)
        raise StoreError(f"etcd at {endpoint}: {path}: {message}")

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the current endpoint, moving through the others until one answers."""
        return self.on_any_endpoint(lambda endpoint: self._post_authenticated(endpoint, path, body))

    def on_any_endpoint(self, call: Callable[[Endpoint], T]) -> T:
        """``call`` the current endpoint, moving through the others while they fail with
        Transient; StoreUnavailable naming them all when none answers."""
        endpoint = self.ring.current
        reason = ""
        for _ in range(len(self.ring)):
            try:
                return call(endpoint)
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
        ranges = [(keys.range_key(raw), keys.range_end(raw))
                  for raw in (keys.to_bytes(prefix) for prefix in prefixes)]
        for _ in range(3):
            try:
                return self._read_ranges(ranges)
            except RevisionCompacted:
                continue  # compacted between two chunks: start again at a newer revision
        raise StoreError(f"{self.describe()}: the store was compacted during each of 3 reads")

    def _read_ranges(self, ranges: list[tuple[bytes, bytes]]) -> Snapshot:
        if not ranges:
            body = self.post("/kv/range", {"key": b64(b"\0"), "count_only": True})
            return Snapshot(int(body["header"]["revision"]), {})
        revision: int | None = None
        kv: dict[str, bytes] = {}
        for start in range(0, len(ranges), self.max_txn_ops):
            chunk = ranges[start:start + self.max_txn_ops]
            chunk_revision = self.on_any_endpoint(partial(self._read_txn, ranges=chunk, revision=revision, into=kv))
            if revision is None:
                revision = chunk_revision
        assert revision is not None
        return Snapshot(revision, kv)

    def _read_txn(self, endpoint: Endpoint, ranges: list[tuple[bytes, bytes]], revision: int | None,
                  into: dict[str, bytes]) -> int:
        """One transaction of ranges: over gRPC where the member speaks it (a big read costs a
        quarter of the gateway's), else, or to learn why gRPC refused, over the gateway."""
        if endpoint not in self._gateway_only:
            try:
                return self._read_txn_grpc(endpoint, ranges, revision, into)
            except grpc.NotGrpc as error:
                log.debug("etcd %s: reading through the JSON gateway: %s", endpoint, error)
                self._gateway_only.add(endpoint)
            except CannotConnect as error:  # the gateway is on the same port: no use trying it
                raise Transient(error.reason) from None
            except (grpc.NoMessage, ConnectionLost, v3proto.MalformedMessage) as error:
                log.debug("etcd %s: gRPC read failed (%s); asking the gateway", endpoint, error)
            except TimeoutError:
                raise Transient(f"no answer within {self.timeout:g}s") from None
        chunk = [{"key": b64(key), "range_end": b64(end)} for key, end in ranges]
        if revision is not None:
            chunk = [dict(item, revision=revision) for item in chunk]
        body = self._post_authenticated(endpoint, "/kv/txn", {"success": [{"request_range": item} for item in chunk]})
        for response in body.get("responses") or []:
            for item in (response.get("response_range") or {}).get("kvs") or []:
                into[keys.from_bytes(unb64(item.get("key")))] = unb64(item.get("value"))
        return int(body["header"]["revision"])

    def _read_txn_grpc(self, endpoint: Endpoint, ranges: list[tuple[bytes, bytes]], revision: int | None,
                       into: dict[str, bytes]) -> int:
        token = self.auth_headers(endpoint).get("Authorization")
        tls = self.grpc_tls_context() if endpoint.scheme == "https" else None
        answer = grpc.unary_call(Address(endpoint.host, endpoint.port, scheme=endpoint.scheme), tls,
                                 v3proto.TXN_METHOD, v3proto.txn_of_ranges(ranges, revision),
                                 {"token": token} if token else None,
                                 timeout=self.timeout, connect_timeout=self.connect_timeout)
        found: dict[str, bytes] = {}
        answer_revision = v3proto.decode_txn_ranges(answer, found)
        if not answer_revision:
            raise v3proto.MalformedMessage("the answer has no revision")
        into.update(found)
        return answer_revision

    # -- watch ----------------------------------------------------------------------------------

    def watch(self, prefixes: Sequence[str], from_revision: int,
              stop_event: threading.Event) -> Iterator[list[KeyEvent]]:
        from pygen.etcd.v3watch import watch

        return watch(self, prefixes, from_revision, stop_event)

    def open_stream(self, endpoint: Endpoint, path: str, body: bytes,
                    headers: Mapping[str, str]) -> Stream:
        """A streaming POST on a connection of its own, which ``close`` can interrupt."""
        with self._transient_failures():
            stream = self.pool(endpoint).stream("POST", "/v3" + path, body, headers, idle_timeout=self.idle_timeout)
        with self._streams_lock:
            self._streams.add(stream)
        return stream

    def close_stream(self, stream: Stream) -> None:
        with self._streams_lock:
            self._streams.discard(stream)
        stream.close()

    def close(self) -> None:
        """Shut the sockets of open watch streams (a blocked read returns at once) and drop
        the idle connections."""
        with self._streams_lock:
            streams = list(self._streams)
        for stream in streams:
            stream.shutdown()
        with self._pools_lock:
            pools = list(self._pools.values())
        for pool in pools:
            pool.close()

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
