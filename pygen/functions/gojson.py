"""Go's encoding/json, as docker-gen's `json`/`toJson`/`toPrettyJson` and `parseJson` see it.

Debug templates dump the context with `json`, and users diff that output against docker-gen's, so
the shape matters more than prettiness: struct fields come out in declaration order (dataclass field
order here), map keys sorted, a Go-nil slice or map is `null`, floats print like Go (`1`, not
`1.0`), and `< > &` are HTML-escaped.

Go-nil versus empty cannot be told apart with plain Python lists and dicts, so the context model uses
`NilList()` / `NilDict()` for "nil slice/map": they iterate as empty but encode as `null`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pygen.errors import TemplateFunctionError


class NilList(list):
    """A Go-nil slice: iterates and measures as empty, encodes as JSON `null`, prints as an empty
    list does (`{{ x }}` must not show the class name)."""

    def __repr__(self) -> str:
        return "NilList()"

    def __str__(self) -> str:
        return "[]"


class NilDict(dict):
    """A Go-nil map: iterates and measures as empty, encodes as JSON `null`, prints as an empty
    dict does."""

    def __repr__(self) -> str:
        return "NilDict()"

    def __str__(self) -> str:
        return "{}"


def shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(f) and the decimal point position.

    The value is 0.DIGITS x 10**dp. Python's repr() already computes the shortest representation Go
    uses (both are "shortest that round-trips"), so only the layout differs between the languages.
    """
    _, digits, exponent = Decimal(repr(abs(f))).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    dp = len(text) + exponent
    text = text.rstrip("0")
    if not text:
        return "0", 1
    stripped = text.lstrip("0")
    dp -= len(text) - len(stripped)
    return stripped, dp


def format_float_e(digits: str, dp: int, upper: bool = False) -> str:
    """Go's 'e' layout with the shortest digits: d.ddde±XX (at least two exponent digits)."""
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = dp - 1
    sign = "-" if exp < 0 else "+"
    return f"{mantissa}{'E' if upper else 'e'}{sign}{abs(exp):02d}"


