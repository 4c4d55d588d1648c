"""YAML the way docker-gen's `fromYaml`/`toYaml` see it: gopkg.in/yaml.v3 (v3.0.1).

Decoding uses PyYAML's parser with yaml.v3's scalar resolution instead of YAML 1.1's: `yes`/`on`
stay strings, `012` is octal, `1e3` is a float, timestamps stay strings, duplicate keys are errors.

Encoding is a small emitter written for this purpose, because yaml.v3's layout is not reachable
through PyYAML's Dumper: yaml.v3 indents by 4, puts sequences *under* their key
(`list:\\n    - foo`), lays out items inside a sequence 2 columns after the dash, sorts map keys
"naturally" (`a2` before `a10`), never folds long lines, and quotes strings that an old YAML 1.1
reader would mistake for booleans or sexagesimal numbers. Generated files are diffed against
docker-gen's output, so the exact text matters.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar

import yaml
from jinja2 import Undefined

from pygen.errors import TemplateFunctionError
from pygen.functions.gostrings import INT64_MAX, INT64_MIN

_UINT64_MAX = (1 << 64) - 1
_PLAIN_TAG = "tag:pygen:go-plain"

# ----------------------------------------------------------------------------- scalar resolution

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})
_SPECIAL_FLOATS = {
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}
_GO_INT_RE = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)")
_YAML_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_BASE60_RE = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_OLD_BOOLS = frozenset(
    {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"}
)
_TIMESTAMP_RES = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})"),
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?"),
)


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, ...) without the range check: 0x, 0o, 0b and legacy 0-octal."""
    if not _GO_INT_RE.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1].isdigit():
        try:
            return sign * int(body, 8)
        except ValueError:
            return None
    return sign * int(body, 0)


def _is_timestamp(text: str) -> bool:
    for pattern in _TIMESTAMP_RES:
        match = pattern.fullmatch(text)
        if match:
            parts = [int(p) for p in match.groups()]
            try:
                _dt.datetime(*parts[:3])
            except ValueError:
                return False
            return len(parts) == 3 or (parts[3] < 24 and parts[4] < 60 and parts[5] < 60)
    return False


_NOT_RESOLVED = object()


def _resolve_number(text: str) -> Any:
    plain = text.replace("_", "")
    value = _go_parse_int(plain)
    if value is not None:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        if 0 <= value <= _UINT64_MAX and plain[0] not in "+-":
            return value
    if _YAML_FLOAT_RE.fullmatch(plain):
        number = float(plain)
        if not math.isinf(number):
            return number
    return _NOT_RESOLVED


def resolve_plain(text: str) -> Any:
    """The value of an untagged plain scalar as yaml.v3 decodes it into interface{}."""
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    if text[:1] in "+-.0123456789":
        number = _resolve_number(text)
        if number is not _NOT_RESOLVED:
            return number
    return text


def _plain_is_string(text: str) -> bool:
    """Whether `text` written unquoted reads back as the same string (yaml.v3's canUsePlain)."""
    if text in _NULLS or text in _TRUES or text in _FALSES or text in _SPECIAL_FLOATS or text == "<<":
        return False
    if text[:1] in "+-.0123456789" and _resolve_number(text) is not _NOT_RESOLVED:
        return False
    return not (_is_timestamp(text) or _BASE60_RE.fullmatch(text) or text in _OLD_BOOLS)


# ----------------------------------------------------------------------------- decoding


class _GoYamlLoader(yaml.SafeLoader):
    """SafeLoader with yaml.v3's implicit typing and duplicate-key errors."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"mapping key {key!r} already defined at line {seen[key] + 1}",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line
            except TypeError:
                pass  # unhashable keys are reported by the base constructor
        return super().construct_mapping(node, deep=deep)


def _construct_plain(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    return resolve_plain(loader.construct_scalar(node))


def _construct_unknown(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """yaml.v3 ignores tags it does not know and decodes the node by its kind."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_GoYamlLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_GoYamlLoader.add_implicit_resolver(_PLAIN_TAG, re.compile(r".*", re.DOTALL), None)
_GoYamlLoader.add_constructor(_PLAIN_TAG, _construct_plain)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:binary", lambda loader, node: _construct_binary(loader, node))
_GoYamlLoader.add_constructor(None, _construct_unknown)


