"""docker-gen string functions (spec §6.3) and the Go string/path helpers behind them."""

from __future__ import annotations

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions import gostrings
from pygen.functions.text import (
    comment,
    parse_bool,
    query_escape,
    replace,
    sha1,
    split,
    split_n,
    to_lower,
    to_upper,
)


@pytest.mark.parametrize(
    ("s", "sep", "expected"),
    [
        ("a,b,c", ",", ["a", "b", "c"]),
        ("", ",", [""]),
        ("abc", "", ["a", "b", "c"]),
        ("", "", []),
        ("a,,b,", ",", ["a", "", "b", ""]),
        ("a::b", "::", ["a", "b"]),
        ("日本", "", ["日", "本"]),
    ],
)
def test_split(s: str, sep: str, expected: list[str]) -> None:
    assert split(s, sep) == expected


@pytest.mark.parametrize(
    ("s", "sep", "n", "expected"),
    [
        ("a,b,c", ",", 2, ["a", "b,c"]),
        ("a,b,c", ",", 1, ["a,b,c"]),
        ("a,b,c", ",", 0, []),
        ("a,b,c", ",", -1, ["a", "b", "c"]),
        ("a,b,c", ",", 10, ["a", "b", "c"]),
        ("abc", "", 2, ["a", "bc"]),
        ("", ",", 2, [""]),
    ],
)
def test_split_n(s: str, sep: str, n: int, expected: list[str]) -> None:
    assert split_n(s, sep, n) == expected


@pytest.mark.parametrize(
    ("s", "old", "new", "n", "expected"),
    [
        ("banana", "a", "o", -1, "bonono"),
        ("banana", "a", "o", 2, "bonona"),
        ("banana", "a", "o", 0, "banana"),
        ("banana", "", "-", -1, "-b-a-n-a-n-a-"),
        ("banana", "", "-", 2, "-b-anana"),
        ("", "", "-", -1, "-"),
    ],
)
def test_replace(s: str, old: str, new: str, n: int, expected: str) -> None:
    assert replace(s, old, new, n) == expected


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_parse_bool_false(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["yes", "tRUE", "", " true", "2", "on"])
def test_parse_bool_errors(text: str) -> None:
    with pytest.raises(TemplateFunctionError, match=r"strconv.ParseBool: parsing .*: invalid syntax"):
        parse_bool(text)


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("a b", "a+b"),
        ("AZaz09-_.~", "AZaz09-_.~"),
        ("a/b?c=d&e", "a%2Fb%3Fc%3Dd%26e"),
        ("é", "%C3%A9"),
        ("+", "%2B"),
    ],
)
def test_query_escape(s: str, expected: str) -> None:
    assert query_escape(s) == expected


@pytest.mark.parametrize(
    ("s", "lower", "upper"),
    [
        ("MiXeD", "mixed", "MIXED"),
        ("ÉCOLE été", "école été", "ÉCOLE ÉTÉ"),
        ("straße", "straße", "STRAßE"),  # Go maps rune by rune: ß has no single-rune upper case
        ("İ", "i", "İ"),
    ],
)
def test_case_mapping(s: str, lower: str, upper: str) -> None:
    assert to_lower(s) == lower
    assert to_upper(s) == upper


@pytest.mark.parametrize(
    ("delimiter", "source", "expected"),
    [
        ("# ", "a\nb\n", "# a\n# b\n# "),
        ("# ", "", "# "),
        ("// ", "one", "// one"),
        ("#", "a\n\nb", "#a\n#\n#b"),
    ],
)
def test_comment(delimiter: str, source: str, expected: str) -> None:
    assert comment(delimiter, source) == expected


def test_sha1() -> None:
    assert sha1("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert sha1("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"


def test_string_arguments_are_type_checked() -> None:
    with pytest.raises(TemplateFunctionError, match="expected string"):
        split(5, ",")


# ---------------------------------------------------------------------------- gostrings helpers


def test_trim_space_uses_go_white_space() -> None:
    assert gostrings.trim_space("\u00a0\t x \u3000\n") == "x"
    assert gostrings.trim_space("\x1cx\x1f") == "\x1cx\x1f"  # Python's strip() would remove these
    assert gostrings.trim_space("\u200bx") == "\u200bx"


@pytest.mark.parametrize(
    ("path", "base", "directory", "clean"),
    [
        ("/a/b/c", "c", "/a/b", "/a/b/c"),
        ("/a/b/", "b", "/a/b", "/a/b"),
        ("a", "a", ".", "a"),
        ("", ".", ".", "."),
        ("/", "/", "/", "/"),
        ("//", "/", "/", "/"),
        ("/a", "a", "/", "/a"),
        ("a/../../b", "b", "..", "../b"),
        ("/../a", "a", "/", "/a"),
    ],
)
def test_go_paths(path: str, base: str, directory: str, clean: str) -> None:
    assert gostrings.path_base(path) == base
    assert gostrings.path_dir(path) == directory
    assert gostrings.path_clean(path) == clean


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("plain", '"plain"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\n\t\r\a\b\f\v", '"\\n\\t\\r\\a\\b\\f\\v"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("café", '"café"'),
        ("\u00a0", '"\\u00a0"'),
        ("\U0001F600", '"\U0001F600"'),
        ("\U000E0001", '"\\U000e0001"'),
    ],
)
def test_go_quote(s: str, expected: str) -> None:
    assert gostrings.quote(s) == expected


@pytest.mark.parametrize(
    ("s", "expected"),
    [("0", 0), ("-5", -5), ("+7", 7), ("007", 7), ("1_0", None), (" 1", None), ("", None), ("0x1", None),
     ("9223372036854775807", 9223372036854775807), ("9223372036854775808", None), ("\uff11", None),
     ("\u0665", None), ("-0", 0)],
)
def test_parse_int64(s: str, expected: int | None) -> None:
    assert gostrings.parse_int64(s) == expected


def test_atoi_errors_like_go() -> None:
    assert gostrings.atoi("-12") == -12
    with pytest.raises(TemplateFunctionError, match=r'strconv.Atoi: parsing "x": invalid syntax'):
        gostrings.atoi("x")
    with pytest.raises(TemplateFunctionError, match="value out of range"):
        gostrings.atoi("99999999999999999999")