def format_float_f(digits: str, dp: int) -> str:
    """Go's 'f' layout with the shortest digits (no trailing zeros, no exponent)."""
    if dp <= 0:
        return "0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def format_json_float(f: float) -> str:
    """A float64 as Go's encoding/json writes it (ES6-style cut-over to exponent form)."""
    if math.isnan(f) or math.isinf(f):
        text = "NaN" if math.isnan(f) else ("+Inf" if f > 0 else "-Inf")
        raise TemplateFunctionError(f"json: unsupported value: {text}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    neg = "-" if f < 0 else ""
    digits, dp = shortest_digits(f)
    magnitude = abs(f)
    if magnitude < 1e-6 or magnitude >= 1e21:
        text = format_float_e(digits, dp)
        # Go cleans e-09 up to e-9 (but keeps e+21).
        if len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return neg + text
    return neg + format_float_f(digits, dp)


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def quote_json_string(s: str, escape_html: bool = True) -> str:
    """A JSON string literal exactly as Go writes it (HTML-safe, U+2028/2029 escaped, bad UTF-8 -> U+FFFD)."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif escape_html and ch in _HTML_ESCAPES:
            out.append(_HTML_ESCAPES[ch])
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate is what invalid UTF-8 decodes to
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _map_key(key: Any) -> str:
    """Go accepts string and integer map keys (integers are written as strings)."""
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise TemplateFunctionError(f"json: unsupported type: map key {type(key).__name__}")


def _struct_fields(value: Any) -> list[tuple[str, Any]]:
    """Exported fields in declaration order; `_x` fields are private, metadata json="-" skips."""
    pairs = []
    for field in dataclasses.fields(value):
        name = field.metadata.get("json", field.name)
        if name == "-" or field.name.startswith("_"):
            continue
        pairs.append((name, getattr(value, field.name)))
    return pairs


def _time_text(value: _dt.datetime | _dt.date) -> str:
    """time.Time marshals as RFC 3339 with nanoseconds; UTC is written `Z`."""
    if isinstance(value, _dt.datetime):
        text = value.isoformat()
        if value.tzinfo is not None and value.utcoffset() == _dt.timedelta(0):
            text = text[: -len("+00:00")] + "Z"
        return text
    return value.isoformat()


class _Encoder:
    def __init__(self, indent: int | None, escape_html: bool) -> None:
        # Imported here: the Docker model imports this module for NilList and NilDict, and a
        # one-shot run reads the daemon on a thread while Jinja is still being imported.
        from jinja2 import Undefined

        self.undefined = Undefined
        self.indent = indent
        self.escape_html = escape_html
        self.active: set[int] = set()

    def encode(self, value: Any, level: int = 0) -> str:
        value = None if isinstance(value, self.undefined) else value
        if hasattr(value, "go_json_value") and callable(value.go_json_value):
            return self.encode(value.go_json_value(), level)
        if value is None or isinstance(value, (NilList, NilDict)):
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return format_json_float(value)
        if isinstance(value, str):
            return quote_json_string(value, self.escape_html)
        if isinstance(value, (_dt.datetime, _dt.date)):
            return quote_json_string(_time_text(value), self.escape_html)
        if isinstance(value, (bytes, bytearray)):
            import base64

            return '"' + base64.b64encode(bytes(value)).decode("ascii") + '"'
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._container(value, level, lambda: _struct_fields(value), is_object=True)
        if isinstance(value, Mapping):
            return self._container(
                value, level, lambda: sorted((_map_key(k), v) for k, v in value.items()), is_object=True
            )
        if isinstance(value, (list, tuple)):
            return self._container(value, level, lambda: [(None, v) for v in value], is_object=False)
        if isinstance(value, (set, frozenset)):
            items = sorted(value, key=repr)
            return self._container(value, level, lambda: [(None, v) for v in items], is_object=False)
        raise TemplateFunctionError(f"json: unsupported type: {type(value).__name__}")

    def _container(self, value: Any, level: int, items_fn: Any, is_object: bool) -> str:
        marker = id(value)
        if marker in self.active:
            raise TemplateFunctionError(f"json: unsupported value: encountered a cycle via {type(value).__name__}")
        self.active.add(marker)
        try:
            items = items_fn()
            open_, close = ("{", "}") if is_object else ("[", "]")
            if not items:
                return open_ + close
            parts = []
            for key, item in items:
                encoded = self.encode(item, level + 1)
                if is_object:
                    sep = ": " if self.indent is not None else ":"
                    encoded = quote_json_string(key, self.escape_html) + sep + encoded
                parts.append(encoded)
            if self.indent is None:
                return open_ + ",".join(parts) + close
            pad = " " * self.indent
            inner = "\n" + pad * (level + 1)
            return open_ + inner + ("," + inner).join(parts) + "\n" + pad * level + close
        finally:
            self.active.discard(marker)


def go_json(value: Any, indent: int | None = None, escape_html: bool = True) -> str:
    """Encode like Go's json.Marshal, or json.MarshalIndent(v, "", " " * indent) when indent is set.

    Raises TemplateFunctionError for values Go cannot encode (NaN, cycles, unknown types), so callers
    can choose between docker-gen's `json` (error) and sprig's `toJson` (empty string).
    """
    return _Encoder(indent, escape_html).encode(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _checked_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


def parse_go_json(text: str) -> Any:
    """Decode like Go's json.Unmarshal into interface{}: every number is a float64, null is None.

    Python's decoder also accepts NaN/Infinity literals, which Go rejects; those are refused here.
    """
    if not isinstance(text, str):
        raise TemplateFunctionError(f"json: cannot unmarshal {type(text).__name__}, expected a string")
    try:
        return json.loads(text, parse_int=_checked_float, parse_float=_checked_float, parse_constant=_reject_constant)
    except ValueError as exc:
        message = str(exc)
        if not text.strip():
            message = "unexpected end of JSON input"
        raise TemplateFunctionError(message) from None
