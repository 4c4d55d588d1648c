"""docker-gen's `mustBe*` validators (spec §6.6): fail the render with a clear message instead of
writing a config that the proxy will reject later. Valid values are returned unchanged, so they can
be used inline: `{{ mustBeInt(c.Env.PORT) }}`.
"""

from __future__ import annotations

from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions.gofmt import format_value
from pygen.functions.gostrings import INT64_MAX, INT64_MIN, parse_int64, quote
from pygen.functions.values import as_int, as_list, go_type_name, nil

_INT64_DIGITS = len(str(INT64_MAX))
"""Digits of the largest int64: any string of fewer ASCII digits is an int64."""


def _value_text(function: str, value: Any) -> str:
    """The value as a string. docker-gen's parameter is a Go string; a Jinja integer is accepted too."""
    value = nil(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TemplateFunctionError(f"{function}: value must be a string; got {go_type_name(value)}")


def must_be_one_of(allowed: Any, value: Any) -> Any:
    """`value` if it is one of the (string) allowed values, compared case-sensitively."""
    candidates = as_list("mustBeOneOf", allowed)
    for candidate in candidates:
        if not isinstance(nil(candidate), str):
            raise TemplateFunctionError(
                f"allowed value {format_value(candidate)} (type {go_type_name(candidate)}) is not a string"
            )
    text = _value_text("mustBeOneOf", value)
    if text in candidates:
        return value
    listed = " ".join(quote(c) for c in candidates)
    raise TemplateFunctionError(f"value must be one of [{listed}]; got {quote(text)}")


def must_be_int_in_range(minimum: Any, maximum: Any, value: Any) -> Any:
    """`value` if it is a base-10 int64 string within [minimum, maximum]; the range is checked first."""
    low = as_int("mustBeIntInRange", "min", minimum)
    high = as_int("mustBeIntInRange", "max", maximum)
    if low > high:
        raise TemplateFunctionError(f"invalid allowed range {low}..{high}")
    return _int_in_range(low, high, value)


def must_be_int(value: Any) -> Any:
    """`value` if it parses as a base-10 int64 (optional sign, digits only).

    docker-gen's mustBeInt is mustBeIntInRange over the whole int64 range, messages included.
    Proxy templates call it once per server line, nearly always on a port number: up to 18
    ASCII digits are always an int64, which is answered without parsing.
    """
    if type(value) is str and len(value) < _INT64_DIGITS and value.isascii() and value.isdigit():
        return value
    return _int_in_range(INT64_MIN, INT64_MAX, value)


def _int_in_range(low: int, high: int, value: Any) -> Any:
    text = value if type(value) is str else _value_text("mustBeIntInRange", value)
    if text == "":
        raise TemplateFunctionError("value must be an integer; got an empty value")
    parsed = parse_int64(text)
    if parsed is None:
        raise TemplateFunctionError(f"value must be an integer; got {quote(text)}")
    if parsed < low or parsed > high:
        raise TemplateFunctionError(f"value must be an integer between {low} and {high}; got {quote(text)}")
    return value
