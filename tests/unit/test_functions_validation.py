"""mustBeOneOf, mustBeInt, mustBeIntInRange: every vector of docker-gen spec §6.6."""

from __future__ import annotations

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.validation import must_be_int, must_be_int_in_range, must_be_one_of


@pytest.mark.parametrize(
    ("allowed", "value", "outcome"),
    [
        (["a", "b", "c"], "a", "a"),
        (["a", "b", "c"], "d", 'ERROR: value must be one of ["a" "b" "c"]; got "d"'),
        (["a", 1, "c"], "a", "ERROR: allowed value 1 (type int) is not a string"),
        ([], "", 'ERROR: value must be one of []; got ""'),
        (["A"], "a", 'ERROR: value must be one of ["A"]; got "a"'),
        # beyond the spec: Go %q escaping in the message, a non-string candidate checked first
        (["x"], 'a"b', 'ERROR: value must be one of ["x"]; got "a\\"b"'),
        ([None, "a"], "a", "ERROR: allowed value <nil> (type <nil>) is not a string"),
    ],
)
def test_must_be_one_of(allowed: list[object], value: str, outcome: str) -> None:
    if outcome.startswith("ERROR: "):
        with pytest.raises(TemplateFunctionError) as caught:
            must_be_one_of(allowed, value)
        assert str(caught.value) == outcome.removeprefix("ERROR: ")
    else:
        assert must_be_one_of(allowed, value) == outcome


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("0", "0"),
        ("161", "161"),
        ("-42", "-42"),
        ("", "ERROR: value must be an integer; got an empty value"),
        ("abc", 'ERROR: value must be an integer; got "abc"'),
        ("+5", "+5"),
        (" 5", 'ERROR: value must be an integer; got " 5"'),
        ("007", "007"),
        ("1_000", 'ERROR: value must be an integer; got "1_000"'),
        ("9223372036854775807", "9223372036854775807"),
        ("9223372036854775808", 'ERROR: value must be an integer; got "9223372036854775808"'),
        ("0x10", 'ERROR: value must be an integer; got "0x10"'),
        ("1.0", 'ERROR: value must be an integer; got "1.0"'),
        # beyond the spec
        ("-9223372036854775808", "-9223372036854775808"),
        ("\u0665", 'ERROR: value must be an integer; got "\u0665"'),  # a non-ASCII digit
        # around the digit count below which plain digits are accepted without parsing
        ("999999999999999999", "999999999999999999"),
        ("9999999999999999999", 'ERROR: value must be an integer; got "9999999999999999999"'),
        ("0000000000000000000000042", "0000000000000000000000042"),
        ("\uff11", 'ERROR: value must be an integer; got "\uff11"'),  # a fullwidth digit
    ],
)
def test_must_be_int(value: str, outcome: str) -> None:
    if outcome.startswith("ERROR: "):
        with pytest.raises(TemplateFunctionError) as caught:
            must_be_int(value)
        assert str(caught.value) == outcome.removeprefix("ERROR: ")
    else:
        assert must_be_int(value) == outcome


@pytest.mark.parametrize(
    ("low", "high", "value", "outcome"),
    [
        (-3, 3, "2", "2"),
        (-3, 3, "-3", "-3"),
        (-3, 3, "3", "3"),
        (5, -10, "3", "ERROR: invalid allowed range 5..-10"),
        (-3, 3, "", "ERROR: value must be an integer; got an empty value"),
        (-3, 3, "abc", 'ERROR: value must be an integer; got "abc"'),
        (-3, 3, "-4", 'ERROR: value must be an integer between -3 and 3; got "-4"'),
        (-3, 3, "4", 'ERROR: value must be an integer between -3 and 3; got "4"'),
        (5, -10, "", "ERROR: invalid allowed range 5..-10"),
        (1, 1, "1", "1"),
    ],
)
def test_must_be_int_in_range(low: int, high: int, value: str, outcome: str) -> None:
    if outcome.startswith("ERROR: "):
        with pytest.raises(TemplateFunctionError) as caught:
            must_be_int_in_range(low, high, value)
        assert str(caught.value) == outcome.removeprefix("ERROR: ")
    else:
        assert must_be_int_in_range(low, high, value) == outcome


def test_must_be_int_accepts_a_jinja_integer_and_returns_it_unchanged() -> None:
    assert must_be_int(42) == 42


def test_range_bounds_must_be_integers() -> None:
    with pytest.raises(TemplateFunctionError):
        must_be_int_in_range("1", 3, "2")
