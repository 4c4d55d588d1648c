"""EtcdSource and the etcd clients against real etcd 3.4 (single node, 3-node cluster, auth, TLS).

No mocks: every test talks to a real etcd. ``Cutter`` is a small TCP forwarder in front of
etcd, so a test can drop the client's connections (RST) or silently stop forwarding (a member
that died without closing its sockets) while etcd itself keeps running and accepts writes.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import etcd as etcd2
import pytest
import requests

from pygen.config import TemplateConfig
from pygen.errors import SourceError, TemplateError
from pygen.source import Change
from pygen.etcd.source import EtcdSource
from pygen.etcd.store import Compacted, StoreError, StoreUnavailable
from pygen.etcd.v2 import EtcdV2Client
from pygen.etcd.v3 import EtcdV3Client
from tests.helpers import EtcdNode, EtcdSingle, etcdctl, free_ports, wait_until

pytestmark = pytest.mark.etcd


# ----------------------------------------------------------------------------- helpers


def config(*prefixes: str, min_keys: int = 0, dest: str = "out.conf", templates: list[str] | None = None) -> TemplateConfig:
    return TemplateConfig(templates=templates or [], dest=dest, prefixes=list(prefixes), min_keys=min_keys)


class Recorder:
    """``on_change`` for a source: remembers every Change."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.lock = threading.Lock()

    def __call__(self, change: Change) -> None:
        with self.lock:
            self.changes.append(change)

    def full(self) -> list[Change]:
        with self.lock:
            return [c for c in self.changes if c.full]

    def reasons(self) -> list[str]:
        with self.lock:
            return [c.reason for c in self.changes]


def keys_of(source: EtcdSource, *prefixes: str) -> dict[str, str]:
    return dict(source.render_input(config(*prefixes)).context["kv"])


def wait_keys(source: EtcdSource, expected: dict[str, str], *prefixes: str, timeout: float = 5.0) -> None:
    wait_until(lambda: keys_of(source, *(prefixes or ("/",))) == expected, timeout,
               message=f"mirror == {expected}")


def started(source: EtcdSource, timeout: float = 5.0) -> Recorder:
    recorder = Recorder()
    source.start(recorder)
    wait_until(lambda: recorder.full(), timeout, message="first full read")
    return recorder


def v3_txn_put(client: EtcdV3Client, pairs: dict[str, str]) -> None:
    client.post("/kv/txn", {"success": [
        {"request_put": {"key": base64.b64encode(k.encode()).decode(), "value": base64.b64encode(v.encode()).decode()}}
        for k, v in pairs.items()]})


