"""docker-gen's string functions: Go `strings`/`strconv`/`net/url` wrappers with Go's argument order.

Note the order: docker-gen's `split s sep` and `replace s old new n` take the string first, unlike
sprig's `sprigSplit sep s` (see sprig.py).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote_plus

from pygen.functions import gostrings
from pygen.functions.values import as_int, as_str


def split(s: Any, sep: Any) -> list[str]:
    """strings.Split(s, sep): `split "" ","` is [""], an empty sep splits into characters."""
    return gostrings.split(as_str("split", "s", s), as_str("split", "sep", sep))


def split_n(s: Any, sep: Any, n: Any) -> list[str]:
    """strings.SplitN(s, sep, n)."""
    return gostrings.split_n(as_str("splitN", "s", s), as_str("splitN", "sep", sep), as_int("splitN", "n", n))


def replace(s: Any, old: Any, new: Any, n: Any) -> str:
    """strings.Replace(s, old, new, n); n < 0 replaces every occurrence."""
    return gostrings.replace(
        as_str("replace", "s", s), as_str("replace", "old", old), as_str("replace", "new", new),
        as_int("replace", "n", n),
    )


def parse_bool(s: Any) -> bool:
    """strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False, anything else errors."""
    return gostrings.parse_bool(as_str("parseBool", "str", s))


def query_escape(s: Any) -> str:
    """url.QueryEscape: space becomes '+', unreserved ASCII kept, the rest %XX (uppercase)."""
    return quote_plus(as_str("queryEscape", "s", s), safe="")


def to_lower(s: Any) -> str:
    return gostrings.to_lower(as_str("toLower", "s", s))


def to_upper(s: Any) -> str:
    return gostrings.to_upper(as_str("toUpper", "s", s))


def comment(delimiter: Any, source: Any) -> str:
    """Prefix every line with `delimiter`, including the empty line after a trailing newline
    (Go's `(?m)^` replacement): "a\\nb\\n" -> "# a\\n# b\\n# "."""
    delimiter = as_str("comment", "delimiter", delimiter)
    return delimiter + as_str("comment", "source", source).replace("\n", "\n" + delimiter)


def sha1(s: Any) -> str:
    """Lowercase hex SHA-1 of the UTF-8 bytes (sprig's sha1sum)."""
    return hashlib.sha1(as_str("sha1", "input", s).encode("utf-8", "surrogateescape")).hexdigest()
