"""Go's fmt package as templates observe it: `%v` printing and a `printf` with Go's verbs.

Ported templates use `printf "%s:%d" .Host .Port` and print values with `%v`; the results must
match Go's, including its complaints (`%!d(string=x)`, `%!v(MISSING)`), because those end up in
generated config files and are how users notice a type mismatch.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import Any

from pygen.functions.gojson import format_float_e, format_float_f, shortest_digits
from pygen.functions.gostrings import quote
from pygen.functions.values import go_type_name, is_list, is_struct, nil


def format_float_g(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64): what `%v` prints for a float64 (1 -> "1", 1e6 -> "1e+06")."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    neg = "-" if f < 0 else ""
    digits, dp = shortest_digits(f)
    exp = dp - 1
    if exp < -4 or exp >= 6:  # Go uses precision 6 for the decision when printing the shortest form
        return neg + format_float_e(digits, dp)
    return neg + format_float_f(digits, dp)


def _sort_key(key: Any) -> tuple[int, Any]:
    """fmt prints map keys sorted: numbers by value, strings by bytes, mixed kinds by kind."""
    if isinstance(key, bool):
        return (0, int(key))
    if isinstance(key, (int, float)):
        return (1, key)
    if isinstance(key, str):
        return (2, key)
    return (3, repr(key))


def _time_string(value: _dt.datetime) -> str:
    """time.Time.String() for a datetime: `2006-01-02 15:04:05.999999999 -0700 MST`."""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if offset is None:
        return text + " +0000 UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    zone = value.tzname() or ""
    return f"{text} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d} {zone}".rstrip()


def format_value(value: Any, plus: bool = False) -> str:
    """Go's `%v` (`%+v` with plus=True: struct fields are named)."""
    value = nil(value)
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float_g(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return "[" + " ".join(str(b) for b in value) + "]"
    if hasattr(value, "go_json_value"):  # time-like values print through their Go String() (__str__)
        return str(value)
    if isinstance(value, _dt.datetime):
        return _time_string(value)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{format_value(k, plus)}:{format_value(v, plus)}" for k, v in items) + "]"
    if is_list(value) or isinstance(value, (set, frozenset)):
        return "[" + " ".join(format_value(v, plus) for v in value) + "]"
    if is_struct(value):
        fields = dataclasses.fields(value)
        if plus:
            inner = " ".join(f"{f.name}:{format_value(getattr(value, f.name), plus)}" for f in fields)
        else:
            inner = " ".join(format_value(getattr(value, f.name), plus) for f in fields)
        return "{" + inner + "}"
    return str(value)


_VERB_RE = re.compile(r"%([-+# 0]*)(\*|[0-9]+)?(?:\.(\*|[0-9]*))?(?:\[([0-9]+)\])?([a-zA-Z%])?")


class _Spec:
    def __init__(self, flags: str, width: int | None, precision: int | None) -> None:
        self.minus = "-" in flags
        self.plus = "+" in flags
        self.sharp = "#" in flags
        self.space = " " in flags
        self.zero = "0" in flags and not self.minus
        self.width = width
        self.precision = precision

    def pad(self, text: str, numeric: bool = False) -> str:
        if self.width is None or len(text) >= self.width:
            return text
        fill = self.width - len(text)
        if self.minus:
            return text + " " * fill
        if self.zero:
            if numeric and text[:1] in "+- ":
                return text[0] + "0" * fill + text[1:]
            return "0" * fill + text
        return " " * fill + text

    def sign(self, negative: bool) -> str:
        if negative:
            return "-"
        if self.plus:
            return "+"
        return " " if self.space else ""


def _bad_verb(verb: str, arg: Any) -> str:
    arg = nil(arg)
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type_name(arg)}={format_value(arg)})"


# Go verb -> (Python format spec for the digits, the prefix that '#' or %O adds)
_INT_VERBS = {
    "d": ("d", ""), "v": ("d", ""), "x": ("x", "0x"), "X": ("X", "0X"), "o": ("o", "0"), "O": ("o", "0o"),
    "b": ("b", "0b"),
}


def _format_int(verb: str, arg: int, spec: _Spec) -> str:
    if verb == "c":
        return spec.pad(chr(arg))
    if verb == "q":
        inner = quote(chr(arg))[1:-1].replace('\\"', '"').replace("'", "\\'")  # strconv.QuoteRune
        return spec.pad("'" + inner + "'")
    if verb == "U":
        return spec.pad(f"U+{arg:04X}")
    python_spec, prefix = _INT_VERBS[verb]
    digits = format(abs(arg), python_spec)
    if spec.precision is not None and len(digits) < spec.precision:
        digits = "0" * (spec.precision - len(digits)) + digits
    if verb == "O" or (spec.sharp and verb in "xXob"):
        digits = prefix + digits
    return spec.pad(spec.sign(arg < 0) + digits, numeric=spec.precision is None)


