"""Go text/template built-ins that Jinja has no direct equivalent for: printf, index, len.

Jinja has operators for `and`/`or`/`eq`/..., but ported templates call `printf`, `index` and `len`
as functions, and rely on their Go semantics: `index` on a missing map key gives the zero value
instead of failing, `len` of a string counts bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions.gofmt import sprintf
from pygen.functions.values import as_str, go_type_name, is_list, is_struct, nil


def printf(format_string: Any, *args: Any) -> str:
    """fmt.Sprintf (see gofmt.sprintf for the supported verbs)."""
    return sprintf(as_str("printf", "format", format_string), *args)


def _zero_value(mapping: Mapping[Any, Any]) -> Any:
    """The zero value of the map's element type: "" for string maps (Env, Labels), else nil.

    Python maps carry no element type, so a map whose values are all strings (or that is empty, as
    the context's string maps often are) is taken to be a map[string]string.
    """
    return "" if all(isinstance(v, str) for v in mapping.values()) else None


def index(item: Any, *indexes: Any) -> Any:
    """`index x 1 2` is x[1][2]; a missing map key gives the zero value, a bad list index an error."""
    item = nil(item)
    if item is None:
        raise TemplateFunctionError("index of untyped nil")
    for key in indexes:
        key = nil(key)
        item = nil(item)
        if item is None:
            raise TemplateFunctionError("index of nil pointer")
        if isinstance(item, Mapping):
            item = item[key] if key in item else _zero_value(item)
        elif is_list(item) or isinstance(item, str):
            sequence = item.encode("utf-8", "surrogateescape") if isinstance(item, str) else item
            if key is None:
                raise TemplateFunctionError("cannot index slice/array with nil")
            if not isinstance(key, int) or isinstance(key, bool):
                raise TemplateFunctionError(f"cannot index slice/array with type {go_type_name(key)}")
            if key < 0 or key >= len(sequence):
                raise TemplateFunctionError(f"index out of range: {key}")
            item = sequence[key]
        else:
            raise TemplateFunctionError(f"can't index item of type {go_type_name(item)}")
    return item


def length(item: Any) -> int:
    """Go's len: elements of a list or map, bytes of a string. Go-nil counts as 0 (Go would fail)."""
    item = nil(item)
    if item is None:
        return 0
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogateescape"))
    if is_list(item) or isinstance(item, (Mapping, bytes, bytearray, set, frozenset)):
        return len(item)
    if is_struct(item) or not hasattr(item, "__len__"):
        raise TemplateFunctionError(f"len of type {go_type_name(item)}")
    return len(item)
