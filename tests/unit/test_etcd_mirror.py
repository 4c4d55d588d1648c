"""The in-memory mirror (pygen.etcd.mirror) and the small pure parts of the clients."""

from __future__ import annotations

import pytest

from pygen.etcd.connect import default_endpoints, make_store_client
from pygen.etcd.endpoints import EndpointRing, parse_endpoint
from pygen.etcd.mirror import Mirror
from pygen.etcd.store import Compacted, KeyEvent, Snapshot, StoreError, StoreUnavailable, short_reason
from pygen.etcd.v2 import EtcdV2Client, v2_directory
from pygen.etcd.v3 import EtcdV3Client, grpc_error


def put(key: str, value: bytes, revision: int) -> KeyEvent:
    return KeyEvent("put", key, value, revision)


def delete(key: str, revision: int, recursive: bool = False) -> KeyEvent:
    return KeyEvent("delete", key, b"", revision, recursive)


def test_replace_keeps_only_selected_keys():
    mirror = Mirror(["/services/web"])
    mirror.replace(Snapshot(7, {"/services/web/1": b"a", "/services/webapp/1": b"x", "/other": b"y"}))
    assert mirror.select(["/"]) == {"/services/web/1": b"a"}
    assert mirror.revision == 7 == mirror.base_revision


def test_replace_filters_whenever_one_prefix_is_not_a_directory():
    mirror = Mirror(["/a/", "/b"])  # etcd's range for "/b" also holds "/bc/1"
    mirror.replace(Snapshot(3, {"/a/1": b"1", "/b": b"2", "/b/1": b"3", "/bc/1": b"x"}))
    assert sorted(mirror.select(["/"])) == ["/a/1", "/b", "/b/1"]
    directories = Mirror(["/a/", "/b/"])  # ranges of directory prefixes hold only what they select
    directories.replace(Snapshot(3, {"/a/1": b"1", "/b/1": b"3"}))
    assert sorted(directories.select(["/"])) == ["/a/1", "/b/1"]


def test_apply_reports_only_real_changes():
    mirror = Mirror(["/a"])
    mirror.replace(Snapshot(10, {"/a/x": b"1"}))
    assert not mirror.apply([put("/a/x", b"1", 11)])  # same value
    assert not mirror.apply([put("/b/x", b"1", 12)])  # outside the prefixes
    assert not mirror.apply([delete("/a/missing", 13)])
    assert mirror.apply([put("/a/x", b"2", 14)])
    assert mirror.apply([delete("/a/x", 15)])
    assert mirror.select(["/a"]) == {}
    assert mirror.revision == 15


def test_events_already_in_the_snapshot_are_ignored():
    mirror = Mirror(["/"])
    mirror.replace(Snapshot(20, {"/k": b"new"}))
    assert not mirror.apply([put("/k", b"old", 19), delete("/k", 20)])
    assert mirror.select(["/"]) == {"/k": b"new"}
    assert mirror.apply([put("/k", b"newer", 21)])


def test_recursive_delete_removes_a_v2_directory():
    mirror = Mirror(["/"])
    mirror.replace(Snapshot(1, {"/d/a": b"1", "/d/sub/b": b"2", "/dx": b"3", "/d": b"own"}))
    assert mirror.apply([delete("/d", 2, recursive=True)])
    assert mirror.select(["/"]) == {"/dx": b"3"}


def test_select_filters_by_path():
    mirror = Mirror(["/"])
    mirror.replace(Snapshot(1, {"/a/1": b"", "/ab/1": b"", "/a": b""}))
    assert sorted(mirror.select(["/a"])) == ["/a", "/a/1"]
    assert sorted(mirror.select(["/a/"])) == ["/a/1"]
    assert len(mirror) == 3


@pytest.mark.parametrize(
    ("prefixes", "directory"),
    [
        ([], "/"),
        (["/"], "/"),
        ([""], "/"),
        (["/services/web"], "/services/web"),
        (["/services/web/"], "/services/web"),
        (["/services/web", "/services/api/"], "/services"),
        (["/a/b", "/c"], "/"),
        (["services/web"], "/services/web"),
        (["/a/b/c", "/a/b"], "/a/b"),
    ],
)
def test_v2_reads_the_common_directory(prefixes, directory):
    assert v2_directory(prefixes) == directory


