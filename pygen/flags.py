"""Go ``flag``-package command-line parsing, shared by pygen and etcd-gen.

docker-gen users paste command lines such as ``-notify-sighup nginx -watch -wait 500ms:2s``.
Go's rules differ from argparse's: ``-x`` and ``--x`` are the same flag, a bool never consumes the
next argument but takes ``-x=false``, a flag may repeat, and parsing stops at the first positional
argument. This module implements exactly those rules, with usage text in the same spirit.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pygen.errors import UsageError

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_go_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"invalid boolean {text!r}")


_GO_INT = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?[0-7])+|[1-9](?:_?[0-9])*|0)"
)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def parse_go_int(text: str) -> int:
    """Go's ``strconv.ParseInt(s, 0, 64)`` as used by ``flag.Int``: 0x, 0o, 0b and a bare leading 0
    (octal) as prefixes, underscores between digits, ASCII only, no blanks, within int64."""
    if not _GO_INT.fullmatch(text):
        raise ValueError(f"invalid integer {text!r}")
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    digits = digits.replace("_", "")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        value = int(digits, 8)  # Go's legacy octal, which Python's int(s, 0) refuses
    else:
        value = int(digits, 0)
    value *= sign
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"integer {text!r} out of range")
    return value


@dataclass(slots=True)
class Flag:
    """One flag: ``kind`` is bool, string, int or list (repeatable string)."""

    name: str
    kind: str
    default: Any
    help: str
    metavar: str = "value"
    convert: Callable[[str], Any] | None = None


@dataclass(slots=True)
class ParsedArgs:
    """Flag values by flag name (dashes kept) plus the positional arguments."""

    values: dict[str, Any]
    positional: list[str]
    given: set[str] = field(default_factory=set)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def was_given(self, name: str) -> bool:
        """True when the flag appeared on the command line (Go's ``flag.Visit``)."""
        return name in self.given


class FlagSet:
    """A set of Go-style flags for one program."""

    def __init__(self, program: str, synopsis: str, description: str = "") -> None:
        self.program = program
        self.synopsis = synopsis
        self.description = description
        self._flags: dict[str, Flag] = {}

    def bool(self, name: str, help: str, default: bool = False) -> None:
        self._flags[name] = Flag(name, "bool", default, help)

    def string(self, name: str, help: str, default: str = "", metavar: str = "string",
               convert: Callable[[str], Any] | None = None) -> None:
        self._flags[name] = Flag(name, "string", default, help, metavar, convert)

    def int(self, name: str, help: str, default: int = 0, metavar: str = "int") -> None:
        self._flags[name] = Flag(name, "int", default, help, metavar, parse_go_int)

    def list(self, name: str, help: str, metavar: str = "value") -> None:
        self._flags[name] = Flag(name, "list", None, help, metavar)

    def usage(self) -> str:
        lines = [f"Usage: {self.program} {self.synopsis}"]
        if self.description:
            lines.append("")
            lines.append(self.description)
        lines.append("")
        lines.append("Options:")
        for flag in sorted(self._flags.values(), key=lambda f: f.name):
            head = f"  -{flag.name}" if flag.kind == "bool" else f"  -{flag.name} {flag.metavar}"
            lines.append(head)
            text = flag.help
            if flag.kind not in ("bool", "list") and flag.default not in ("", None, 0):
                text += f" (default {flag.default!r})"
            lines.append(f"    \t{text}")
        return "\n".join(lines) + "\n"

    def parse(self, argv: Sequence[str]) -> ParsedArgs:
        """Parse ``argv`` (without the program name); raise UsageError on a bad flag or value."""
        values: dict[str, Any] = {
            f.name: ([] if f.kind == "list" else f.default) for f in self._flags.values()
        }
        given: set[str] = set()
        args = list(argv)
        index = 0
        while index < len(args):
            arg = args[index]
            if len(arg) < 2 or arg[0] != "-":
                break
            if arg == "--":
                index += 1
                break
            name = arg[2:] if arg.startswith("--") else arg[1:]
            if not name or name[0] in "-=":
                raise UsageError(f"bad flag syntax: {arg}")
            explicit: str | None = None
            if "=" in name:
                name, explicit = name.split("=", 1)
            if name in ("h", "help"):
                sys.stdout.write(self.usage())
                raise SystemExit(0)
            flag = self._flags.get(name)
            if flag is None:
                raise UsageError(f"flag provided but not defined: -{name}")
            index += 1
            if flag.kind == "bool":
                raw = "true" if explicit is None else explicit
                try:
                    values[name] = parse_go_bool(raw)
                except ValueError:
                    raise UsageError(
                        f'invalid boolean value "{raw}" for -{name}: parse error'
                    ) from None
                given.add(name)
                continue
            if explicit is None:
                if index >= len(args):
                    raise UsageError(f"flag needs an argument: -{name}")
                explicit = args[index]
                index += 1
            converter = flag.convert
            try:
                converted = converter(explicit) if converter else explicit
            except ValueError as error:
                raise UsageError(f'invalid value "{explicit}" for flag -{name}: {error}') from None
            if flag.kind == "list":
                values[name].append(converted)
            else:
                values[name] = converted
            given.add(name)
        return ParsedArgs(values, args[index:], given)
