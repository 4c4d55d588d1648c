"""nginxQuote and nginxMustParseHSTS: every vector of docker-gen spec §6.4 and §6.5."""

from __future__ import annotations

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.nginx import (
    has_unescaped_quote,
    has_unescaped_special_chars,
    is_escaped_at,
    is_quoted_with,
    nginx_must_parse_hsts,
    nginx_quote,
    quote_with,
)

TAB = "\t"
NBSP = "\u00a0"

# (spec row, input, expected output)
QUOTE_VECTORS = [
    (1, r"foo{bar", r'"foo{bar"'),
    (2, r"foo\\{bar", r'"foo\\{bar"'),
    (3, r'"foo{bar"', r'"foo{bar"'),
    (4, r"foo\{bar", r"foo\{bar"),
    (5, r"foo}bar", r'"foo}bar"'),
    (6, r"foo\\}bar", r'"foo\\}bar"'),
    (7, r'"foo}bar"', r'"foo}bar"'),
    (8, r"foo\}bar", r"foo\}bar"),
    (9, r"foo;bar", r'"foo;bar"'),
    (10, r"foo\\;bar", r'"foo\\;bar"'),
    (11, r'"foo;bar"', r'"foo;bar"'),
    (12, r"foo\;bar", r"foo\;bar"),
    (13, r"foo#bar", r'"foo#bar"'),
    (14, r"foo\\#bar", r'"foo\\#bar"'),
    (15, r'"foo#bar"', r'"foo#bar"'),
    (16, r"foo\#bar", r"foo\#bar"),
    (17, r"foo bar", r'"foo bar"'),
    (18, r"foo\\ bar", r'"foo\\ bar"'),
    (19, r'"foo bar"', r'"foo bar"'),
    (20, r"foo\ bar", r"foo\ bar"),
    (21, f"foo{TAB}bar", f'"foo{TAB}bar"'),
    (22, f"foo\\\\{TAB}bar", f'"foo\\\\{TAB}bar"'),
    (23, f'"foo{TAB}bar"', f'"foo{TAB}bar"'),
    (24, f"foo\\{TAB}bar", f"foo\\{TAB}bar"),
    (25, r"foo'bar", r'"foo' + "'" + r'bar"'),
    (26, r"foo\\'bar", r'"foo\\' + "'" + r'bar"'),
    (27, "\"foo'bar\"", "\"foo'bar\""),
    (28, r"foo\'bar", r"foo\'bar"),
    (29, r'foo"bar', r"""'foo"bar'"""),
    (30, r'foo\\"bar', r"""'foo\\"bar'"""),
    (31, r"""'foo"bar'""", r"""'foo"bar'"""),
    (32, r'foo\"bar', r'foo\"bar'),
    (33, "", ""),
    (37, "  plain  ", "plain"),
    (38, "{foo}", '"{foo}"'),
    (39, "#x", '"#x"'),
    (40, ";", '";"'),
    (41, "'", "\"'\""),
    (42, '"', "'\"'"),
    (43, "''", "''"),
    (44, '""', '""'),
    (45, "'a b'", "'a b'"),
    (46, '"a b"', '"a b"'),
    (47, "'a\"b'", "'a\"b'"),
    (48, "\"a'b\"", "\"a'b\""),
    (49, "foo\\", "foo\\"),
    (50, "foo\\\\", "foo\\\\"),
    (51, "foo bar\\", '"foo bar\\\\"'),
    (52, "foo bar\\\\", '"foo bar\\\\"'),
    (53, "a b\\\\\\", '"a b\\\\\\\\"'),
    (54, '"a b', "'\"a b'"),
    (55, 'a b"', "'a b\"'"),
    (56, "'a b", "\"'a b\""),
    (57, '"foo"bar"', "'\"foo\"bar\"'"),
    (58, '\\"foo', '\\"foo'),
    (59, r"foo\ bar baz", r'"foo\ bar baz"'),
    (60, r"foo\;bar;baz", r'"foo\;bar;baz"'),
    (61, f"{NBSP}x y{NBSP}", '"x y"'),
    (62, "café au lait", '"café au lait"'),
    (63, r'"caf\u00e9"', r'"caf\u00e9"'),
    (64, '"a" "b"', "'\"a\" \"b\"'"),
    (65, "$host", "$host"),
    (66, r"~^(?<sub>.+)\.example\.com$", r"~^(?<sub>.+)\.example\.com$"),
    (67, "/path with space", '"/path with space"'),
    (68, "a\\'b\"c", "'a\\'b\"c'"),
    (69, "a'b\\\"c", "\"a'b\\\"c\""),
    (70, "\\\\", "\\\\"),
    (71, "\\", "\\"),
]

