"""The etcd v3 watch loop: one streaming POST /v3/watch per connection, resumed, failed over.

Why not etcd3gw's watch: when its endpoint dies, its iterator blocks forever without an error.
This loop:

* opens **one** HTTP stream carrying one watch per prefix (the gateway reads several
  newline-separated ``create_request`` objects from the body; ids 1..n, etcd >= 3.4), so a
  user whose role only grants the prefixes themselves can still watch them all;
* starts each watch at its own next revision (``start_revision = last seen + 1``), so a
  reconnect, to the same or another member, neither loses nor repeats an event;
* sends ``Grpc-Metadata-hasleader: true`` (gRPC's require-leader): a member cut off from
  the quorum cancels the stream instead of silently delivering nothing;
* asks for ``progress_notify`` (progress advances the resume revision of quiet watches);
* reads with an idle timeout: after ``idle_timeout`` seconds without a byte it reconnects,
  which proves the member is alive (etcd sends progress only every 10 minutes by default;
  a member that died without closing the connection is noticed this way);
* raises ``Compacted`` when etcd cancels a watch with ``compact_revision``, or when a
  member's revision is behind what was already seen (the store was restored or replaced:
  resuming would wait for revisions that will never come), and ``StoreUnavailable`` when no
  member has answered for ``unavailable_grace`` seconds; a leader election (about 2 s after
  a crash) usually fits in that grace and costs no re-read.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pygen.etcd import keys
from pygen.etcd.endpoints import Endpoint
from pygen.etcd.store import Compacted, KeyEvent, StoreError, StoreUnavailable
from pygen.etcd.v3 import Transient, auth_failure, b64, grpc_error, refusal, unb64
from pygen.http1 import ConnectionLost

if TYPE_CHECKING:
    from pygen.etcd.v3 import EtcdV3Client
    from pygen.http1 import Stream

log = logging.getLogger("pygen")

_GRPC_PERMISSION_DENIED = 7
_GRPC_UNAUTHENTICATED = 16
_PAUSE_START = 0.05
_PAUSE_MAX = 1.0


@dataclass(slots=True)
class _Watch:
    id: int
    prefix: str
    next_revision: int

    def create_request(self) -> dict[str, Any]:
        raw = keys.to_bytes(self.prefix)
        return {"create_request": {
            "key": b64(keys.range_key(raw)), "range_end": b64(keys.range_end(raw)),
            "start_revision": self.next_revision, "progress_notify": True, "watch_id": self.id,
        }}


class _Idle(Exception):
    """The stream was quiet for ``idle_timeout``: reconnect to check the member is alive."""


def watch(client: EtcdV3Client, prefixes: Sequence[str], from_revision: int,
          stop_event: threading.Event) -> Iterator[list[KeyEvent]]:
    """Batches of events (one per watch response), until ``stop_event`` is set."""
    watches = [_Watch(number + 1, prefix, from_revision) for number, prefix in enumerate(prefixes)]
    if not watches:
        stop_event.wait()
        return
    state = _State(seen=from_revision - 1)
    endpoint = client.ring.current
    failing_since: float | None = None
    failures = 0
    pause = _PAUSE_START
    while not stop_event.is_set():
        try:
            for batch in _stream(client, endpoint, watches, state, stop_event):
                failing_since, failures, pause = None, 0, _PAUSE_START
                yield batch
            if stop_event.is_set():
                return
            raise Transient("watch stream ended")
        except _Idle:
            log.debug("etcd %s: watch idle for %.0fs, reconnecting", endpoint, client.idle_timeout)
            continue
        except Transient as error:
            if stop_event.is_set():
                return
            now = time.monotonic()
            if failing_since is None:
                failing_since = now
                log.info("etcd %s: watch interrupted (%s); resuming at revision %d%s", endpoint, error,
                         min(w.next_revision for w in watches),
                         " on the next member" if len(client.ring) > 1 else "")
            reason = client.reason(endpoint, error)
            failures += 1
            endpoint = client.ring.advance(endpoint)
            if now - failing_since >= client.unavailable_grace:
                raise StoreUnavailable(client.ring.urls(), reason) from None
            if failures % len(client.ring) == 0:  # every member failed once: pause, then again
                if stop_event.wait(pause):
                    return
                pause = min(pause * 2, _PAUSE_MAX)


@dataclass(slots=True)
class _State:
    seen: int  # the highest revision this watch knows the store has reached


def _stream(client: EtcdV3Client, endpoint: Endpoint, watches: list[_Watch], state: _State,
            stop_event: threading.Event) -> Iterator[list[KeyEvent]]:
    """One connection: create every watch, then yield event batches until it breaks."""
    headers = {"Grpc-Metadata-hasleader": "true", "Content-Type": "application/json"}
    auth = client.auth_headers(endpoint)
    headers.update(auth)
    body = "\n".join(json.dumps(w.create_request()) for w in watches).encode()
    stream = client.open_stream(endpoint, "/watch", body, headers)
    try:
        if stop_event.is_set():  # stopped while connecting: close() could not see this stream yet
            return
        if stream.status != 200:
            _refused(client, endpoint, stream, auth)
        by_id = {w.id: w for w in watches}
        pending = set(by_id)
        try:
            for line in stream.lines():
                batch = _handle(client, endpoint, json.loads(line), by_id, pending, state, auth)
                if batch:
                    yield batch
        except ConnectionLost as error:
            if stop_event.is_set():
                return
            raise Transient(error.reason) from None
        except TimeoutError:
            if stop_event.is_set():
                return
            if pending:
                raise Transient(f"no answer to the watch request within {client.idle_timeout:.0f}s") from None
            raise _Idle() from None
        except ValueError as error:
            raise Transient(f"unreadable watch response: {error}") from None
        if not stop_event.is_set():
            raise Transient("watch stream closed by the member")
    finally:
        client.close_stream(stream)


def _refused(client: EtcdV3Client, endpoint: Endpoint, stream: Stream, auth: dict[str, str]) -> None:
    code, message = refusal(stream.status, stream.error_body())
    _raise_for(client, endpoint, code, message, auth, stream.status)


def _raise_for(client: EtcdV3Client, endpoint: Endpoint, code: int, message: str,
               auth: dict[str, str], status: int = 0) -> None:
    if status == 401 or code == _GRPC_UNAUTHENTICATED or auth_failure(message):
        if client.forget_token(auth):
            raise Transient(f"authentication: {message}")  # a fresh token on the next connect
        raise StoreError(f"etcd at {endpoint}: authentication required ({message}); give a user and password")
    if status == 403 or code == _GRPC_PERMISSION_DENIED or "permission denied" in message.lower():
        raise StoreError(f"etcd at {endpoint}: watch refused: {message} (user {client.user or '(none)'})")
    raise Transient(message)


def _handle(client: EtcdV3Client, endpoint: Endpoint, message: dict[str, Any], by_id: dict[int, _Watch],
            pending: set[int], state: _State, auth: dict[str, str]) -> list[KeyEvent] | None:
    """Apply one watch response to the watches' state; the events it carries, if any."""
    if "error" in message:  # the gateway reports a broken gRPC stream this way
        code, text = grpc_error(message)
        _raise_for(client, endpoint, code, text or "watch stream error", auth)
    result = message.get("result") or {}
    header = result.get("header") or {}
    watch_id = int(result.get("watch_id") or 0)
    if result.get("canceled"):
        compacted = int(result.get("compact_revision") or 0)
        if compacted:
            raise Compacted(compacted, f"etcd history compacted at revision {compacted} "
                                       f"(watch at {endpoint} needed an older one)")
        _raise_for(client, endpoint, 0, str(result.get("cancel_reason") or "watch canceled by etcd"), auth)
    if result.get("created"):
        pending.discard(watch_id)
        current = int(header.get("revision") or 0)
        if current and current < state.seen:
            raise Compacted(current, f"etcd at {endpoint} is at revision {current}, behind revision "
                                     f"{state.seen} already seen (restored or replaced store)")
        return None
    watch = by_id.get(watch_id)
    events = result.get("events") or []
    if not events:  # progress: nothing for this watch up to the header's revision
        revision = int(header.get("revision") or 0)
        for target in ([watch] if watch else by_id.values() if watch_id == -1 else []):
            target.next_revision = max(target.next_revision, revision + 1)
        state.seen = max(state.seen, revision)
        return None
    if watch is None:
        raise StoreError(f"etcd at {endpoint}: events for unknown watch {watch_id} (etcd 3.4 or newer needed)")
    batch = [_event(item) for item in events]
    watch.next_revision = max(watch.next_revision, batch[-1].revision + 1)
    state.seen = max(state.seen, batch[-1].revision)
    return batch


def _event(item: dict[str, Any]) -> KeyEvent:
    kv = item.get("kv") or {}
    key = keys.from_bytes(unb64(kv.get("key")))
    revision = int(kv.get("mod_revision") or 0)
    if item.get("type") == "DELETE":
        return KeyEvent("delete", key, b"", revision)
    return KeyEvent("put", key, unb64(kv.get("value")), revision)
