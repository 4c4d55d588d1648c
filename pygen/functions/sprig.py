"""The sprig 3 functions nginx-proxy's template uses, with sprig's argument order.

Sprig puts the "data" argument last so it can be piped in Go templates: `join sep list`,
`default dflt value`, `ternary a b cond`, `hasPrefix prefix s`, `trimPrefix prefix s`. Ported
templates call them that way, so the order is kept as is. Sprig's arithmetic converts with
cast.ToInt64, where anything unparsable becomes 0 rather than an error.

Also here: `sprigCoalesce sprigContains sprigDir sprigReplace sprigSplit sprigSplitn splitn`, the
sprig originals of the names docker-gen masks.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions import gostrings
from pygen.functions.gofmt import format_value
from pygen.functions.gojson import NilList
from pygen.functions.values import as_int, as_str, deep_equal, go_kind, is_list, nil


def strval(value: Any) -> str:
    """sprig's toString: strings as is, everything else as Go's %v prints it."""
    value = nil(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Exception):
        return str(value)
    return format_value(value)


_TRAILING_ZERO_DECIMAL = re.compile(r"^(-?\d+)\.0+$")


def to_int64(value: Any) -> int:
    """cast.ToInt64: numbers truncated, bools 1/0, strings parsed with base prefixes, else 0."""
    value = nil(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return 0 if math.isnan(value) or math.isinf(value) else int(value)
    if isinstance(value, str):
        text = _TRAILING_ZERO_DECIMAL.sub(r"\1", value)
        if text != text.strip():
            return 0
        try:
            body = text.lstrip("+-")
            sign = -1 if text.startswith("-") else 1
            if len(body) > 1 and body[0] == "0" and body[1].isdigit():
                return sign * int(body, 8)
            return int(text, 0)
        except ValueError:
            return 0
    return 0


def empty(value: Any) -> bool:
    """sprig's empty: nil, "", 0, 0.0, false and empty collections are empty; structs never are."""
    value = nil(value)
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, Mapping, set, frozenset)):
        return len(value) == 0
    if isinstance(value, (bool, int, float)):
        return not value
    return False


def _sequence(function: str, value: Any) -> list[Any]:
    """A list argument for sprig's list functions; nil counts as empty (lenient: Go would panic)."""
    value = nil(value)
    if value is None:
        return []
    if is_list(value):
        return list(value)
    raise TemplateFunctionError(f"Cannot {function} on type {go_kind(value)}")


def _mapping(function: str, value: Any) -> dict[Any, Any]:
    value = nil(value)
    if isinstance(value, dict):
        return value
    raise TemplateFunctionError(
        f"{function}: wrong type for value; expected map[string]interface {{}}; got {go_kind(value)}"
    )


# -- arithmetic ---------------------------------------------------------------------------------

def add1(value: Any) -> int:
    return to_int64(value) + 1


def add(*values: Any) -> int:
    return sum(to_int64(v) for v in values)


def sub(a: Any, b: Any) -> int:
    return to_int64(a) - to_int64(b)


def mul(a: Any, *values: Any) -> int:
    result = to_int64(a)
    for value in values:
        result *= to_int64(value)
    return result


def _go_divmod(a: int, b: int) -> tuple[int, int]:
    """Go's integer division truncates toward zero (Python's // floors)."""
    if b == 0:
        raise TemplateFunctionError("runtime error: integer divide by zero")
    quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return quotient, a - quotient * b


def div(a: Any, b: Any) -> int:
    return _go_divmod(to_int64(a), to_int64(b))[0]


def mod(a: Any, b: Any) -> int:
    return _go_divmod(to_int64(a), to_int64(b))[1]


# -- defaults and flow ---------------------------------------------------------------------------

def default(default_value: Any, *given: Any) -> Any:
    """`default dflt value`: `value` unless it is empty (see `empty`)."""
    if not given or empty(given[0]):
        return default_value
    return given[0]


def sprig_coalesce(*values: Any) -> Any:
    """sprig's coalesce: the first non-empty argument (docker-gen's `coalesce` only skips nil)."""
    for value in values:
        if not empty(value):
            return value
    return None


def ternary(if_true: Any, if_false: Any, condition: Any) -> Any:
    """`ternary a b cond`: a if cond else b."""
    return if_true if nil(condition) is True else if_false


# -- strings -------------------------------------------------------------------------------------

def has_prefix(prefix: Any, s: Any) -> bool:
    return as_str("hasPrefix", "str", s).startswith(as_str("hasPrefix", "substr", prefix))


def has_suffix(suffix: Any, s: Any) -> bool:
    return as_str("hasSuffix", "str", s).endswith(as_str("hasSuffix", "substr", suffix))


def trim(s: Any) -> str:
    return gostrings.trim_space(as_str("trim", "s", s))


def trim_prefix(prefix: Any, s: Any) -> str:
    s, prefix = as_str("trimPrefix", "s", s), as_str("trimPrefix", "prefix", prefix)
    return s[len(prefix) :] if prefix and s.startswith(prefix) else s


def trim_suffix(suffix: Any, s: Any) -> str:
    s, suffix = as_str("trimSuffix", "s", s), as_str("trimSuffix", "suffix", suffix)
    return s[: -len(suffix)] if suffix and s.endswith(suffix) else s


def plural(one: Any, many: Any, count: Any) -> Any:
    return one if as_int("plural", "count", count) == 1 else many


def to_string(value: Any) -> str:
    return strval(value)


