"""confd's template functions over a small KV snapshot (peers.md §1.3)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions import confd
from pygen.functions.confd import KVPair, KVStoreFunctions, path_match
from pygen.functions.gojson import NilList

KV = {
    "/app/services/web/1": "10.0.0.2:80",
    "/app/services/web/2": "10.0.0.1:80",
    "/app/services/db/1": "10.0.1.1:5432",
    "/app/services/db/port": "5432",
    "/app/name": "demo",
    "/app/empty": "",
    "/app/servicesX": "tricky",
}


@pytest.fixture
def store() -> KVStoreFunctions:
    return KVStoreFunctions(KV)


def test_get(store: KVStoreFunctions) -> None:
    pair = store.get("/app/name")
    assert pair == KVPair("/app/name", "demo")
    assert (pair.Key, pair.Value) == ("/app/name", "demo")
    with pytest.raises(TemplateFunctionError, match=r"^key does not exist: /nope$"):
        store.get("/nope")


def test_gets_glob_does_not_cross_slashes_and_is_sorted_by_key(store: KVStoreFunctions) -> None:
    assert store.gets("/app/services/web/*") == [
        KVPair("/app/services/web/1", "10.0.0.2:80"),
        KVPair("/app/services/web/2", "10.0.0.1:80"),
    ]
    assert [p.Key for p in store.gets("/app/services/*/1")] == ["/app/services/db/1", "/app/services/web/1"]
    assert store.gets("/app/*") != store.gets("/app/services/*/*")
    assert [p.Key for p in store.gets("/app/*")] == ["/app/empty", "/app/name", "/app/servicesX"]


def test_gets_without_match_is_empty(store: KVStoreFunctions) -> None:
    assert store.gets("/nothing/*") == []


def test_getv(store: KVStoreFunctions) -> None:
    assert store.getv("/app/name") == "demo"
    assert store.getv("/app/empty") == ""
    assert store.getv("/nope", "fallback") == "fallback"
    assert store.getv("/nope", "") == ""  # an empty default is a default (confd bug #466 fixed)
    with pytest.raises(TemplateFunctionError, match="key does not exist: /nope"):
        store.getv("/nope")


def test_getvs_sorts_by_value_not_key(store: KVStoreFunctions) -> None:
    assert store.getvs("/app/services/web/*") == ["10.0.0.1:80", "10.0.0.2:80"]
    assert store.getvs("/none/*") == []


def test_exists(store: KVStoreFunctions) -> None:
    assert store.exists("/app/name") is True
    assert store.exists("/app/empty") is True
    assert store.exists("/app") is False


@pytest.mark.parametrize(
    ("path", "ls", "lsdir"),
    [
        ("/app/services", ["db", "web"], ["db", "web"]),
        ("/app/services/", ["db", "web"], ["db", "web"]),
        ("/app/services/db", ["1", "port"], []),
        ("/app", ["empty", "name", "services", "servicesX"], ["services"]),
        ("/", ["app"], ["app"]),
        ("/app/serv", [], []),  # path components, not string prefixes
        ("/missing", [], []),
        ("/app/name", ["name"], []),  # a leaf lists itself, as in memkv
    ],
)
def test_ls_and_lsdir(store: KVStoreFunctions, path: str, ls: list[str], lsdir: list[str]) -> None:
    assert store.ls(path) == ls
    assert store.lsdir(path) == lsdir


def test_snapshot_is_independent_of_later_changes() -> None:
    kv = {"/a": "1"}
    store = KVStoreFunctions(kv)
    kv["/b"] = "2"
    assert store.exists("/b") is False


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("/a/*", "/a/b", True),
        ("/a/*", "/a/b/c", False),
        ("/a/*/c", "/a/b/c", True),
        ("/a/?", "/a/b", True),
        ("/a?b", "/a/b", False),
        ("/a/[bc]", "/a/c", True),
        ("/a/[^bc]", "/a/d", True),
        ("/a/[^bc]", "/a/b", False),
        ("/a/[a-c]", "/a/b", True),
        ("/a/\\*", "/a/*", True),
        ("/a/\\*", "/a/b", False),
        ("*", "", True),
        ("/a/b", "/a/b", True),
        ("/a/b", "/a/bc", False),
    ],
)
def test_path_match(pattern: str, name: str, matches: bool) -> None:
    assert path_match(pattern, name) is matches


@pytest.mark.parametrize("pattern", ["[", "[a", "a\\", "[-a]", "[]"])
def test_path_match_bad_patterns(pattern: str) -> None:
    with pytest.raises(TemplateFunctionError, match="syntax error in pattern"):
        path_match(pattern, "a")


# ---------------------------------------------------------------------------- stateless helpers


@pytest.mark.parametrize(
    ("path", "base", "directory"),
    [("/a/b/c", "c", "/a/b"), ("/a/b/", "b", "/a/b"), ("c", "c", "."), ("/", "/", "/"), ("", ".", ".")],
)
def test_base_and_dir(path: str, base: str, directory: str) -> None:
    assert confd.base(path) == base
    assert confd.path_dir(path) == directory


def test_string_helpers_use_confd_order() -> None:
    assert confd.join(["a", "b"], ",") == "a,b"
    assert confd.contains("hello", "ell") is True
    assert confd.trim_suffix("a.conf", ".conf") == "a"


def test_getenv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYGEN_T_SET", "v")
    monkeypatch.setenv("PYGEN_T_EMPTY", "")
    monkeypatch.delenv("PYGEN_T_UNSET", raising=False)
    assert confd.getenv("PYGEN_T_SET", "d") == "v"
    assert confd.getenv("PYGEN_T_EMPTY", "d") == "d"
    assert confd.getenv("PYGEN_T_UNSET", "d") == "d"
    assert confd.getenv("PYGEN_T_UNSET") == ""


def test_atoi_and_seq() -> None:
    assert confd.atoi("42") == 42
    with pytest.raises(TemplateFunctionError, match="invalid syntax"):
        confd.atoi("4x")
    assert confd.seq(1, 3) == [1, 2, 3]
    assert confd.seq(2, 2) == [2]
    assert isinstance(confd.seq(3, 1), NilList)


def test_int_arithmetic() -> None:
    assert (confd.add(2, 3), confd.sub(2, 3), confd.mul(2, 3)) == (5, -1, 6)
    assert (confd.div(7, 2), confd.div(-7, 2), confd.mod(-7, 2)) == (3, -3, -1)
    with pytest.raises(TemplateFunctionError):
        confd.div(1, 0)
    with pytest.raises(TemplateFunctionError):
        confd.add("1", 2)


def test_json_and_json_array() -> None:
    assert confd.json_object('{"a": 1}') == {"a": 1.0}
    assert confd.json_array('[1, "x"]') == [1.0, "x"]
    with pytest.raises(TemplateFunctionError, match="cannot unmarshal array"):
        confd.json_object("[1]")
    with pytest.raises(TemplateFunctionError, match="cannot unmarshal object"):
        confd.json_array("{}")
    with pytest.raises(TemplateFunctionError):
        confd.json_object("{bad")


def test_base64() -> None:
    assert confd.base64_encode("héllo") == "aMOpbGxv"
    assert confd.base64_decode("aMOpbGxv") == "héllo"
    with pytest.raises(TemplateFunctionError, match="illegal base64 data at input byte 2"):
        confd.base64_decode("aG!s")
    with pytest.raises(TemplateFunctionError, match="illegal base64 data"):
        confd.base64_decode("aGk")  # missing padding


def test_reverse_in_place_and_sort_by_length() -> None:
    values = ["a", "b", "c"]
    assert confd.reverse(values) is values and values == ["c", "b", "a"]
    pairs = [KVPair("/x", "1"), KVPair("/y", "2")]
    assert confd.reverse(pairs) == [KVPair("/y", "2"), KVPair("/x", "1")]
    assert confd.reverse("abc") == "abc"
    assert confd.sort_by_length(["ccc", "a", "bb", "d"]) == ["a", "d", "bb", "ccc"]
    kvs = [KVPair("/long/key", ""), KVPair("/k", ""), KVPair("/mid", "")]
    assert [p.Key for p in confd.sort_kv_by_length(kvs)] == ["/k", "/mid", "/long/key"]


def test_map() -> None:
    assert confd.make_map("a", 1, "b", "x") == {"a": 1, "b": "x"}
    with pytest.raises(TemplateFunctionError, match="invalid map call"):
        confd.make_map("a")
    with pytest.raises(TemplateFunctionError, match="map keys must be strings"):
        confd.make_map(1, "a")


def test_file_exists(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert confd.file_exists(str(tmp_path / "f")) is True
    assert confd.file_exists(str(tmp_path / "missing")) is False


def test_lookup_ip_is_sorted_and_deduplicated(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.9", 0)),
        (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("10.0.0.9", 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.10", 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fd00::1", 0, 0, 0)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda name, port: answers)
    assert confd.lookup_ip("svc") == ["10.0.0.10", "10.0.0.9", "fd00::1"]
    assert confd.lookup_ipv4("svc") == ["10.0.0.10", "10.0.0.9"]
    assert confd.lookup_ipv6("svc") == ["fd00::1"]


def test_lookup_ip_error_is_nil(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(name: str, port: Any) -> Any:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    result = confd.lookup_ip("nope.invalid")
    assert isinstance(result, NilList) and result == []


def test_lookup_ip_localhost() -> None:
    assert "127.0.0.1" in confd.lookup_ip("localhost")


def test_lookup_srv_sorted_and_empty_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def resolve(qname: str) -> list[confd.SRV]:
        asked.append(qname)
        return [
            confd.SRV("b.example.", 80, 1, 1), confd.SRV("a.example.", 8080, 1, 1), confd.SRV("a.example.", 443, 1, 1)
        ]

    monkeypatch.setattr(confd, "_resolve_srv", resolve)
    records = confd.lookup_srv("http", "tcp", "example.com")
    assert asked == ["_http._tcp.example.com"]
    assert [(r.Target, r.Port) for r in records] == [("a.example.", 443), ("a.example.", 8080), ("b.example.", 80)]
    confd.lookup_srv("", "", "direct.example.com")
    assert asked[-1] == "direct.example.com"

    def fail(qname: str) -> list[confd.SRV]:
        raise LookupError("no DNS")

    monkeypatch.setattr(confd, "_resolve_srv", fail)
    assert confd.lookup_srv("http", "tcp", "example.com") == []


def test_datetime_is_aware() -> None:
    assert confd.datetime().tzinfo is not None


def test_datetime_formats_with_go_layouts_in_the_local_zone():
    """confd's `datetime` is time.Now(): templates `.Format` it with Go layouts, in local time."""
    from pygen.docker.gotime import GoTime, format_layout
    from pygen.functions.confd import GoNow, datetime

    instant = GoTime.parse("2026-11-26T02:03:04.5Z")
    layout = "2006-01-02 15:04:05.000 MST -07:00 Z0700 Mon Jan _2 3PM"
    assert format_layout(instant, layout, -5 * 3600, "EST") == (
        "2026-11-25 21:03:04.500 EST -05:00 -0500 Wed Nov 25 9PM")
    assert format_layout(instant, layout) == "2026-11-26 02:03:04.500 UTC +00:00 Z Thu Nov 26 2AM"
    assert format_layout(instant, "Z07:00:00", 5 * 3600 + 30 * 60 + 15, "X") == "+05:30:15"
    now = datetime()
    assert isinstance(now, GoNow) and now.tzinfo is not None
    assert now.Format("2006") == str(now.year)