class Cutter:
    """A TCP forwarder to etcd that can ``cut()`` (reset every connection, refuse new ones),
    ``blackhole()`` (keep connections open but forward nothing) and ``restore()``."""

    def __init__(self, target_port: int, *, http1_only: bool = False) -> None:
        self.target_port = target_port
        self.mode = "forward"
        self.http1_only = http1_only  # answer HTTP/2 as a proxy that only speaks HTTP/1.1 does
        self.http2_refused = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "cut":
                self._reset(conn)
                continue
            if self.http1_only and self._refused_http2(conn):
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                self._reset(conn)
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [conn, upstream]
            threading.Thread(target=self._pump, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, conn), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.mode == "forward":
                    target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _refused_http2(self, conn: socket.socket) -> bool:
        conn.settimeout(2)
        try:
            first = conn.recv(3, socket.MSG_PEEK)
        except OSError:
            first = b""
        conn.settimeout(None)
        if first != b"PRI":  # the HTTP/2 preface: "PRI * HTTP/2.0"
            return False
        self.http2_refused += 1
        conn.sendall(b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        conn.close()
        return True

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        """RST: linger 0, then wake a thread blocked in recv (close alone would not), close."""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        self.mode = "cut"
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            try:
                self._reset(sock)
            except OSError:
                pass

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def restore(self) -> None:
        self.mode = "forward"

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()


@pytest.fixture
def cutter(etcd_clean):
    proxy = Cutter(etcd_clean.client_port)
    yield proxy
    proxy.close()


@pytest.fixture
def v3(etcd_clean):
    client = EtcdV3Client([etcd_clean.endpoint])
    yield client
    client.close()


@pytest.fixture
def sources():
    """Factory that stops every source it made."""
    made: list[EtcdSource] = []

    def make(client, configs, **kwargs) -> EtcdSource:
        source = EtcdSource(client, configs, functions=kwargs.pop("functions", None), **kwargs)
        made.append(source)
        return source

    yield make
    for source in made:
        source.stop()
        source.client.close()


# ----------------------------------------------------------------------------- reads


@pytest.mark.parametrize("txn_ops", [128, 1], ids=["one-txn", "chunked"])
def test_v3_read_is_one_revision_across_prefixes(v3, etcd_clean, txn_ops):
    """A writer updates /a/x and /b/x together; every read must see them equal."""
    reader = EtcdV3Client([etcd_clean.endpoint], max_txn_ops=txn_ops)
    v3.put("/c/other", "c")
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            v3_txn_put(v3, {"/a/x": str(n), "/b/x": str(n)})

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.05)
        for _ in range(40):
            snapshot = reader.read(["/a/", "/b/"])
            assert snapshot.kv["/a/x"] == snapshot.kv["/b/x"], snapshot
            assert "/c/other" not in snapshot.kv
    finally:
        stop.set()
        thread.join()
    final = reader.read(["/a/", "/b/", "/c"])
    assert final.revision == int(v3.post("/kv/range", {"key": base64.b64encode(b"/").decode()})["header"]["revision"])
    assert set(final.kv) == {"/a/x", "/b/x", "/c/other"}


def gateway_messages(caplog) -> list[str]:
    """What the v3 client logged about not reading over gRPC."""
    return [r.getMessage() for r in caplog.records if "gateway" in r.getMessage()]


@pytest.mark.parametrize("txn_ops", [128, 1], ids=["one-txn", "chunked"])
def test_v3_read_over_grpc_returns_every_byte(v3, etcd_clean, txn_ops, caplog):
    """Reads go over gRPC, not the JSON gateway: keys that are not UTF-8, values with newlines
    and NULs, empty values, a value of 300 KB (an answer over many HTTP/2 frames), hundreds of
    keys, and several prefixes read as one revision (chunks pinned to it)."""
    caplog.set_level(logging.DEBUG, logger="pygen")
    expected = {f"/many/{n:04d}": f"10.0.{n // 250}.{n % 250}:80".encode() for n in range(600)}
    expected |= {"/odd/bad-utf8-\udcff\udcfe": b"\xff\x00\n;inject", "/odd/empty": b"",
                 "/odd/été \n key": "café".encode(), "/big/value": bytes(range(256)) * 1200}
    for start in range(0, len(expected), 100):
        v3.post("/kv/txn", {"success": [
            {"request_put": {"key": base64.b64encode(keys_bytes(k)).decode(), "value": base64.b64encode(v).decode()}}
            for k, v in list(expected.items())[start:start + 100]]})
    v3.put("/other", "not read")
    reader = EtcdV3Client([etcd_clean.endpoint], max_txn_ops=txn_ops)
    try:
        snapshot = reader.read(["/many/", "/odd/", "/big/"])
    finally:
        reader.close()
    assert snapshot.kv == expected
    assert snapshot.revision == int(v3.post("/kv/range", {"key": base64.b64encode(b"/").decode()})["header"]["revision"])
    assert gateway_messages(caplog) == []


