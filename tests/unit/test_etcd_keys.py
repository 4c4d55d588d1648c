"""Path rules of etcd-gen's prefixes, etcd ranges, and the template tree (pygen.etcd.keys)."""

from __future__ import annotations

import pytest

from pygen.etcd import keys
from pygen.etcd.keys import build_tree, covers, normalize_prefixes, range_end, selects, store_prefixes


@pytest.mark.parametrize(
    ("prefix", "key", "expected"),
    [
        ("", "anything", True),
        ("", "/a", True),
        ("/", "/a/b", True),
        ("/", "/", True),
        ("/", "a/b", False),  # keys without a leading slash are not under "/"
        ("/services/web", "/services/web", True),
        ("/services/web", "/services/web/1", True),
        ("/services/web", "/services/webapp", False),
        ("/services/web", "/services/webapp/1", False),
        ("/services/web", "/services/we", False),
        ("/services/web/", "/services/web/1", True),
        ("/services/web/", "/services/web", False),  # a trailing slash: below only
        ("/services/web/", "/services/web/", True),
        ("services", "services/a", True),
        ("services", "/services/a", False),
        ("/a", "/a//b", True),
    ],
)
def test_selects_is_a_path_match(prefix, key, expected):
    assert selects(prefix, key) is expected


def test_normalize_prefixes_defaults_to_root_and_dedupes():
    assert normalize_prefixes([]) == ["/"]
    assert normalize_prefixes(None) == ["/"]
    assert normalize_prefixes(["/b", "/a", "/b"]) == ["/a", "/b"]
    assert normalize_prefixes([""]) == [""]
    assert normalize_prefixes(["services", "/a"], absolute=True) == ["/a", "/services"]
    assert normalize_prefixes(["services"]) == ["services"]


def test_store_prefixes_keeps_the_outermost_ranges():
    assert store_prefixes(["/a/b", "/a", "/c/"]) == ["/a", "/c/"]
    assert store_prefixes(["/ab", "/a"]) == ["/a"]  # raw range "/a" holds "/ab" too
    assert store_prefixes(["/x", ""]) == [""]
    assert store_prefixes(["/", "/services"]) == ["/"]
    assert store_prefixes([]) == []


def test_covers_uses_the_same_path_rule():
    assert covers("/", "/a")
    assert covers("", "a")
    assert covers("/a", "/a/b")
    assert covers("/a", "/a")
    assert not covers("/a", "/ab")
    assert not covers("/a/", "/a")
    assert not covers("/a/b", "/a")


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        (b"/a/", b"/a0"),
        (b"/", b"0"),
        (b"a\xff", b"b"),
        (b"\xff\xff", b"\0"),
        (b"", b"\0"),
    ],
)
def test_range_end_is_etcds_prefix_end(prefix, end):
    assert range_end(prefix) == end


def test_empty_prefix_ranges_over_everything():
    assert keys.range_key(b"") == b"\0"
    assert keys.range_key(b"/x") == b"/x"


def test_invalid_utf8_keys_round_trip_and_print_safely():
    raw = b"/bad/\xc3("
    key = keys.from_bytes(raw)
    assert keys.to_bytes(key) == raw
    shown = keys.template_text(key)
    shown.encode("utf-8")  # printable in a template
    assert shown == "/bad/\\xc3("
    assert keys.template_text("/ok/é") == "/ok/é"


def test_keys_that_differ_only_in_odd_bytes_stay_apart_in_templates():
    first, second = keys.from_bytes(b"/k\xfe"), keys.from_bytes(b"/k\xff")
    assert (keys.template_text(first), keys.template_text(second)) == ("/k\\xfe", "/k\\xff")


def test_values_decode_with_replacement():
    assert keys.decode_value(b"10.0.0.1:80") == "10.0.0.1:80"
    assert keys.decode_value(b"\xff\xfeok") == "\ufffd\ufffdok"
    assert keys.decode_value(b"") == ""


@pytest.mark.parametrize(
    ("key", "segments"),
    [
        ("/a/b", ["a", "b"]),
        ("a/b", ["a", "b"]),
        ("/a/", ["a", ""]),
        ("/", [""]),
        ("//a", ["", "a"]),
        ("a", ["a"]),
    ],
)
def test_path_segments(key, segments):
    assert keys.path_segments(key) == segments


def test_tree_nests_by_segment_and_sorts_children():
    tree = build_tree({"/services/web/2": "b", "/services/web/1": "a", "/services/api/1": "c", "/top": "t"})
    assert tree == {"services": {"api": {"1": "c"}, "web": {"1": "a", "2": "b"}}, "top": "t"}
    assert list(tree["services"]) == ["api", "web"]
    assert list(tree["services"]["web"]) == ["1", "2"]


def test_tree_child_order_is_by_segment_not_by_full_key():
    # "/a-b/x" sorts before "/a/x" as a key ('-' < '/'), but segment "a" sorts before "a-b"
    assert list(build_tree({"/a-b/x": "1", "/a/x": "2"})) == ["a", "a-b"]


def test_tree_key_that_is_also_a_directory_keeps_its_value_under_empty_name():
    for kv in ({"/a": "own", "/a/b": "child"}, {"/a/b": "child", "/a": "own"}):
        assert build_tree(kv) == {"a": {"": "own", "b": "child"}}


def test_tree_value_below_a_leaf_turns_the_leaf_into_a_directory():
    assert build_tree({"/a": "1", "/a/b/c": "2"}) == {"a": {"": "1", "b": {"c": "2"}}}


def test_tree_edge_keys():
    assert build_tree({"/": "root"}) == {"": "root"}
    assert build_tree({"/a/": "slash"}) == {"a": {"": "slash"}}
    assert build_tree({"noslash/x": "1"}) == {"noslash": {"x": "1"}}
    assert build_tree({"/a//b": "1"}) == {"a": {"": {"b": "1"}}}
    assert build_tree({}) == {}


def test_tree_same_path_last_key_wins_kv_stays_exact():
    kv = {"/a/b": "slash", "a/b": "plain"}
    assert build_tree(kv) == {"a": {"b": "plain"}}  # "a/b" sorts after "/a/b"
