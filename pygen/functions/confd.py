"""confd's template functions for etcd-gen (peers.md §1.3; memkv v0.1.1 and confd's template_funcs.go).

confd templates address a flat key space (`/services/web/1 = 10.0.0.1:80`) with `getv`, `gets`,
`ls`, ... Those are methods of `KVStoreFunctions`, built over a snapshot of the keys of one render;
the stateless helpers (`base`, `lookupIP`, `seq`, ...) are module functions.

Deliberate differences from memkv:
* `ls`/`lsdir` match path components, not raw string prefixes: memkv lists "ices" as a child of
  `/app/serv` when `/app/services/x` exists; pygen lists nothing.
* `getv KEY ""` returns "" (old confd bug #466 errored).
* `reverse`/`sortByLength` accept any list (confd only handles []string and []KVPair).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import functools
import os
import re
import socket
from collections.abc import Mapping
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions import gostrings
from pygen.functions.gojson import NilDict, NilList, parse_go_json
from pygen.functions.values import as_int, as_list, as_str, nil

_MISSING: Any = object()


@dataclasses.dataclass(frozen=True, slots=True)
class KVPair:
    """One key and its value (confd's memkv.KVPair: `.Key`, `.Value`)."""

    Key: str
    Value: str


# ----------------------------------------------------------------------------- path.Match


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a Go path.Match pattern: `*` and `?` never match '/', classes use `^` to negate."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            i += 1
            if i >= len(pattern):
                raise TemplateFunctionError("syntax error in pattern")
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end, body = _glob_class(pattern, i + 1)
            out.append(body)
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _glob_escape_char(pattern: str, i: int) -> tuple[str, int]:
    """Go's getEsc: one (possibly backslash-escaped) class character; '-' and ']' are malformed here."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise TemplateFunctionError("syntax error in pattern")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise TemplateFunctionError("syntax error in pattern")
    ch = pattern[i]
    i += 1
    if i >= len(pattern):
        raise TemplateFunctionError("syntax error in pattern")
    return ch, i


def _glob_class(pattern: str, i: int) -> tuple[int, str]:
    """A `[...]` class starting after '['; returns the index of its ']' and the regex for it.

    As in Go, a class may match '/' (only `*` and `?` exclude it) and a reversed range such as
    `z-a` is valid but matches nothing.
    """
    negate = i < len(pattern) and pattern[i] == "^"
    if negate:
        i += 1
    ranges: list[tuple[str, str]] = []
    while not (i < len(pattern) and pattern[i] == "]" and ranges):
        low, i = _glob_escape_char(pattern, i)
        high = low
        if pattern[i] == "-":
            high, i = _glob_escape_char(pattern, i + 1)
        ranges.append((low, high))
    usable = "".join(
        re.escape(low) if low == high else f"{re.escape(low)}-{re.escape(high)}"
        for low, high in ranges
        if low <= high
    )
    if not usable:
        return i, "[\\s\\S]" if negate else "(?!)"
    return i, f"[^{usable}]" if negate else f"[{usable}]"


def path_match(pattern: str, name: str) -> bool:
    """Go's path.Match; a malformed pattern raises TemplateFunctionError("syntax error in pattern")."""
    return _glob_regex(pattern).fullmatch(name) is not None


# ----------------------------------------------------------------------------- the KV store


def _normalise_dir(path: str) -> str:
    """A directory path without its trailing slash ("/" and "" mean the whole key space)."""
    stripped = path.rstrip("/")
    return stripped


class KVStoreFunctions:
    """confd's store functions over one snapshot of flat key -> value pairs."""

    def __init__(self, kv: Mapping[str, str]) -> None:
        self._kv = dict(kv)

    def get(self, key: Any) -> KVPair:
        """The pair at `key`; a missing key fails the render ("key does not exist: KEY")."""
        key = as_str("get", "key", key)
        if key not in self._kv:
            raise TemplateFunctionError(f"key does not exist: {key}")
        return KVPair(key, self._kv[key])

    def gets(self, pattern: Any) -> list[KVPair]:
        """All pairs whose key matches the path.Match glob, sorted by key; [] when none match."""
        pattern = as_str("gets", "pattern", pattern)
        return [KVPair(k, self._kv[k]) for k in sorted(self._kv) if path_match(pattern, k)]

    def getv(self, key: Any, default: Any = _MISSING) -> str:
        """The value at `key`; the default (even "") when missing; an error when missing without one."""
        key = as_str("getv", "key", key)
        if key in self._kv:
            return self._kv[key]
        if default is not _MISSING:
            return default
        raise TemplateFunctionError(f"key does not exist: {key}")

    def getvs(self, pattern: Any) -> list[str]:
        """The values of all keys matching the glob, sorted by value (not by key)."""
        pattern = as_str("getvs", "pattern", pattern)
        return sorted(v for k, v in self._kv.items() if path_match(pattern, k))

    def exists(self, key: Any) -> bool:
        return as_str("exists", "key", key) in self._kv

    def _children(self, path: str) -> list[tuple[str, bool]]:
        """(name, has_children) for each key below `path`, one entry per key."""
        base = _normalise_dir(path)
        prefix = base + "/"
        found = []
        for key in self._kv:
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            name, slash, _ = rest.partition("/")
            found.append((name, bool(slash)))
        return found

    def ls(self, path: Any) -> list[str]:
        """Names of the immediate children of `path` (leaves and directories), sorted; [] if none.

        As in memkv, `ls` of a leaf key itself gives its own name.
        """
        path = as_str("ls", "path", path)
        names = {name for name, _ in self._children(path)}
        if path in self._kv:
            names.add(gostrings.path_base(path))
        return sorted(names)

    def lsdir(self, path: Any) -> list[str]:
        """Like `ls`, but only the children that have children themselves."""
        path = as_str("lsdir", "path", path)
        return sorted({name for name, is_dir in self._children(path) if is_dir})

    def functions(self) -> dict[str, Any]:
        """The store functions under their confd names."""
        return {
            "get": self.get,
            "gets": self.gets,
            "getv": self.getv,
            "getvs": self.getvs,
            "exists": self.exists,
            "ls": self.ls,
            "lsdir": self.lsdir,
        }


# ----------------------------------------------------------------------------- stateless helpers


def base(path: Any) -> str:
    """path.Base."""
    return gostrings.path_base(as_str("base", "path", path))


def path_dir(path: Any) -> str:
    """path.Dir (exposed as `dir` in the etcd environment)."""
    return gostrings.path_dir(as_str("dir", "path", path))


def join(values: Any, sep: Any) -> str:
    """strings.Join(list, sep): confd's order, list first (sprig's `join` is `sep list`)."""
    sep = as_str("join", "sep", sep)
    return sep.join(as_str("join", "a", v) for v in as_list("join", values))


def contains(s: Any, substr: Any) -> bool:
    """strings.Contains(s, substr)."""
    return as_str("contains", "substr", substr) in as_str("contains", "s", s)


def trim_suffix(s: Any, suffix: Any) -> str:
    """strings.TrimSuffix(s, suffix): confd's order (sprig's is `suffix s`)."""
    s, suffix = as_str("trimSuffix", "s", s), as_str("trimSuffix", "suffix", suffix)
    return s[: -len(suffix)] if suffix and s.endswith(suffix) else s


def getenv(name: Any, default: Any = "") -> str:
    """The environment variable, or `default` when it is unset or empty."""
    value = os.environ.get(as_str("getenv", "key", name), "")
    return value if value != "" else default


class GoNow(_dt.datetime):
    """confd's `datetime`, Go's time.Now(): the local time, which templates can `.Format` with a
    Go layout as confd templates do (`datetime().Format("2006-01-02 15:04 MST")`)."""

    def Format(self, layout: Any) -> str:
        from pygen.docker.gotime import GoTime, format_layout

        offset = self.utcoffset() or _dt.timedelta()
        return format_layout(GoTime.from_datetime(self), as_str("Format", "layout", layout),
                             int(offset.total_seconds()), self.tzname() or "UTC")


def datetime() -> GoNow:
    """time.Now() (every render differs, so templates using it always rewrite the file)."""
    now = _dt.datetime.now().astimezone()
    return GoNow(now.year, now.month, now.day, now.hour, now.minute, now.second, now.microsecond, now.tzinfo)


def make_map(*pairs: Any) -> dict[str, Any]:
    """confd's `map k1 v1 k2 v2`: an even number of arguments with string keys."""
    if len(pairs) % 2:
        raise TemplateFunctionError("invalid map call")
    result: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        key = nil(pairs[i])
        if not isinstance(key, str):
            raise TemplateFunctionError("map keys must be strings")
        result[key] = pairs[i + 1]
    return result


def lookup_ip(name: Any) -> list[str]:
    """net.LookupIP as sorted, de-duplicated strings (so DNS answer order causes no reload);
    Go-nil on a lookup error."""
    try:
        infos = socket.getaddrinfo(as_str("lookupIP", "data", name), None)
    except (OSError, UnicodeError):
        return NilList()
    addresses = sorted({info[4][0] for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)})
    return addresses or NilList()