def keys_bytes(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


def test_v3_member_without_http2_is_read_through_the_gateway(v3, etcd_clean, caplog):
    """Behind a proxy that speaks HTTP/1.1 only, the read falls back to the gateway, and the
    client remembers it: the next read does not knock again."""
    caplog.set_level(logging.DEBUG, logger="pygen")
    v3.put("/app/a", "1")
    front = Cutter(etcd_clean.client_port, http1_only=True)
    client = EtcdV3Client([front.endpoint])
    try:
        assert client.read(["/app/"]).kv == {"/app/a": b"1"}
        v3.put("/app/b", "2")
        assert client.read(["/app/"]).kv == {"/app/a": b"1", "/app/b": b"2"}
    finally:
        client.close()
        front.close()
    assert front.http2_refused == 1
    assert [m for m in gateway_messages(caplog) if "reading through the JSON gateway" in m] == [
        f"etcd {front.endpoint}: reading through the JSON gateway: {front.endpoint} did not answer with HTTP/2"]


def test_v2_read_is_one_index_and_leaves_only(etcd_clean):
    raw = etcd2.Client(host="127.0.0.1", port=etcd_clean.client_port)
    raw.write("/svc/web/1", "a")
    raw.write("/svc/api/1", "b")
    raw.write("/svc/emptydir", None, dir=True)
    raw.write("/other/x", "c")
    client = EtcdV2Client([etcd_clean.endpoint])
    snapshot = client.read(["/svc/web", "/svc/api/"])
    assert snapshot.kv == {"/svc/web/1": b"a", "/svc/api/1": b"b"}  # directories are not keys
    assert snapshot.revision == raw.read("/svc").etcd_index
    assert client.read(["/missing"]).kv == {}

    # writes go to /svc/a then /svc/b: a consistent read never shows b ahead of a
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            raw.write("/svc/a", str(n))
            raw.write("/svc/b", str(n))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.05)
        for _ in range(30):
            kv = client.read(["/svc/a", "/svc/b"]).kv
            a, b = int(kv["/svc/a"]), int(kv.get("/svc/b", b"0"))
            assert a in (b, b + 1), kv
    finally:
        stop.set()
        thread.join()


def test_failed_initial_read_raises(sources):
    port = free_ports(1)[0]  # nothing listens there
    source = sources(EtcdV3Client([f"http://127.0.0.1:{port}"]), [config("/app")])
    with pytest.raises(SourceError, match=f"127.0.0.1:{port}"):
        source.refresh()
    with pytest.raises(SourceError, match="keeping out.conf"):
        source.render_input(config("/app"))
    recorder = Recorder()
    source.start(recorder)
    time.sleep(0.3)
    with pytest.raises(SourceError, match="no data .*last read failed: etcd unavailable"):
        source.render_input(config("/app"))
    assert recorder.changes == [] and not source.connected


# ----------------------------------------------------------------------------- watching


def test_v3_watch_follows_puts_and_deletes(v3, sources):
    v3.put("/app/a", "1")
    v3.put("/elsewhere", "x")
    source = sources(v3, [config("/app"), config("/other/")])
    recorder = started(source)
    assert keys_of(source, "/app") == {"/app/a": "1"}
    # each write waits for the last to arrive, so etcd cannot send two in one watch response
    v3.put("/app/b", "2")
    wait_keys(source, {"/app/a": "1", "/app/b": "2"}, "/app")
    v3.put("/app/a", "1b")
    wait_keys(source, {"/app/a": "1b", "/app/b": "2"}, "/app")
    v3.delete("/app/a")
    wait_keys(source, {"/app/b": "2"}, "/app")
    v3_txn_put(v3, {"/app/c": "3", "/other/d": "4"})
    wait_keys(source, {"/app/b": "2", "/app/c": "3", "/other/d": "4"}, "/app", "/other/")
    # full read, put b, put a, delete a, and the txn as one response per watch (/app, /other/)
    wait_until(lambda: len(recorder.changes) >= 6, 2, message="6 changes")
    time.sleep(0.1)  # nothing more may follow
    assert len(recorder.changes) == 6, recorder.reasons()
    n = len(recorder.changes)
    v3.put("/app/b", "2")  # same value: no render needed
    v3.put("/elsewhere", "y")  # not watched
    v3.put("/app/z", "sentinel")
    wait_keys(source, {"/app/b": "2", "/app/c": "3", "/app/z": "sentinel"}, "/app")
    # the mirror changes just before on_change is called; the sentinel's change comes last
    wait_until(lambda: len(recorder.changes) >= n + 1, 2, message="sentinel change")
    assert len(recorder.changes) == n + 1
    assert len(recorder.full()) == 1
    assert source.render_input(config("/app")).noun == "keys"


