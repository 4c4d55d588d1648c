"""Go's `strings`, `strconv` and `path` behaviour where Python's look-alikes differ.

Each helper exists because the Python built-in gives a different answer on some input templates
really use: `"".split(",")` and `s.split("")`, `str.strip()` (strips U+001C..U+001F, Go does not),
`str.upper()` ("ß" -> "SS"), `int()` (accepts "1_000" and " 5"), `os.path.dirname` ("a" -> "").
"""

from __future__ import annotations

import re

from pygen.errors import TemplateFunctionError

# unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property. Deliberately not
# str.isspace(), which also counts U+001C..U+001F.
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

_DECIMAL_RE = re.compile(r"[+-]?[0-9]+")


def trim_space(s: str) -> str:
    """strings.TrimSpace: strip Unicode white space (Go's definition) from both ends."""
    start, end = 0, len(s)
    while start < end and s[start] in GO_SPACE:
        start += 1
    while end > start and s[end - 1] in GO_SPACE:
        end -= 1
    return s[start:end]


def split(s: str, sep: str) -> list[str]:
    """strings.Split: an empty separator splits into characters; "" splits into [""]."""
    if sep == "":
        return list(s)
    return s.split(sep)


def split_n(s: str, sep: str, n: int) -> list[str]:
    """strings.SplitN: n == 0 gives [], n < 0 all pieces, n > 0 at most n (last keeps the rest)."""
    if n == 0:
        return []
    if n < 0:
        return split(s, sep)
    if sep == "":
        chars = list(s)
        if len(chars) <= n:
            return chars
        return [*chars[: n - 1], "".join(chars[n - 1 :])]
    return s.split(sep, n - 1)


def replace(s: str, old: str, new: str, n: int) -> str:
    """strings.Replace: n < 0 replaces all; an empty `old` inserts around every character."""
    if n < 0:
        return s.replace(old, new)
    return s.replace(old, new, n)


# Python's str.upper()/lower() apply full (multi-character) case mappings; Go maps rune by rune
# with the simple mappings. U+0130 is the one lowercase mapping whose simple form Python hides.
_SIMPLE_LOWER_OVERRIDES = {"\u0130": "i"}


def to_lower(s: str) -> str:
    """strings.ToLower: per-rune simple case mapping."""
    out = []
    for ch in s:
        mapped = ch.lower()
        out.append(mapped if len(mapped) == 1 else _SIMPLE_LOWER_OVERRIDES.get(ch, ch))
    return "".join(out)


def to_upper(s: str) -> str:
    """strings.ToUpper: per-rune simple case mapping ("ß" stays "ß", unlike Python's "SS").

    Where the full upper case has several characters, the simple one, when there is one, is the
    title case: the Greek letters with iota subscript ("ᾳ" -> "ᾼ"), 54 runes in all.
    """
    out = []
    for ch in s:
        mapped = ch.upper()
        if len(mapped) != 1:
            title = ch.title()
            mapped = title if len(title) == 1 else ch
        out.append(mapped)
    return "".join(out)


def quote(s: str) -> str:
    """strconv.Quote (the `%q` verb): Go escapes, printable Unicode kept as is."""
    out = ['"']
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in escapes:
            out.append(escapes[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def parse_int64(s: str) -> int | None:
    """strconv.ParseInt(s, 10, 64): optional sign, ASCII digits only, in int64 range; else None.

    Plain ASCII digits, the usual input (ports, indexes), skip the regex: sortObjectsByKeys*
    parses both keys of every comparison, mustBeIntInRange every value.
    """
    if not (s.isascii() and s.isdigit()) and not _DECIMAL_RE.fullmatch(s):
        return None
    value = int(s)
    if value < INT64_MIN or value > INT64_MAX:
        return None
    return value


def atoi(s: str) -> int:
    """strconv.Atoi with Go's error texts."""
    if not _DECIMAL_RE.fullmatch(s):
        raise TemplateFunctionError(f"strconv.Atoi: parsing {quote(s)}: invalid syntax")
    value = int(s)
    if value < INT64_MIN or value > INT64_MAX:
        raise TemplateFunctionError(f"strconv.Atoi: parsing {quote(s)}: value out of range")
    return value


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(s: str) -> bool:
    """strconv.ParseBool: exactly the twelve spellings Go accepts."""
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise TemplateFunctionError(f"strconv.ParseBool: parsing {quote(s)}: invalid syntax")


def path_clean(p: str) -> str:
    """path.Clean: lexical cleanup of a slash-separated path ("" -> ".")."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for segment in p.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(segment)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def path_base(p: str) -> str:
    """path.Base: last element, trailing slashes ignored; "" -> ".", "/" -> "/"."""
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p[p.rfind("/") + 1 :]


def path_dir(p: str) -> str:
    """path.Dir: everything but the last element, cleaned ("a" -> ".", "/a" -> "/")."""
    return path_clean(p[: p.rfind("/") + 1])