def _construct_binary(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    """yaml.v3 decodes !!binary into a string when the target is interface{}."""
    data = yaml.SafeLoader.construct_yaml_binary(loader, node)
    return data.decode("utf-8", "replace")


def load_yaml(text: str) -> Any:
    """Decode the first YAML document like yaml.v3's Unmarshal into interface{}; "" gives None."""
    try:
        for document in yaml.load_all(text, Loader=_GoYamlLoader):
            return document
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise TemplateFunctionError(f"yaml: {where}{problem}") from None


# ----------------------------------------------------------------------------- key order


def _is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _string_key_less(a: str, b: str) -> bool:
    """yaml.v3's natural order for string keys: digit runs compare numerically ("a2" < "a10")."""
    digits = False
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            digits = _is_digit(a[i])
            continue
        al, bl = _is_letter(a[i]), _is_letter(b[i])
        if al and bl:
            return a[i] < b[i]
        if al or bl:
            return al if digits else bl
        an = bn = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and _is_digit(a[j]):
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and _is_digit(a[ai]):
            an = an * 10 + (ord(a[ai]) - 48)
            ai += 1
        bi = i
        while bi < len(b) and _is_digit(b[bi]):
            bn = bn * 10 + (ord(b[bi]) - 48)
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _kind_rank(value: Any) -> int:
    """reflect.Kind numbers Go compares when key kinds differ (bool < int < float64 < string)."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 2
    if isinstance(value, float):
        return 14
    if value is None:
        return 20
    if isinstance(value, str):
        return 24
    return 25


def _key_compare(a: Any, b: Any) -> int:
    ak, bk = _kind_rank(a), _kind_rank(b)
    if ak in (1, 2, 14) and bk in (1, 2, 14):
        af, bf = float(a), float(b)
        if af != bf:
            return -1 if af < bf else 1
        if ak != bk:
            return -1 if ak < bk else 1
        return (a > b) - (a < b)
    if ak != 24 or bk != 24:
        if ak != bk:
            return -1 if ak < bk else 1
        return (repr(a) > repr(b)) - (repr(a) < repr(b))
    if _string_key_less(a, b):
        return -1
    if _string_key_less(b, a):
        return 1
    return 0


def sorted_yaml_keys(keys: list[Any]) -> list[Any]:
    """Map keys in the order yaml.v3 writes them."""
    return sorted(keys, key=functools.cmp_to_key(_key_compare))


# ----------------------------------------------------------------------------- encoding


class _Plain(str):
    """Text that is written unquoted whatever it looks like (numbers, timestamps)."""


def _printable(ch: str) -> bool:
    code = ord(ch)
    return (
        code == 0x0A
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


_BREAKS = frozenset("\r\n\x85\u2028\u2029")


@dataclasses.dataclass
class _Analysis:
    multiline: bool = False
    block_plain_allowed: bool = True
    single_quoted_allowed: bool = True
    block_allowed: bool = True
    empty: bool = False


def _analyze(value: str) -> _Analysis:
    """yaml.v3's yaml_emitter_analyze_scalar (block context; flow is never used for scalars here)."""
    if value == "":
        return _Analysis(block_plain_allowed=True, single_quoted_allowed=True, block_allowed=False, empty=True)
    block_indicators = line_breaks = special = tabs = False
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = previous_space = previous_break = False
    if value.startswith(("---", "...")):
        block_indicators = True
    preceded_by_whitespace = True
    last = len(value) - 1
    for i, ch in enumerate(value):
        followed_by_whitespace = i == last or value[i + 1] in " \t"
        if i == 0:
            indicator = ch in "#,[]{}&*!|>'\"%@`" or (ch in "?:-" and followed_by_whitespace)
        else:
            indicator = (ch == ":" and followed_by_whitespace) or (ch == "#" and preceded_by_whitespace)
        block_indicators = block_indicators or indicator
        if ch == "\t":
            tabs = True
        elif not _printable(ch):
            special = True
        if ch == " ":
            leading_space = leading_space or i == 0
            trailing_space = trailing_space or i == last
            break_space = break_space or previous_break
            previous_space, previous_break = True, False
        elif ch in _BREAKS:
            line_breaks = True
            leading_break = leading_break or i == 0
            trailing_break = trailing_break or i == last
            space_break = space_break or previous_space
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_whitespace = ch in " \t" or ch in _BREAKS
    result = _Analysis(multiline=line_breaks)
    if leading_space or leading_break or trailing_space or trailing_break:
        result.block_plain_allowed = False
    if trailing_space:
        result.block_allowed = False
    if break_space:
        result.block_plain_allowed = result.single_quoted_allowed = False
    if space_break or tabs or special:
        result.block_plain_allowed = result.single_quoted_allowed = False
    if space_break or special:
        result.block_allowed = False
    if line_breaks or block_indicators:
        result.block_plain_allowed = False
    return result


_DOUBLE_ESCAPES = {
    0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r",
    0x1B: "e", 0x22: '"', 0x5C: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P",
}


def _double_quoted(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if not _printable(ch) or code == 0xFEFF or ch in _BREAKS or ch in '"\\':
            if code in _DOUBLE_ESCAPES:
                out.append("\\" + _DOUBLE_ESCAPES[code])
            elif code <= 0xFF:
                out.append(f"\\x{code:02X}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04X}")
            else:
                out.append(f"\\U{code:08X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class _Writer:
    """The parts of yaml.v3's emitter state that decide spaces and line breaks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.parts.append("\n")
        self.column = 0
        self.indention = True

    def write_indent(self, indent: int) -> None:
        indent = max(indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.put_break()
        if self.column < indent:
            self.write(" " * (indent - self.column))
        self.whitespace = True

    def write_indicator(self, indicator: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) -> None:
        if need_whitespace and not self.whitespace:
            self.write(" ")
        self.write(indicator)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention


_SEQ_ITEM = "seq_item"
_MAP_VALUE = "map_value"
_ROOT = "root"


def _increase(parent: int, context: str, flow: bool = False) -> int:
    """yaml.v3's increase_indent: 2 past a dash inside a sequence, else the next multiple of 4."""
    if parent < 0:
        return 4 if flow else 0
    if context == _SEQ_ITEM:
        return parent + 2
    return 4 * ((parent + 4) // 4)


class _Encoder:
    def __init__(self) -> None:
        self.out = _Writer()
        self.active: set[int] = set()

    # -- value normalisation (what yaml.v3's reflection sees)
    def _normalise(self, value: Any) -> Any:
        if isinstance(value, Undefined):
            return None
        if hasattr(value, "go_json_value") and callable(value.go_json_value):
            inner = value.go_json_value()
            return _Plain(inner) if isinstance(inner, str) else self._normalise(inner)
        if isinstance(value, _dt.datetime):
            text = value.isoformat()
            if value.utcoffset() == _dt.timedelta(0):
                text = text[: -len("+00:00")] + "Z"
            return _Plain(text)
        return value

    def node(self, value: Any, parent: int, context: str) -> None:
        value = self._normalise(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            pairs = [
                (f.name.lower(), getattr(value, f.name))
                for f in dataclasses.fields(value)
                if not f.name.startswith("_")
            ]
            self._container(value, lambda: self._mapping(pairs, parent, context), bool(pairs), "{}")
        elif isinstance(value, Mapping):
            pairs = [(k, value[k]) for k in sorted_yaml_keys(list(value))]
            self._container(value, lambda: self._mapping(pairs, parent, context), bool(pairs), "{}")
        elif isinstance(value, (list, tuple)):
            self._container(value, lambda: self._sequence(list(value), parent, context), bool(value), "[]")
        else:
            self._scalar(value, _increase(parent, context, flow=True), simple_key=False)

    def _container(self, value: Any, emit: Any, non_empty: bool, empty_text: str) -> None:
        if not non_empty:
            self.out.write_indicator(empty_text[0], True, True, False)
            self.out.write_indicator(empty_text[1], False, False, False)
            return
        marker = id(value)
        if marker in self.active:
            raise TemplateFunctionError("yaml: cannot marshal a cyclic value")
        self.active.add(marker)
        try:
            emit()
        finally:
            self.active.discard(marker)

    def _mapping(self, pairs: list[tuple[Any, Any]], parent: int, context: str) -> None:
        indent = _increase(parent, context)
        for key, item in pairs:
            self.out.write_indent(indent)
            self._scalar(self._normalise(key), indent, simple_key=True)
            self.out.write_indicator(":", False, False, False)
            self.node(item, indent, _MAP_VALUE)

    def _sequence(self, items: list[Any], parent: int, context: str) -> None:
        indent = _increase(parent, context)
        for item in items:
            self.out.write_indent(indent)
            self.out.write_indicator("-", True, False, True)
            self.node(item, indent, _SEQ_ITEM)

    # -- scalars
    def _scalar(self, value: Any, indent: int, simple_key: bool) -> None:
        if value is None:
            self._plain("null")
        elif isinstance(value, _Plain):
            self._plain(str(value))
        elif isinstance(value, bool):
            self._plain("true" if value else "false")
        elif isinstance(value, int):
            self._plain(str(value))
        elif isinstance(value, float):
            self._plain(_format_float(value))
        elif isinstance(value, (bytes, bytearray)):
            self._string(bytes(value).decode("utf-8", "replace"), indent, simple_key)
        else:
            self._string(str(value), indent, simple_key)

    def _plain(self, text: str) -> None:
        if text and not self.out.whitespace:
            self.out.write(" ")
        self.out.write(text)
        if text:
            self.out.whitespace = False
        self.out.indention = False

    def _string(self, text: str, indent: int, simple_key: bool) -> None:
        analysis = _analyze(text)
        if "\n" in text:
            style = "|"
        elif _plain_is_string(text):
            style = ""
        else:
            style = '"'
        if simple_key and analysis.multiline:
            style = '"'
        if style == "" and (not analysis.block_plain_allowed or (analysis.empty and simple_key)):
            style = "'"
        if style == "'" and not analysis.single_quoted_allowed:
            style = '"'
        if style == "|" and (not analysis.block_allowed or simple_key):
            style = '"'
        if style == "":
            self._plain(text)
        elif style == "'":
            self.out.write_indicator("'", True, False, False)
            self.out.write(text.replace("'", "''"))
            self.out.write_indicator("'", False, False, False)
            self.out.whitespace = self.out.indention = False
        elif style == '"':
            self.out.write_indicator('"', True, False, False)
            self.out.write(_double_quoted(text)[1:-1])
            self.out.write_indicator('"', False, False, False)
            self.out.whitespace = self.out.indention = False
        else:
            self._literal(text, indent)

    def _literal(self, text: str, indent: int) -> None:
        out = self.out
        out.write_indicator("|", True, False, False)
        if text[:1] == " " or text[:1] in _BREAKS:
            out.write_indicator("4", False, False, False)
        if text[-1:] not in _BREAKS:
            out.write_indicator("-", False, False, False)
        elif len(text) == 1 or text[-2] in _BREAKS:
            out.write_indicator("+", False, False, False)
        out.put_break()
        out.whitespace = True
        breaks = True
        for ch in text:
            if ch in _BREAKS:
                out.put_break()
                breaks = True
            else:
                if breaks:
                    out.write_indent(indent)
                out.write(ch)
                out.indention = False
                breaks = False


def _format_float(value: float) -> str:
    from pygen.functions.gofmt import format_float_g

    text = format_float_g(value)
    return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)


def dump_yaml(value: Any) -> str:
    """Encode like yaml.v3's Marshal: block style, 4-space indent, a final newline."""
    encoder = _Encoder()
    encoder.node(value, -1, _ROOT)
    encoder.out.write_indent(0)
    text = "".join(encoder.out.parts)
    return text if text.endswith("\n") else text + "\n"