QUOTE_ERRORS = [
    (34, "foo\nbar", r'value must not contain line breaks: "foo\nbar"'),
    (35, "foo'bar\"baz", r'value has both unescaped single and double quotes: "foo' + "'" + r'bar\"baz"'),
    (36, "foo\rbar", r'value must not contain line breaks: "foo\rbar"'),
]


def test_every_spec_row_is_covered() -> None:
    rows = sorted([row for row, _, _ in QUOTE_VECTORS] + [row for row, _, _ in QUOTE_ERRORS])
    assert rows == list(range(1, 72))


@pytest.mark.parametrize(("row", "value", "expected"), QUOTE_VECTORS, ids=[f"row{r}" for r, _, _ in QUOTE_VECTORS])
def test_nginx_quote(row: int, value: str, expected: str) -> None:
    assert nginx_quote(value) == expected


@pytest.mark.parametrize(("row", "value", "message"), QUOTE_ERRORS, ids=[f"row{r}" for r, _, _ in QUOTE_ERRORS])
def test_nginx_quote_errors(row: int, value: str, message: str) -> None:
    with pytest.raises(TemplateFunctionError) as caught:
        nginx_quote(value)
    assert str(caught.value) == message


SPECIAL_VECTORS = [
    ("foo{bar", True), ("{foobar", True), ("foo\\{bar", False), ('"foo{bar"', False),
    ("foo}bar", True), ("}foobar", True), ("foo\\}bar", False), ('"foo}bar"', False),
    ("foo;bar", True), (";foobar", True), ("foo\\;bar", False), ('"foo;bar"', False),
    ("foo#bar", True), ("#foobar", True), ("foo\\#bar", False), ('"foo#bar"', False),
    ("foo bar", True), (" foobar", True), ("foo\\ bar", False), ('"foo bar"', False),
]


@pytest.mark.parametrize(("value", "expected"), SPECIAL_VECTORS)
def test_has_unescaped_special_chars(value: str, expected: bool) -> None:
    assert has_unescaped_special_chars(value) is expected


SINGLE_QUOTE_VECTORS = [
    ("'", True), ("foo'bar", True), ("'foobar", True), ("foobar'", True), ("'foobar\\'", True),
    ("'foo'bar'", True), ("foo\\'bar", False), ("foobar\\'", False), ("\"foo'bar\"", False), ("", False),
    ("''", False),
]
DOUBLE_QUOTE_VECTORS = [
    ('"', True), ('foo"bar', True), ('"foobar', True), ('foobar"', True), ('"foobar\\"', True),
    ('"foo"bar"', True), ('foo\\"bar', False), ('\\"foobar', False), ('foobar\\"', False),
    ("'foo\"bar'", False), ("", False), ('""', False),
]


@pytest.mark.parametrize(("value", "expected"), SINGLE_QUOTE_VECTORS)
def test_has_unescaped_single_quote(value: str, expected: bool) -> None:
    assert has_unescaped_quote(value, "'") is expected


@pytest.mark.parametrize(("value", "expected"), DOUBLE_QUOTE_VECTORS)
def test_has_unescaped_double_quote(value: str, expected: bool) -> None:
    assert has_unescaped_quote(value, '"') is expected


QUOTED_WITH_VECTORS = [
    ("'quoted'", "'", True), ("''", "'", True), ("'", "'", False), ('"quoted"', "'", False),
    ("unquoted", "'", False), ("'unquoted\\'", "'", False), ("'unquoted\"", "'", False),
    ('"quoted"', '"', True), ('""', '"', True), ('"', '"', False), ("'quoted'", '"', False),
    ("unquoted", '"', False), ('"unquoted\\"', '"', False), ("\"unquoted'", '"', False),
]


@pytest.mark.parametrize(("value", "quote", "expected"), QUOTED_WITH_VECTORS)
def test_is_quoted_with(value: str, quote: str, expected: bool) -> None:
    assert is_quoted_with(value, quote) is expected


ESCAPED_AT_VECTORS = [
    ("\\a", 0, False), ("\\a", -1, False), ("abc", 3, False), ("a\\", 2, False), ("abc", 2, False),
    ("a\\b", 2, True), ("a\\\\b", 3, False), ("a\\\\\\b", 4, True), ('foo\\"', 4, True), ('foo\\\\"', 5, False),
]