def test_v3_lease_expiry_removes_the_key(v3, sources):
    lease = int(v3.post("/lease/grant", {"TTL": 1})["ID"])
    v3.put("/reg/web/1", "10.0.0.1:80", lease=lease)
    v3.put("/reg/web/2", "10.0.0.2:80")
    source = sources(v3, [config("/reg")])
    started(source)
    assert len(keys_of(source, "/reg")) == 2
    wait_keys(source, {"/reg/web/2": "10.0.0.2:80"}, "/reg", timeout=6)


def test_v2_watch_ttl_expiry_and_directory_delete(etcd_clean, sources):
    raw = etcd2.Client(host="127.0.0.1", port=etcd_clean.client_port)
    raw.write("/reg/web/1", "a", ttl=1)
    raw.write("/reg/web/2", "b")
    raw.write("/reg/api/1", "c")
    source = sources(EtcdV2Client([etcd_clean.endpoint], watch_timeout=0.5), [config("reg")])
    started(source)
    assert len(keys_of(source, "/reg")) == 3
    assert keys_of(source, "reg") == keys_of(source, "/reg")  # v2 keys all start with "/"
    wait_keys(source, {"/reg/web/2": "b", "/reg/api/1": "c"}, "/reg", timeout=6)  # expire -> delete
    raw.write("/reg/web/3", "d")
    raw.delete("/reg/api/1")
    wait_keys(source, {"/reg/web/2": "b", "/reg/web/3": "d"}, "/reg")
    raw.delete("/reg/web", recursive=True)  # one event for the directory
    wait_keys(source, {}, "/reg")


def test_v2_cleared_index_is_compacted(etcd_clean):
    client = EtcdV2Client([etcd_clean.endpoint])
    start = client.read(["/quiet"]).revision
    sessions = threading.local()

    def write(n: int) -> None:
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
            sessions.session.trust_env = False
        sessions.session.put(f"{etcd_clean.endpoint}/v2/keys/busy/x{n % 8}", data={"value": str(n)})

    with ThreadPoolExecutor(8) as pool:  # v2 keeps the last 1000 events
        list(pool.map(write, range(1010)))
    with pytest.raises(Compacted):
        next(client.watch(["/quiet"], start + 1, threading.Event()))


def test_v3_watch_of_compacted_revision_raises(v3, etcd_clean):
    start = v3.put("/k", "0")
    for n in range(3):
        v3.put("/k", str(n + 1))
    etcdctl(etcd_clean.endpoint, "compact", str(start + 2))
    with pytest.raises(Compacted) as caught:
        next(v3.watch(["/k"], start, threading.Event()))
    assert caught.value.revision == start + 2


def test_put_to_event_latency(v3, sources):
    """Measured put -> on_change latency (a few ms is expected; the bound is loose for CI)."""
    source = sources(v3, [config("/lat")])
    got: list[float] = []
    source.start(lambda change: got.append(time.perf_counter()))
    wait_until(lambda: got, 5, message="connected")
    latencies = []
    for n in range(30):
        before = len(got)
        sent = time.perf_counter()
        v3.put("/lat/k", str(n))
        wait_until(lambda: len(got) > before, 2, interval=0.0005, message="event")
        latencies.append((got[-1] - sent) * 1000)
    median = statistics.median(latencies)
    print(f"\nput->on_change latency: median {median:.1f} ms, max {max(latencies):.1f} ms")
    assert median < 50