def test_default_endpoints_order():
    assert default_endpoints({"ETCD_ENDPOINTS": "http://a:1, http://b:2,", "ETCD_HOST": "c:3"}) == [
        "http://a:1", "http://b:2"]
    assert default_endpoints({"ETCD_HOST": "10.0.0.5:4001"}) == ["http://10.0.0.5:4001"]
    assert default_endpoints({"ETCD_HOST": "https://h:1"}) == ["https://h:1"]
    assert default_endpoints({}) == ["http://127.0.0.1:2379"]
    assert default_endpoints({"ETCD_ENDPOINTS": " , "}) == ["http://127.0.0.1:2379"]


def test_parse_endpoint():
    assert parse_endpoint("http://127.0.0.1:2379").url == "http://127.0.0.1:2379"
    assert parse_endpoint("h:1").url == "http://h:1"
    assert parse_endpoint("h").url == "http://h:2379"
    assert parse_endpoint("h:1", "https").url == "https://h:1"
    assert parse_endpoint("http://[::1]:2379").url == "http://[::1]:2379"
    for bad in ("", "ftp://h:1", "http://h:port", "http://h:1/v3", "http://"):
        with pytest.raises(ValueError):
            parse_endpoint(bad)


def test_ring_advances_once_per_failure():
    ring = EndpointRing([parse_endpoint("a:1"), parse_endpoint("b:1")])
    first = ring.current
    assert ring.advance(first).host == "b"
    assert ring.advance(first).host == "b"  # another thread already moved on
    assert ring.advance(ring.current).host == "a"


def test_factory_and_option_checks():
    assert isinstance(make_store_client("v3", ["h:1"]), EtcdV3Client)
    assert isinstance(make_store_client("v2", ["h:1"]), EtcdV2Client)
    assert make_store_client("v3", ["h:1"], cacert="/ca.pem").ring.current.scheme == "https"
    assert make_store_client("v3", ["h:1"]).describe() == "etcd v3 at http://h:1"
    with pytest.raises(ValueError, match="unknown etcd API"):
        make_store_client("v4", ["h:1"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="certificate and its key"):
        make_store_client("v3", ["h:1"], cert="/c.pem")
    with pytest.raises(ValueError, match="user and a password"):
        make_store_client("v3", ["h:1"], user="u")
    with pytest.raises(ValueError, match="same scheme"):
        make_store_client("v2", ["http://a:1", "https://b:1"])


def test_tls_comes_from_the_given_files_and_a_bad_one_is_named(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/env-ca.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = EtcdV3Client(["https://h:1"], cacert="/nonexistent/ca.pem", cert="/c.pem", key="/k.pem")
    with pytest.raises(StoreError, match=r"etcd TLS files \(/nonexistent/ca.pem, /c.pem, /k.pem\)") as raised:
        client.read(["/app"])  # a setup error: raised at once, not retried as "unavailable"
    assert not isinstance(raised.value, StoreUnavailable)
    assert "env-ca" not in str(raised.value)


def test_error_texts_are_one_line_and_name_endpoints():
    error = StoreUnavailable(["http://a:1", "http://b:2"], "connection refused")
    assert str(error) == "etcd unavailable at http://a:1, http://b:2: connection refused"
    assert "revision 5" in str(Compacted(5))
    long = ("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /v3/kv/txn "
            "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: "
            "Failed to establish a new connection: [Errno 111] Connection refused'))")
    assert short_reason(Exception(long)) == "connection refused"
    assert short_reason(Exception("HTTPConnectionPool(host='x', port=1): Read timed out.")) == "timed out"
    reset = "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"
    assert short_reason(Exception(reset)) == "connection reset by peer"


def test_grpc_error_shapes():
    assert grpc_error({"error": "etcdserver: x", "message": "etcdserver: x", "code": 11}) == (11, "etcdserver: x")
    assert grpc_error({"error": {"grpc_code": 14, "message": "no leader"}}) == (14, "no leader")
    assert grpc_error("nonsense") == (0, "")