def lookup_ipv4(name: Any) -> list[str]:
    return [ip for ip in lookup_ip(name) if "." in ip] or NilList()


def lookup_ipv6(name: Any) -> list[str]:
    return [ip for ip in lookup_ip(name) if ":" in ip] or NilList()


@dataclasses.dataclass(frozen=True, slots=True)
class SRV:
    """One SRV record (Go's net.SRV)."""

    Target: str
    Port: int
    Priority: int
    Weight: int


def _resolve_srv(qname: str) -> list[SRV]:
    """DNS SRV lookup through dnspython (LookupError on any DNS failure); tests replace it."""
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(qname, "SRV")
    except dns.exception.DNSException as exc:
        raise LookupError(str(exc)) from None
    return [SRV(r.target.to_text(), r.port, r.priority, r.weight) for r in answer]


def lookup_srv(service: Any, proto: Any, name: Any) -> list[SRV]:
    """net.LookupSRV sorted by target, port, priority, weight (as text, like confd); [] on error."""
    service = as_str("lookupSRV", "service", service)
    proto = as_str("lookupSRV", "proto", proto)
    name = as_str("lookupSRV", "name", name)
    qname = name if not service and not proto else f"_{service}._{proto}.{name}"
    try:
        records = _resolve_srv(qname)
    except (LookupError, OSError, ValueError):
        return []
    return sorted(records, key=lambda r: f"{r.Target}{r.Port}{r.Priority}{r.Weight}")