def sprig_contains(substr: Any, s: Any) -> bool:
    """sprig's contains: a substring test (docker-gen's `contains` tests map keys)."""
    return as_str("sprigContains", "substr", substr) in as_str("sprigContains", "str", s)


def sprig_dir(path: Any) -> str:
    """sprig's dir: path.Dir (docker-gen's `dir` lists a directory)."""
    return gostrings.path_dir(as_str("sprigDir", "path", path))


def sprig_replace(old: Any, new: Any, src: Any) -> str:
    """sprig's replace `old new src`, every occurrence (docker-gen's is `s old new n`)."""
    return gostrings.replace(
        as_str("sprigReplace", "src", src), as_str("sprigReplace", "old", old), as_str("sprigReplace", "new", new), -1
    )


def _indexed(parts: list[str]) -> dict[str, str]:
    """sprig's `_0`, `_1`, ... map; built in Go's map iteration order (sorted keys)."""
    result = {f"_{i}": part for i, part in enumerate(parts)}
    return {key: result[key] for key in sorted(result)}


def sprig_split(sep: Any, orig: Any) -> dict[str, str]:
    """sprig's split `sep orig` -> {"_0": ..., "_1": ...}."""
    return _indexed(gostrings.split(as_str("sprigSplit", "orig", orig), as_str("sprigSplit", "sep", sep)))


def sprig_splitn(sep: Any, n: Any, orig: Any) -> dict[str, str]:
    """sprig's splitn `sep n orig` -> {"_0": ..., ...} with at most n pieces."""
    return _indexed(
        gostrings.split_n(as_str("splitn", "orig", orig), as_str("splitn", "sep", sep), as_int("splitn", "n", n))
    )


# -- lists ---------------------------------------------------------------------------------------

def list_(*values: Any) -> list[Any]:
    return list(values)


def append(values: Any, value: Any) -> list[Any]:
    """A new list with `value` appended (the argument is not modified)."""
    return [*_sequence("push", values), value]


def concat(*lists: Any) -> list[Any]:
    """All lists joined into one; Go-nil when there is nothing at all."""
    result: list[Any] = []
    for value in lists:
        value = nil(value)
        if value is not None and not is_list(value):
            raise TemplateFunctionError(f"Cannot concat type {go_kind(value)} as list")
        result.extend(value or [])
    return result or NilList()


def first(values: Any) -> Any:
    """The first element, or None for an empty list."""
    items = _sequence("find first", values)
    return items[0] if items else None


def has(needle: Any, haystack: Any) -> bool:
    """`has needle list`: membership with Go deep equality."""
    if nil(haystack) is None:
        return False
    return any(deep_equal(needle, item) for item in _sequence("find has", haystack))


def without(values: Any, *omit: Any) -> list[Any]:
    """A new list without the items deep-equal to any of `omit`."""
    return [item for item in _sequence("find without", values) if not any(deep_equal(item, o) for o in omit)]


def join(sep: Any, values: Any) -> str:
    """`join sep list`: elements as strings (Go-nil elements skipped); a non-list is one element."""
    sep = as_str("join", "sep", sep)
    values = nil(values)
    if values is None:
        return ""
    if is_list(values):
        return sep.join(strval(v) for v in values if nil(v) is not None)
    return strval(values)


def deep_copy(value: Any) -> Any:
    return copy.deepcopy(nil(value))


# -- dicts ---------------------------------------------------------------------------------------

def dict_(*pairs: Any, **kwargs: Any) -> dict[str, Any]:
    """`dict k1 v1 k2 v2`: keys converted to strings, a missing last value is "".

    Keyword arguments are accepted too, so Jinja's own `dict(a=1)` keeps working when this function
    replaces Jinja's `dict` global.
    """
    result: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        key = strval(pairs[i])
        result[key] = pairs[i + 1] if i + 1 < len(pairs) else ""
    result.update(kwargs)
    return result


def get(mapping: Any, key: Any) -> Any:
    """The value under `key`, or "" when absent."""
    return _mapping("get", mapping).get(key, "")


def has_key(mapping: Any, key: Any) -> bool:
    mapping = nil(mapping)
    return isinstance(mapping, Mapping) and key in mapping


def set_(mapping: Any, key: Any, value: Any) -> dict[Any, Any]:
    """Set `key` in place and return the dict (for `$_ := set $d "k" "v"`)."""
    mapping = _mapping("set", mapping)
    mapping[as_str("set", "key", key)] = value
    return mapping


def unset(mapping: Any, key: Any) -> dict[Any, Any]:
    """Remove `key` in place and return the dict."""
    mapping = _mapping("unset", mapping)
    mapping.pop(key, None)
    return mapping


def merge(destination: Any, *sources: Any) -> Any:
    """Deep-merge sources into `destination` (in place) without overriding its non-empty values.

    mergo semantics: a key missing from the destination, or present with an empty value, takes the
    source's value; nested dicts on both sides are merged recursively.
    """
    target = _mapping("merge", destination)
    for source in sources:
        source = nil(source)
        if source is None:
            continue
        if not isinstance(source, Mapping):
            return ""
        _merge_into(target, source)
    return target


def _merge_into(target: dict[Any, Any], source: Mapping[Any, Any]) -> None:
    for key, value in source.items():
        if key in target and isinstance(target[key], dict) and isinstance(value, Mapping):
            _merge_into(target[key], value)
        elif key not in target or empty(target[key]):
            target[key] = value