def test_stop_is_prompt(v3, sources):
    source = sources(v3, [config("/")])
    started(source)
    thread = source._thread
    began = time.monotonic()
    source.stop()
    assert time.monotonic() - began < 1.0
    assert thread is not None and not thread.is_alive()


def test_update_configs_reads_new_prefixes(v3, sources):
    v3.put("/one/a", "1")
    v3.put("/two/b", "2")
    source = sources(v3, [config("/one")])
    recorder = started(source)
    with pytest.raises(SourceError, match="/two is not read"):
        source.render_input(config("/two"))
    source.configs = [config("/one"), config("/two")]  # what pygen.app does on SIGHUP
    wait_until(lambda: len(recorder.full()) == 2, 5, message="re-read with new prefixes")
    assert keys_of(source, "/two") == {"/two/b": "2"}
    v3.put("/two/c", "3")
    wait_keys(source, {"/two/b": "2", "/two/c": "3"}, "/two")


# ----------------------------------------------------------------------------- outages


def test_outage_keeps_last_data_and_catches_up(etcd_clean, cutter, v3, sources, caplog):
    """Connections cut while etcd keeps taking writes: serve the last state, one log line,
    then a full re-read shows what changed meanwhile."""
    caplog.set_level(logging.DEBUG, logger="pygen")
    v3.put("/app/a", "1")
    v3.put("/app/b", "2")
    client = EtcdV3Client([cutter.endpoint], unavailable_grace=0.5)
    source = sources(client, [config("/app")], backoff_max=0.4)
    recorder = started(source)
    cutter.cut()
    wait_until(lambda: not source.connected, 5, message="disconnected")
    assert keys_of(source, "/app") == {"/app/a": "1", "/app/b": "2"}  # last good state
    v3.put("/app/c", "3")
    v3.delete("/app/a")
    time.sleep(1.0)  # several retries
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert cutter.endpoint in errors[0].getMessage() and "\n" not in errors[0].getMessage()
    cutter.restore()
    wait_keys(source, {"/app/b": "2", "/app/c": "3"}, "/app")
    wait_until(lambda: len(recorder.full()) == 2, 2, message="full change after the re-read")
    assert source.connected
    assert any("available again" in r.getMessage() for r in caplog.records)


def test_etcd_stopped_keeps_serving_then_resyncs(etcd_clean, v3, sources, caplog):
    """The real process stops (SIGTERM): the last good mirror keeps serving, a refresh fails
    without invalidating it, and after the restart a full read brings the new state."""
    v3.put("/app/a", "1")
    source = sources(EtcdV3Client([etcd_clean.endpoint], unavailable_grace=0.3), [config("/app")],
                     backoff_max=0.3)
    recorder = started(source)
    etcd_clean.stop()
    wait_until(lambda: not source.connected, 5, message="outage noticed")
    with pytest.raises(SourceError, match=etcd_clean.endpoint):
        source.refresh()
    assert keys_of(source, "/app") == {"/app/a": "1"}
    etcd_clean.start()
    v3.put("/app/b", "2")
    wait_keys(source, {"/app/a": "1", "/app/b": "2"}, "/app", timeout=10)
    wait_until(lambda: len(recorder.full()) >= 2, 2, message="full change after the restart")


def test_compaction_during_disconnect_rereads(etcd_clean, cutter, v3, sources, caplog):
    v3.put("/app/a", "1")
    v3.put("/app/gone", "x")
    client = EtcdV3Client([cutter.endpoint], unavailable_grace=60)  # keep resuming: meet the compaction
    source = sources(client, [config("/app")])
    recorder = started(source)
    cutter.cut()
    time.sleep(0.2)
    v3.delete("/app/gone")
    revision = v3.put("/app/a", "2")
    v3.put("/app/new", "3")
    etcdctl(etcd_clean.endpoint, "compact", str(revision))
    cutter.restore()
    wait_keys(source, {"/app/a": "2", "/app/new": "3"}, "/app")
    wait_until(lambda: "compacted" in recorder.reasons(), 2, message="full change after compaction")
    assert any("compacted at revision" in r.getMessage() for r in caplog.records)


