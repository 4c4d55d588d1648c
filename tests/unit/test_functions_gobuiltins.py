"""printf (Go fmt verbs), %v printing, index and len: the Go built-ins templates call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import jinja2
import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.gobuiltins import index, length, printf
from pygen.functions.gofmt import format_float_g, format_value


@dataclass
class Pair:
    Name: str = "n"
    Port: int = 80


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "<nil>"),
        (jinja2.Undefined(name="x"), "<nil>"),
        (True, "true"),
        (7, "7"),
        (1.0, "1"),
        (2.5, "2.5"),
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        ("s", "s"),
        (["a", "b"], "[a b]"),
        ([], "[]"),
        ({"b": 2, "a": 1}, "map[a:1 b:2]"),
        ({}, "map[]"),
        (Pair(), "{n 80}"),
        ([Pair(), None], "[{n 80} <nil>]"),
        (dt.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=dt.UTC), "2026-01-02 03:04:05.12 +0000 UTC"),
    ],
)
def test_format_value_is_go_percent_v(value: Any, expected: str) -> None:
    assert format_value(value) == expected


def test_plus_v_names_struct_fields() -> None:
    assert format_value(Pair(), plus=True) == "{Name:n Port:80}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (-0.0, "-0"), (1e21, "1e+21"),
     (100000.0, "100000"), (1234567.0, "1.234567e+06")],
)
def test_format_float_g(value: float, expected: str) -> None:
    assert format_float_g(value) == expected


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        ("%s:%d", ("host", 80), "host:80"),
        ("%v|%v|%v", (None, [1, 2], {"k": "v"}), "<nil>|[1 2]|map[k:v]"),
        ("%q", ('say "hi"',), '"say \\"hi\\""'),
        ("%5d|%-5d|%05d", (42, 42, -42), "   42|42   |-0042"),
        ("%+d % d", (5, 5), "+5  5"),
        ("%x %X %o %b %#x", (255, 255, 8, 5, 255), "ff FF 10 101 0xff"),
        ("%c %U", (65, 0x1F600), "A U+1F600"),
        ("%t %v", (True, False), "true false"),
        ("%.2f %e %g %v", (3.14159, 1234.5, 0.00001, 2.0), "3.14 1.234500e+03 1e-05 2"),
        ("%8.3f|", (3.14159,), "   3.142|"),
        ("%-6s|%6s|%.2s", ("ab", "ab", "abcdef"), "ab    |    ab|ab"),
        ("%x", ("hi",), "6869"),
        ("%T %T %T %T", (1, "s", 1.5, None), "int string float64 <nil>"),
        ("100%%", (), "100%"),
        ("%d", ("x",), "%!d(string=x)"),
        ("%d", (1.5,), "%!d(float64=1.5)"),
        ("%s", (5,), "%!s(int=5)"),
        ("%d", (None,), "%!d(<nil>)"),
        ("%d %d", (1,), "1 %!d(MISSING)"),
        ("%d", (1, "x"), "1%!(EXTRA string=x)"),
        ("%[2]s %[1]s", ("a", "b"), "b a"),
        ("%*d", (5, 42), "   42"),
        ("%d", ([1, 2],), "[1 2]"),
        ("%s", (["a", "b"],), "[a b]"),
        ("%v", (Pair(),), "{n 80}"),
        ("%+v", (Pair(),), "{Name:n Port:80}"),
        ("end %", (), "end %!(NOVERB)"),
        ("%s", ("é",), "é"),
    ],
)
def test_printf(fmt: str, args: tuple[Any, ...], expected: str) -> None:
    assert printf(fmt, *args) == expected


def test_printf_format_must_be_a_string() -> None:
    with pytest.raises(TemplateFunctionError):
        printf(5)


def test_index_nested_and_zero_values() -> None:
    data = {"Labels": {"a": "1"}, "list": [[1, 2], [3]], "generic": {"x": 1}}
    assert index(data, "list", 0, 1) == 2
    assert index(data["Labels"], "missing") == ""  # zero value of a string map
    assert index({}, "missing") == ""
    assert index(data["generic"], "missing") is None
    assert index(data, "Labels", "a") == "1"
    assert index("abc", 1) == ord("b")  # a byte, as in Go
    assert index([1, 2]) == [1, 2]


@pytest.mark.parametrize(
    ("item", "keys", "message"),
    [
        (None, (0,), "index of untyped nil"),
        ([1, 2], (2,), "index out of range: 2"),
        ([1, 2], (-1,), "index out of range: -1"),
        ([1, 2], ("0",), "cannot index slice/array with type string"),
        ([1, 2], (None,), "cannot index slice/array with nil"),
        (5, (0,), "can't index item of type int"),
        ({"a": None}, ("a", "b"), "index of nil pointer"),
    ],
)
def test_index_errors(item: Any, keys: tuple[Any, ...], message: str) -> None:
    with pytest.raises(TemplateFunctionError, match=message):
        index(item, *keys)


@pytest.mark.parametrize(
    ("item", "expected"),
    [([1, 2, 3], 3), ({"a": 1}, 1), ("abc", 3), ("café", 5), ("", 0), (None, 0), ((1,), 1)],
)
def test_len(item: Any, expected: int) -> None:
    assert length(item) == expected


def test_len_of_a_number_is_an_error() -> None:
    with pytest.raises(TemplateFunctionError, match="len of type int"):
        length(5)