@pytest.mark.parametrize(("value", "index", "expected"), ESCAPED_AT_VECTORS)
def test_is_escaped_at(value: str, index: int, expected: bool) -> None:
    assert is_escaped_at(value, index) is expected


QUOTE_WITH_VECTORS = [
    ("value", '"', '"value"'),
    ("value", "'", "'value'"),
    ('foo\\"bar', '"', '"foo\\"bar"'),
    ("foo\\\\", '"', '"foo\\\\"'),
    ("foo\\", '"', '"foo\\\\"'),
]


@pytest.mark.parametrize(("value", "quote", "expected"), QUOTE_WITH_VECTORS)
def test_quote_with(value: str, quote: str, expected: str) -> None:
    assert quote_with(value, quote) == expected


HSTS = "Strict-Transport-Security"
HSTS_VECTORS = [
    (1, "max-age=300", "max-age=300"),
    (2, "max-age=300; includeSubDomains", "max-age=300; includeSubDomains"),
    (3, "max-age=31536000; includeSubDomains; preload", "max-age=31536000; includeSubDomains; preload"),
    (4, " max-age=31536000 ; includeSubDomains ; preload ", "max-age=31536000; includeSubDomains; preload"),
    (5, "Max-Age=31536000; includesubdomains; PRELOAD", "max-age=31536000; includeSubDomains; preload"),
    (17, "max-age=00300", "max-age=300"),
    (19, "max-age=1; max-age=2", "max-age=2"),
    (20, "preload; includeSubDomains; max-age=63072000", "max-age=63072000; includeSubDomains; preload"),
]
HSTS_ERRORS = [
    (6, " ", "HSTS value cannot be empty"),
    (7, "max-age=", f"invalid {HSTS} max-age directive: max-age="),
    (8, "max-age=300; server {}", f"unknown {HSTS} directive: server {{}}"),
    (9, "max-age=300foo", f"invalid {HSTS} max-age directive: max-age=300foo"),
    (10, "max-age=abc", f"invalid {HSTS} max-age directive: max-age=abc"),
    (11, "includeSubDomains", f"{HSTS} max-age directive must be greater than 0"),
    (12, "max-age=0", f"{HSTS} max-age directive must be greater than 0"),
    (13, "max-age=31536000; preload", f"{HSTS} preload directive requires includeSubDomains to be set"),
    (14, "max-age=31535999; includeSubDomains; preload",
     f"{HSTS} preload directive requires max-age to be at least 31536000 seconds (1 year)"),
    (15, "max-age=300;", f"unknown {HSTS} directive: "),
    (16, "max-age = 300", f"unknown {HSTS} directive: max-age = 300"),
    (18, "max-age=+300", f"invalid {HSTS} max-age directive: max-age=+300"),
    (21, "max-age=99999999999999999999", f"invalid {HSTS} max-age directive: max-age=99999999999999999999"),
    (22, "off", f"unknown {HSTS} directive: off"),
]


def test_every_hsts_row_is_covered() -> None:
    assert sorted(r for r, _, _ in HSTS_VECTORS + HSTS_ERRORS) == list(range(1, 23))


@pytest.mark.parametrize(("row", "value", "expected"), HSTS_VECTORS, ids=[f"row{r}" for r, _, _ in HSTS_VECTORS])
def test_hsts(row: int, value: str, expected: str) -> None:
    assert nginx_must_parse_hsts(value) == expected


@pytest.mark.parametrize(("row", "value", "message"), HSTS_ERRORS, ids=[f"row{r}" for r, _, _ in HSTS_ERRORS])
def test_hsts_errors(row: int, value: str, message: str) -> None:
    with pytest.raises(TemplateFunctionError) as caught:
        nginx_must_parse_hsts(value)
    assert str(caught.value) == message


def test_hsts_largest_int64_max_age_is_accepted() -> None:
    assert nginx_must_parse_hsts("max-age=9223372036854775807") == "max-age=9223372036854775807"
    with pytest.raises(TemplateFunctionError):
        nginx_must_parse_hsts("max-age=9223372036854775808")


def test_hsts_rejects_non_ascii_digits() -> None:
    with pytest.raises(TemplateFunctionError, match="invalid"):
        nginx_must_parse_hsts("max-age=\u0663\u0660\u0660")  # Arabic-Indic digits