def test_silent_dead_member_is_noticed_by_the_idle_timeout(etcd_clean, cutter, v3, sources):
    """A member that stops answering without closing the connection (host gone)."""
    v3.put("/app/a", "1")
    client = EtcdV3Client([cutter.endpoint], idle_timeout=0.5, timeout=0.5, connect_timeout=0.5,
                          unavailable_grace=0.5)
    source = sources(client, [config("/app")], backoff_max=0.2)
    started(source)
    cutter.blackhole()
    wait_until(lambda: not source.connected, 5, message="outage noticed")
    v3.put("/app/b", "2")
    cutter.restore()
    wait_keys(source, {"/app/a": "1", "/app/b": "2"}, "/app")


def test_polling_mode_failed_refresh_stops_rendering(etcd_clean, cutter, v3, sources):
    v3.put("/app/a", "1")
    source = sources(EtcdV3Client([cutter.endpoint]), [config("/app")])
    source.refresh()
    assert keys_of(source, "/app") == {"/app/a": "1"}
    cutter.cut()
    with pytest.raises(SourceError, match="Unable to read keys"):
        source.refresh()
    with pytest.raises(SourceError, match="last read failed"):
        source.render_input(config("/app"))
    cutter.restore()
    source.refresh()
    assert keys_of(source, "/app") == {"/app/a": "1"}


def test_cluster_leader_sigkill_watch_carries_on(etcd_cluster, sources):
    leader = etcd_cluster.leader()
    ordered = [leader.endpoint] + [n.endpoint for n in etcd_cluster.nodes if n is not leader]
    client = EtcdV3Client(ordered)
    client.put("/app/before", "1")
    source = sources(client, [config("/app")])
    recorder = started(source)
    assert client.ring.current.url == leader.endpoint
    etcd_cluster.kill(leader)
    survivors = EtcdV3Client(ordered[1:], timeout=3)
    deadline = time.monotonic() + 10
    while True:  # writes fail until a new leader is elected (about 1.7 s)
        try:
            survivors.put("/app/after", "2")
            break
        except StoreUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    wait_keys(source, {"/app/before": "1", "/app/after": "2"}, "/app", timeout=10)
    assert client.ring.current.url != leader.endpoint
    print(f"\nfull re-reads after the leader kill: {len(recorder.full()) - 1}")


def test_cluster_member_down_changes_meanwhile_appear(etcd_cluster, sources):
    """The only member the source knows goes down; the others take writes; it comes back."""
    member = etcd_cluster.nodes[0]
    client = EtcdV3Client([member.endpoint], unavailable_grace=0.3)
    others = EtcdV3Client([n.endpoint for n in etcd_cluster.nodes[1:]])
    others.put("/app/a", "1")
    others.put("/app/b", "2")
    source = sources(client, [config("/app")], backoff_max=0.3)
    started(source)
    etcd_cluster.stop(member)
    wait_until(lambda: not source.connected, 5, message="outage noticed")
    others.put("/app/c", "3")
    others.delete("/app/a")
    assert keys_of(source, "/app") == {"/app/a": "1", "/app/b": "2"}
    etcd_cluster.restart(member)
    wait_keys(source, {"/app/b": "2", "/app/c": "3"}, "/app", timeout=10)


# ----------------------------------------------------------------------------- rendering


