"""Go RE2 patterns translated to Python `re`, for `whereLabelValueMatches`.

The patterns come from users' templates and label conventions written for Go. The differences that
matter in practice:

* Go accepts inline flags anywhere (`^(?i)bar$`); they apply to the rest of the enclosing group.
  Python 3.11 rejects global flags that are not at the start, so every `(?flags)` becomes a scoped
  group `(?flags:...)` that runs to the end of the enclosing group.
* `\\d \\w \\s \\b` are ASCII-only in Go; Python's match Unicode digits, letters and spaces.
* Without the `m` flag Go's `$` matches only at the very end; Python's also before a final newline.
* Go has `\\z`, `\\Q...\\E`, `\\x{10FFFF}`, `(?<name>...)`, POSIX classes `[[:alpha:]]` and
  `[[:^alpha:]]`, and the ungreedy flag `U` (each quantifier under it is flipped: `a+` is `a+?`).
* Python accepts lookarounds, back-references and possessive quantifiers (`a*+`), which Go
  rejects; they are rejected here too, so a pattern that works in pygen also works in docker-gen.
* Python's `re` has no Unicode classes: `\\pL`, `\\p{Lu}`, `\\PN` become ranges built from
  `unicodedata`'s general categories, and scripts (`\\p{Greek}`, `\\P{Han}`) ranges of the
  Unicode Script property, which the standard library lacks: they come from the `regex`
  package (imported on the first script class). It also takes a script's short alias
  (`Grek`) and any letter case, which Go refuses.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence

from pygen.errors import TemplateFunctionError

_CLASS_ESCAPES = {
    "d": "0-9",
    "w": "0-9A-Za-z_",
    "s": "\\t\\n\\f\\r ",
}
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_WORD = "[0-9A-Za-z_]"
_WORD_BOUNDARY = f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_NOT_WORD_BOUNDARY = f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"
_REPEAT_RE = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")
_FLAG_RE = re.compile(r"\(\?([imsU]*(?:-[imsU]*)?)(\)|:)")


def _error(pattern: str, detail: str) -> TemplateFunctionError:
    return TemplateFunctionError(f"error parsing regexp: {detail}: `{pattern}`")


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0
        self.out: list[str] = []
        # For each open group, how many scoped-flag groups were opened inside it and must close with it.
        self.pending: list[int] = [0]
        # For each open group, the flags in effect at this point of it that change how we translate:
        # m (Go's $ is the end of the text unless it is on; Python's $ also matches before a final
        # newline) and U (ungreedy: Python has no such flag, so each quantifier is flipped).
        self.modes: list[frozenset[str]] = [frozenset()]

    def run(self) -> str:
        p = self.pattern
        while self.pos < len(p):
            ch = p[self.pos]
            if ch == "\\":
                self.out.append(self._escape(in_class=False))
            elif ch == "[":
                self.out.append(self._char_class())
            elif ch == "(":
                self._open_group()
            elif ch == ")":
                if len(self.pending) == 1:
                    raise _error(p, "unexpected )")
                self.out.append(")" * self.pending.pop() + ")")
                self.modes.pop()
                self.pos += 1
            elif ch == "$" and "m" not in self.modes[-1]:
                self.out.append("\\Z")
                self.pos += 1
            elif ch in "*+?" or (ch == "{" and _REPEAT_RE.match(p, self.pos)):
                self.out.append(self._quantifier())
            else:
                self.out.append(ch)
                self.pos += 1
        if len(self.pending) != 1:
            raise _error(p, "missing closing )")
        self.out.append(")" * self.pending[0])
        return "".join(self.out)

    def _open_group(self) -> None:
        p = self.pattern
        rest = p[self.pos :]
        flags = _FLAG_RE.match(rest)
        if flags and flags.group(1):
            if flags.group(1).endswith("-"):
                raise _error(p, f"missing argument to repetition operator: `{flags.group(0)}`")
            turned_on, _, turned_off = flags.group(1).partition("-")
            modes = (self.modes[-1] | set(turned_on)) - set(turned_off)
            python_on, python_off = turned_on.replace("U", ""), turned_off.replace("U", "")
            self.out.append(f"(?{python_on}{'-' + python_off if python_off else ''}:")
            self.pos += flags.end()
            if flags.group(2) == ")":
                self.pending[-1] += 1  # applies to the rest of the enclosing group
                self.modes[-1] = modes
            else:
                self.pending.append(0)
                self.modes.append(modes)
            return
        for prefix in ("(?=", "(?!", "(?<=", "(?<!", "(?#", "(?P="):
            if rest.startswith(prefix):
                raise _error(p, f"invalid or unsupported Perl syntax: `{prefix}`")
        if rest.startswith("(?:"):
            self.out.append("(?:")
            self.pos += 3
        elif rest.startswith(("(?P<", "(?<")):  # Go accepts both spellings of a named group
            self.out.append("(?P<")
            self.pos += 4 if rest.startswith("(?P<") else 3
        elif rest.startswith("(?"):
            raise _error(p, f"invalid or unsupported Perl syntax: `{rest[:3]}`")
        else:
            self.out.append("(")
            self.pos += 1
        self.pending.append(0)
        self.modes.append(self.modes[-1])

    def _quantifier(self) -> str:
        """``*``, ``+``, ``?`` or ``{n,m}``, lazy with a ``?`` after it; the U flag swaps the two."""
        p = self.pattern
        repeat = _REPEAT_RE.match(p, self.pos)
        quantifier = repeat.group(0) if p[self.pos] == "{" and repeat else p[self.pos]
        self.pos += len(quantifier)
        lazy = p.startswith("?", self.pos)
        self.pos += lazy
        if self.pos < len(p) and (p[self.pos] in "*+?" or _REPEAT_RE.match(p, self.pos)):
            raise _error(p, f"invalid nested repetition operator: `{quantifier}{'?' if lazy else ''}{p[self.pos]}`")
        if "U" in self.modes[-1]:
            lazy = not lazy
        return quantifier + ("?" if lazy else "")

    def _escape(self, in_class: bool) -> str:
        p = self.pattern
        if self.pos + 1 >= len(p):
            raise _error(p, "trailing backslash at end of expression")
        c = p[self.pos + 1]
        self.pos += 2
        if c in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[c] if in_class else f"[{_CLASS_ESCAPES[c]}]"
        if c.lower() in _CLASS_ESCAPES and c.isupper():
            if in_class:
                return "\\" + c  # a negated class inside a class: Python's own meaning is close enough
            return f"[^{_CLASS_ESCAPES[c.lower()]}]"
        if c == "z" and not in_class:
            return "\\Z"
        if c in "bB" and not in_class:  # Go's word boundary is between ASCII word characters
            return _WORD_BOUNDARY if c == "b" else _NOT_WORD_BOUNDARY
        if c == "Q" and not in_class:
            end = p.find("\\E", self.pos)
            literal = p[self.pos :] if end < 0 else p[self.pos : end]
            self.pos = len(p) if end < 0 else end + 2
            return re.escape(literal)
        if c == "x" and self.pos < len(p) and p[self.pos] == "{":
            end = p.find("}", self.pos)
            if end < 0:
                raise _error(p, "invalid escape sequence: `\\x{`")
            code = int(p[self.pos + 1 : end] or "0", 16)
            self.pos = end + 1
            return re.escape(chr(code))
        if c.isdigit() and c != "0":
            raise _error(p, f"invalid escape sequence: `\\{c}`")
        if c in "pP":
            return self._unicode_class(negated=c == "P", in_class=in_class)
        return "\\" + c

    def _unicode_class(self, negated: bool, in_class: bool) -> str:
        """``\\pL``, ``\\p{Lu}``, ``\\p{^Lu}``, ``\\PL``: a Unicode general category as ranges."""
        p = self.pattern
        if p.startswith("{", self.pos):
            end = p.find("}", self.pos)
            if end < 0:
                raise _error(p, f"invalid character class range: `{p[self.pos - 2:]}`")
            name, self.pos = p[self.pos + 1:end], end + 1
        elif self.pos < len(p):
            name, self.pos = p[self.pos], self.pos + 1
        else:
            raise _error(p, "invalid character class range: `\\p`")
        if name.startswith("^"):
            negated, name = not negated, name[1:]
        if name in _GO_CATEGORIES:
            ranges = unicode_category_ranges(name)
        else:
            ranges = unicode_script_ranges(name)
            if ranges is None:
                raise _error(p, f"invalid character class range: `\\p{{{name}}}`")
        if not negated:
            return ranges if in_class else f"[{ranges}]"
        if in_class:
            raise _error(p, f"a negated Unicode class inside brackets is not supported by pygen: `{p}`")
        return f"[^{ranges}]"

    def _char_class(self) -> str:
        p = self.pattern
        out = ["["]
        self.pos += 1
        if self.pos < len(p) and p[self.pos] == "^":
            out.append("^")
            self.pos += 1
        first = True
        while self.pos < len(p):
            ch = p[self.pos]
            if ch == "]" and not first:
                self.pos += 1
                out.append("]")
                return "".join(out)
            first = False
            if ch == "\\":
                out.append(self._escape(in_class=True))
            elif p.startswith("[:", self.pos):
                end = p.find(":]", self.pos + 2)
                name = p[self.pos + 2 : end] if end > 0 else ""
                negated = name.startswith("^")
                if name.removeprefix("^") not in _POSIX_CLASSES:
                    raise _error(p, f"invalid character class range: `{p[self.pos:end + 2]}`")
                after = self.pos + len(name) + 4
                if negated and (len(out) > 1 or p[after:after + 1] != "]"):
                    raise _error(p, f"`[:{name}:]` is supported by pygen only as a class of its own: `[[:{name}:]]`")
                out.append(("^" if negated else "") + _POSIX_CLASSES[name.removeprefix("^")])
                self.pos = end + 2
            elif ch in "[&~|]":
                out.append("\\" + ch)  # literal in Go; avoids Python's nested-set warnings
                self.pos += 1
            else:
                out.append(ch)
                self.pos += 1
        raise _error(p, f"missing closing ]: `{p[p.rfind('['):]}`")


_GO_CATEGORIES = frozenset({  # Go's unicode.Categories, and Any
    "Any", "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd",
    "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
})


@functools.cache
def _code_point_runs() -> list[tuple[int, int, str]]:
    """Every code point in runs of one general category: (first, last, category). One pass over
    Unicode, about 0.3 s, made on the first use of a Unicode class and kept."""
    runs: list[tuple[int, int, str]] = []
    first, current = 0, unicodedata.category("\0")
    for code in range(1, sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category != current:
            runs.append((first, code - 1, current))
            first, current = code, category
    runs.append((first, sys.maxunicode, current))
    return runs


@functools.cache
def unicode_category_ranges(name: str) -> str:
    """A Go Unicode class as the inside of a Python character class: ``\\U...-\\U...`` ranges.

    Python's ``re`` has no ``\\p``; ``unicodedata`` has the categories. One letter is the whole
    group (``L`` = ``Lu Ll Lt Lm Lo``; ``C`` leaves out unassigned code points, as Go's does).
    """
    def wanted(category: str) -> bool:
        if name == "Any":
            return True
        return category != "Cn" and category.startswith(name) if len(name) == 1 else category == name

    merged: list[list[int]] = []
    for first, last, category in _code_point_runs():
        if wanted(category):
            if merged and merged[-1][1] == first - 1:
                merged[-1][1] = last
            else:
                merged.append([first, last])
    return _class_ranges(merged)


def _class_ranges(runs: Iterable[Sequence[int]]) -> str:
    """Runs of code points (first, last) as the inside of a Python character class."""
    return "".join(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"
                   for first, last in runs)


@functools.cache
def unicode_script_ranges(name: str) -> str | None:
    """A Unicode script (Go's ``unicode.Scripts``: the Script property, not Script_Extensions) as
    the inside of a Python character class, or None for a name that is no script. Each new
    name costs 0.2 s: its matches in a string of every code point, each at its own index, are
    its runs. That string (4 MiB) is not kept: a daemon would carry it for one pattern."""
    import regex  # the Unicode Script data; the standard library has none

    try:
        script = regex.compile(rf"\p{{Script={name}}}+")
    except regex.error:
        return None
    every_code_point = "".join(map(chr, range(sys.maxunicode + 1)))
    return _class_ranges((match.start(), match.end() - 1) for match in script.finditer(every_code_point))


@functools.lru_cache(maxsize=256)
def compile_go_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Go RE2 pattern; an invalid one raises TemplateFunctionError (as Go's Compile errs)."""
    translated = _Translator(pattern).run()
    try:
        return re.compile(translated)
    except re.error as exc:
        raise _error(pattern, str(exc)) from None