def _format_float(verb: str, arg: float, spec: _Spec) -> str:
    if math.isnan(arg) or math.isinf(arg):
        text = "NaN" if math.isnan(arg) else ("+Inf" if arg > 0 else "-Inf")
        if text == "+Inf" and not spec.plus:
            text = "Inf" if not spec.space else " Inf"
        return spec.pad(text)
    negative = arg < 0 or (arg == 0 and math.copysign(1.0, arg) < 0)
    magnitude = abs(arg)
    if verb in "gGv" and spec.precision is None:
        body = format_float_g(magnitude)
        if verb == "G":
            body = body.upper()
    else:
        precision = 6 if spec.precision is None else spec.precision
        python_verb = {"v": "g", "F": "f"}.get(verb, verb)
        body = f"{magnitude:.{precision}{python_verb}}"
    return spec.pad(spec.sign(negative) + body, numeric=True)


def _format_arg(verb: str, arg: Any, spec: _Spec) -> str:
    arg = nil(arg)
    if verb == "T":
        return spec.pad(go_type_name(arg))
    if is_list(arg) and verb != "v":  # Go applies the verb to each element
        return "[" + " ".join(_format_arg(verb, item, _Spec("", None, spec.precision)) for item in arg) + "]"
    if isinstance(arg, bool):
        if verb in "vt":
            return spec.pad("true" if arg else "false")
        return _bad_verb(verb, arg)
    if isinstance(arg, int):
        if verb in "vdxXoObcqU":
            return _format_int(verb, arg, spec)
        return _bad_verb(verb, arg)
    if isinstance(arg, float):
        if verb in "veEfFgG":
            return _format_float(verb, arg, spec)
        return _bad_verb(verb, arg)
    if isinstance(arg, str):
        if verb in "vs":
            text = arg if spec.precision is None else arg[: spec.precision]
            return spec.pad(text)
        if verb == "q":
            return spec.pad(quote(arg if spec.precision is None else arg[: spec.precision]))
        if verb in "xX":
            hexed = arg.encode("utf-8", "surrogateescape").hex()
            return spec.pad(hexed.upper() if verb == "X" else hexed)
        return _bad_verb(verb, arg)
    if verb in "vs":
        return spec.pad(format_value(arg, plus=spec.plus and verb == "v"))
    return _bad_verb(verb, arg)


def sprintf(format_string: str, *args: Any) -> str:
    """fmt.Sprintf with Go's verbs (%v %+v %s %d %q %x %X %o %b %c %U %e %f %g %t %T %%), flags,
    width, precision, `*` and explicit `[n]` argument indexes, and Go's error markers."""
    out: list[str] = []
    position = 0
    arg_index = 0
    used = [False] * len(args)

    def next_arg() -> tuple[bool, Any]:
        nonlocal arg_index
        if arg_index >= len(args):
            return False, None
        value = args[arg_index]
        used[arg_index] = True
        arg_index += 1
        return True, value

    while position < len(format_string):
        percent = format_string.find("%", position)
        if percent < 0:
            out.append(format_string[position:])
            break
        out.append(format_string[position:percent])
        match = _VERB_RE.match(format_string, percent)
        assert match is not None  # the pattern always matches at a '%'
        position = match.end()
        flags, width_text, precision_text, index_text, verb = match.groups()
        if verb is None:
            out.append("%!(NOVERB)")
            continue
        if verb == "%":
            out.append("%")
            continue
        width = precision = None
        if width_text == "*":
            ok, value = next_arg()
            width = value if ok and isinstance(value, int) and not isinstance(value, bool) else None
            if width is not None and width < 0:
                flags += "-"
                width = -width
        elif width_text:
            width = int(width_text)
        if precision_text == "*":
            ok, value = next_arg()
            precision = value if ok and isinstance(value, int) and not isinstance(value, bool) else None
        elif precision_text is not None:
            precision = int(precision_text) if precision_text else 0
        if index_text is not None:
            arg_index = int(index_text) - 1
            if arg_index < 0 or arg_index >= len(args):
                out.append(f"%!{verb}(BADINDEX)")
                arg_index = len(args)
                continue
        ok, value = next_arg()
        if not ok:
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format_arg(verb, value, _Spec(flags, width, precision)))
    extra = [args[i] for i in range(len(args)) if not used[i]]
    if extra and not any(_uses_index(format_string)):
        out.append(
            "%!(EXTRA " + ", ".join(f"{go_type_name(v)}={format_value(v)}" for v in extra) + ")"
        )
    return "".join(out)


def _uses_index(format_string: str) -> list[bool]:
    """Go does not complain about unused arguments once explicit indexes are used."""
    return [m.group(4) is not None for m in _VERB_RE.finditer(format_string)]