def test_min_keys_guard(v3, sources):
    v3.put("/svc/web/1", "a")
    source = sources(v3, [config("/svc/web", min_keys=2)])
    started(source)
    with pytest.raises(SourceError) as caught:
        source.render_input(config("/svc/web", min_keys=2, dest="/etc/haproxy.cfg"))
    assert str(caught.value) == ("1 keys under /svc/web, fewer than min-keys 2; keeping /etc/haproxy.cfg")
    v3.put("/svc/web/2", "b")
    wait_keys(source, {"/svc/web/1": "a", "/svc/web/2": "b"}, "/svc/web")
    assert source.render_input(config("/svc/web", min_keys=2)).count == 2


def test_context_values_and_odd_bytes_render_safely(v3, sources, tmp_path):
    from pygen.functions.registry import confd_functions
    from pygen.job import Job

    v3.put("/svc/web/1", "10.0.0.1:80")
    v3.put("/svc/web/2", b"\xff\xfe10.0.0.2")  # not UTF-8
    v3.put("/svc/web/conf", "not json {")
    v3.put("/svc/bad\udcff".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape"), "x")
    source = sources(v3, [config("/svc")])
    started(source)
    context = source.render_input(config("/svc")).context
    assert context["kv"]["/svc/web/2"] == "\ufffd\ufffd10.0.0.2"
    assert context["tree"].get()["svc"]["web"]["1"] == "10.0.0.1:80"  # built when a template uses it
    assert context["Env"]["PATH"] == os.environ["PATH"]
    assert context["getv"]("/svc/web/1") == "10.0.0.1:80"
    assert list(context["kv"]) == sorted(context["kv"])

    template = tmp_path / "t.tmpl"
    template.write_text(
        "{% for k, v in kv.items() %}{{ k }}={{ v }}\n{% endfor %}"
        "{% for name in ls('/svc/web') %}web:{{ name }}\n{% endfor %}"
        "{{ getv('/svc/web/1') }} {{ tree.svc.web['1'] }}\n"
        "filters: {{ '/svc/web/1'|getv }} {{ '/svc/none'|getv('default') }} {{ '/svc/web'|ls|join(',') }}\n")
    dest = tmp_path / "out.conf"
    cfg = config("/svc", dest=str(dest), templates=[str(template)])
    job = Job(cfg, confd_functions())
    assert job.render(source)
    text = dest.read_text(encoding="utf-8")
    assert "/svc/web/2=\ufffd\ufffd10.0.0.2" in text
    assert "/svc/bad\\xff=x" in text  # a key's odd byte as an escape: keys must stay apart
    assert "web:1\nweb:2\nweb:conf\n" in text and "10.0.0.1:80 10.0.0.1:80\n" in text
    assert text.endswith("filters: 10.0.0.1:80 default 1,2,conf\n")  # the filter forms read the same keys

    bad = tmp_path / "json.tmpl"
    bad.write_text("{{ json(getv('/svc/web/conf')) }}")
    bad_dest = tmp_path / "json.conf"
    bad_job = Job(config("/svc", dest=str(bad_dest), templates=[str(bad)]), confd_functions())
    with pytest.raises(TemplateError):
        bad_job.render(source)
    assert not bad_dest.exists()


# ----------------------------------------------------------------------------- auth and TLS


@pytest.fixture
def etcd_auth():
    """A separate etcd with auth on (tokens expire after 1 idle second): root, and bob who may
    read /app/ only."""
    server = EtcdSingle(extra_args=["--auth-token-ttl=1"])
    try:
        for args in (("user", "add", "root:rootpw"), ("role", "add", "reader"),
                     ("role", "grant-permission", "reader", "--prefix=true", "read", "/app/"),
                     ("user", "add", "bob:bobpw"), ("user", "grant-role", "bob", "reader"),
                     ("auth", "enable")):
            server.etcdctl(*args)
        yield server
    finally:
        server.close()


def test_auth_token_and_refresh(etcd_auth, sources, caplog):
    root = EtcdV3Client([etcd_auth.endpoint], user="root", password="rootpw")
    root.put("/app/a", "1")
    root.put("/secret/x", "s")
    caplog.set_level(logging.DEBUG, logger="pygen")
    reader = EtcdV3Client([etcd_auth.endpoint], user="root", password="rootpw")
    assert reader.read(["/app/", "/secret/"]).kv == {"/app/a": b"1", "/secret/x": b"s"}
    assert gateway_messages(caplog) == []  # the token goes with the gRPC read as its metadata
    bob = EtcdV3Client([etcd_auth.endpoint], user="bob", password="bobpw")
    source = sources(bob, [config("/app/")])
    started(source)
    assert keys_of(source, "/app/") == {"/app/a": "1"}
    time.sleep(2.2)  # bob's token expires
    bob.close()  # drop the watch: it reconnects with an expired token and must log in again
    root.put("/app/b", "2")
    wait_keys(source, {"/app/a": "1", "/app/b": "2"}, "/app/")
    source.refresh()  # unary call with an expired token: 401, new token, retry

    with pytest.raises(StoreError, match="permission denied"):
        bob.read(["/secret/"])
    with pytest.raises(StoreError, match="authentication of user 'bob' failed"):
        EtcdV3Client([etcd_auth.endpoint], user="bob", password="wrong").read(["/app/"])
    with pytest.raises(StoreError, match="authentication required"):
        EtcdV3Client([etcd_auth.endpoint]).read(["/app/"])


class _TLSNode(EtcdNode):
    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.client_port}"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def etcd_tls(tmp_path):
    if subprocess.run(["which", "openssl"], capture_output=True).returncode:
        pytest.skip("openssl not installed")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test-ca",
             cwd=tmp_path)
    # etcd's gateway dials its own gRPC port with the server certificate: it needs clientAuth too
    for name, usage in (("server", "serverAuth,clientAuth"), ("client", "clientAuth")):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=tmp_path)
        (tmp_path / f"{name}.ext").write_text(f"subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext", cwd=tmp_path)
    client_port, peer_port = free_ports(2)
    node = _TLSNode("tls", tmp_path / "data", client_port, peer_port, f"tls=http://127.0.0.1:{peer_port}",
                    f"tls-{client_port}", tmp_path / "etcd.log", enable_v2=False,
                    extra_args=["--cert-file", str(tmp_path / "server.pem"),
                                "--key-file", str(tmp_path / "server.key"),
                                "--trusted-ca-file", str(tmp_path / "ca.pem"), "--client-cert-auth"])
    node.start()
    try:
        yield node, tmp_path
    finally:
        node.kill()