def file_exists(path: Any) -> bool:
    """confd's fileExists: false only when stat says "does not exist"."""
    try:
        os.stat(as_str("fileExists", "path", path))
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


def base64_encode(data: Any) -> str:
    return base64.b64encode(as_str("base64Encode", "data", data).encode("utf-8", "surrogateescape")).decode("ascii")


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n")


def base64_decode(data: Any) -> str:
    """Standard base64 (padding required); Go's error names the first offending byte."""
    text = as_str("base64Decode", "data", data)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8", "replace")
    except (binascii.Error, UnicodeEncodeError, ValueError):
        position = next((i for i, ch in enumerate(text) if ch not in _B64_ALPHABET), len(text))
        raise TemplateFunctionError(f"illegal base64 data at input byte {position}") from None


def atoi(s: Any) -> int:
    """strconv.Atoi: an error for anything but a base-10 integer."""
    return gostrings.atoi(as_str("atoi", "s", s))


def parse_bool(s: Any) -> bool:
    return gostrings.parse_bool(as_str("parseBool", "str", s))


def seq(first: Any, last: Any) -> list[int]:
    """The integers first..last inclusive; Go-nil when first > last."""
    values = list(range(as_int("seq", "first", first), as_int("seq", "last", last) + 1))
    return values or NilList()


def _int_args(name: str, a: Any, b: Any) -> tuple[int, int]:
    return as_int(name, "a", a), as_int(name, "b", b)