def test_tls_with_client_certificate_ignores_the_environment(etcd_tls, sources, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="pygen")
    node, certs = etcd_tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs / "nonexistent.pem"))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    tls = {"cacert": str(certs / "ca.pem"), "cert": str(certs / "client.pem"), "key": str(certs / "client.key")}
    client = EtcdV3Client([node.endpoint], **tls)
    wait_until(lambda: _reads(client), 10, message="TLS etcd up")
    client.put("/app/a", "1")
    source = sources(client, [config("/app")])
    started(source)
    client.put("/app/b", "2")
    wait_keys(source, {"/app/a": "1", "/app/b": "2"}, "/app")
    caplog.clear()  # the reads that waited for etcd to come up may have fallen back
    fresh = EtcdV3Client([node.endpoint], **tls)
    assert fresh.read(["/app"]).kv == {"/app/a": b"1", "/app/b": b"2"}
    assert gateway_messages(caplog) == []  # read over gRPC with TLS (ALPN h2)
    without_cert = EtcdV3Client([node.endpoint], cacert=str(certs / "ca.pem"))
    with pytest.raises(StoreUnavailable, match=node.endpoint.replace(".", r"\.")):
        without_cert.read(["/app"])


def _reads(client: EtcdV3Client) -> bool:
    try:
        client.read(["/"])
        return True
    except StoreUnavailable:
        return False