def add(a: Any, b: Any) -> int:
    x, y = _int_args("add", a, b)
    return x + y


def sub(a: Any, b: Any) -> int:
    x, y = _int_args("sub", a, b)
    return x - y


def mul(a: Any, b: Any) -> int:
    x, y = _int_args("mul", a, b)
    return x * y


def div(a: Any, b: Any) -> int:
    """Integer division truncating toward zero, as in Go."""
    x, y = _int_args("div", a, b)
    if y == 0:
        raise TemplateFunctionError("runtime error: integer divide by zero")
    quotient = abs(x) // abs(y)
    return quotient if (x < 0) == (y < 0) else -quotient


def mod(a: Any, b: Any) -> int:
    """Remainder with the sign of the dividend, as in Go."""
    x, y = _int_args("mod", a, b)
    return x - div(x, y) * y


def reverse(values: Any) -> Any:
    """Reverse a list in place and return it (confd reverses []string and []KVPair in place)."""
    values = nil(values)
    if isinstance(values, list):
        values.reverse()
        return values
    if isinstance(values, tuple):
        return list(reversed(values))
    return values


def sort_by_length(values: Any) -> list[Any]:
    """Sort strings by length, shortest first, in place (stable)."""
    items = nil(values)
    items = items if isinstance(items, list) else as_list("sortByLength", items)
    items.sort(key=lambda v: len(as_str("sortByLength", "values", v)))
    return items


def sort_kv_by_length(values: Any) -> list[Any]:
    """Sort KVPairs by key length, shortest first, in place (stable)."""
    items = nil(values)
    items = items if isinstance(items, list) else as_list("sortKVByLength", items)
    items.sort(key=lambda kv: len(kv.Key))
    return items


def json_object(text: Any) -> dict[str, Any]:
    """confd's `json`: decode a JSON object (numbers become floats); `null` is Go's nil map."""
    value = parse_go_json(as_str("json", "data", text))
    if value is None:
        return NilDict()
    if not isinstance(value, dict):
        kind = "array" if isinstance(value, list) else "value"
        raise TemplateFunctionError(f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}")
    return value


def json_array(text: Any) -> list[Any]:
    """confd's `jsonArray`: decode a JSON array; `null` is Go's nil slice."""
    value = parse_go_json(as_str("jsonArray", "data", text))
    if value is None:
        return NilList()
    if not isinstance(value, list):
        kind = "object" if isinstance(value, dict) else "value"
        raise TemplateFunctionError(f"json: cannot unmarshal {kind} into Go value of type []interface {{}}")
    return value


def confd_helpers() -> dict[str, Any]:
    """confd's stateless functions under their confd names (the store methods come from
    KVStoreFunctions.functions())."""
    return {
        "base": base,
        "dir": path_dir,
        "split": lambda s, sep: gostrings.split(as_str("split", "s", s), as_str("split", "sep", sep)),
        "join": join,
        "replace": lambda s, old, new, n: gostrings.replace(
            as_str("replace", "s", s), as_str("replace", "old", old), as_str("replace", "new", new),
            as_int("replace", "n", n),
        ),
        "contains": contains,
        "trimSuffix": trim_suffix,
        "toUpper": lambda s: gostrings.to_upper(as_str("toUpper", "s", s)),
        "toLower": lambda s: gostrings.to_lower(as_str("toLower", "s", s)),
        "json": json_object,
        "jsonArray": json_array,
        "map": make_map,
        "getenv": getenv,
        "datetime": datetime,
        "lookupIP": lookup_ip,
        "lookupIPV4": lookup_ipv4,
        "lookupIPV6": lookup_ipv6,
        "lookupSRV": lookup_srv,
        "fileExists": file_exists,
        "base64Encode": base64_encode,
        "base64Decode": base64_decode,
        "parseBool": parse_bool,
        "atoi": atoi,
        "seq": seq,
        "add": add,
        "sub": sub,
        "mul": mul,
        "div": div,
        "mod": mod,
        "reverse": reverse,
        "sortByLength": sort_by_length,
        "sortKVByLength": sort_kv_by_length,
    }
