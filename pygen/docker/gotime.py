"""Timestamps with nanosecond precision, printed the way Go prints a ``time.Time``.

Docker reports times as RFC 3339 strings with nanoseconds (``2026-11-25T19:53:45.123456789Z``).
Python's ``datetime`` keeps only microseconds, so a template that prints ``.Created`` would lose
three digits and differ from docker-gen's output. ``GoTime`` keeps the exact integer nanoseconds since
the Unix epoch and renders:

* ``str()``          -> Go's ``time.Time.String()``: ``2006-01-02 15:04:05.999999999 +0000 UTC``
* ``go_json_value()`` -> Go's ``MarshalJSON``: RFC 3339 with nanoseconds, trailing zeros trimmed, ``Z``

Every value is normalised to UTC: docker-gen always sees Docker's ``Z`` strings, and an offset in the
input is converted rather than kept (Go would keep a fabricated fixed zone; no Docker API emits one).

A small subset of Go's ``time.Time`` methods (``Unix``, ``UnixNano``, ``IsZero``, ``Format`` with
Go layouts, ...) is provided because Go templates call them on ``.Created``.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

__all__ = ["GoTime", "parse_go_time"]

_NS_PER_SEC = 1_000_000_000
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
# Go's zero time.Time (January 1, year 1, 00:00:00 UTC) in Unix nanoseconds.
_ZERO_NS = (_dt.date(1, 1, 1).toordinal() - _EPOCH_ORDINAL) * 86400 * _NS_PER_SEC

_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _trimmed_fraction(nanos: int) -> str:
    """``.123`` for 123000000 ns, ``""`` for 0: Go's ``.999999999`` layout element."""
    if not nanos:
        return ""
    return "." + f"{nanos:09d}".rstrip("0")


class GoTime:
    """An instant in UTC with nanosecond precision, comparable, hashable and sortable.

    Immutable; construct with ``GoTime.parse(s)``, ``GoTime.from_unix_nanos(n)`` or ``GoTime.zero()``.
    """

    __slots__ = ("_ns",)

    def __init__(self, unix_nanos: int = _ZERO_NS) -> None:
        self._ns = int(unix_nanos)

    # ----------------------------------------------------------------- construction
    @classmethod
    def zero(cls) -> GoTime:
        """Go's zero ``time.Time``: ``0001-01-01 00:00:00 +0000 UTC``."""
        return cls(_ZERO_NS)

    @classmethod
    def from_unix_nanos(cls, unix_nanos: int) -> GoTime:
        return cls(unix_nanos)

    @classmethod
    def from_datetime(cls, value: _dt.datetime) -> GoTime:
        """Naive datetimes are taken as UTC (Docker never gives local times)."""
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        days = value.toordinal() - _EPOCH_ORDINAL
        secs = days * 86400 + value.hour * 3600 + value.minute * 60 + value.second
        return cls(secs * _NS_PER_SEC + value.microsecond * 1000)

    @classmethod
    def parse(cls, text: str) -> GoTime:
        """Parse an RFC 3339 timestamp (any number of fraction digits, ``Z`` or ``±hh:mm``).

        Fraction digits beyond nanoseconds are truncated, as Go does. Raises ``ValueError`` on a
        malformed string or an impossible date.
        """
        m = _RFC3339_RE.fullmatch(text.strip()) if text else None
        if m is None:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
        y, mo, d, h, mi, s, frac, _z, sign, oh, om = m.groups()
        hour, minute, second = int(h), int(mi), int(s)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"time out of range in {text!r}")
        days = _dt.date(int(y), int(mo), int(d)).toordinal() - _EPOCH_ORDINAL
        secs = days * 86400 + hour * 3600 + minute * 60 + second
        if sign is not None:
            offset = int(oh) * 3600 + int(om) * 60
            secs = secs - offset if sign == "+" else secs + offset
        nanos = int((frac[:9]).ljust(9, "0")) if frac else 0
        return cls(secs * _NS_PER_SEC + nanos)

    # ----------------------------------------------------------------- accessors
    @property
    def unix_nanos(self) -> int:
        return self._ns

    @property
    def nanosecond(self) -> int:
        """The fraction of the second, 0..999999999."""
        return self._ns % _NS_PER_SEC

    @property
    def datetime(self) -> _dt.datetime:
        """An aware UTC ``datetime`` (microseconds: the last three digits are truncated)."""
        secs, nanos = divmod(self._ns, _NS_PER_SEC)
        base = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
        return base + _dt.timedelta(seconds=secs, microseconds=nanos // 1000)

    def _naive(self) -> tuple[_dt.datetime, int]:
        secs, nanos = divmod(self._ns, _NS_PER_SEC)
        return _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=secs), nanos

    # ----------------------------------------------------------------- Go methods
    def Unix(self) -> int:
        return self._ns // _NS_PER_SEC

    def UnixNano(self) -> int:
        return self._ns

    def UnixMilli(self) -> int:
        return self._ns // 1_000_000

    def IsZero(self) -> bool:
        return self._ns == _ZERO_NS

    def UTC(self) -> GoTime:
        return self

    def String(self) -> str:
        return str(self)

    def Format(self, layout: str) -> str:
        """Go's ``time.Time.Format`` for a UTC time (``MST`` prints ``UTC``, ``Z07:00`` prints ``Z``)."""
        return format_layout(self, layout)

    # ----------------------------------------------------------------- rendering
    def __str__(self) -> str:
        naive, nanos = self._naive()
        return (
            f"{naive.year:04d}-{naive.month:02d}-{naive.day:02d} "
            f"{naive.hour:02d}:{naive.minute:02d}:{naive.second:02d}"
            f"{_trimmed_fraction(nanos)} +0000 UTC"
        )

    def isoformat(self) -> str:
        """RFC 3339 with nanoseconds, trailing zeros trimmed, ``Z`` (Go's ``RFC3339Nano``)."""
        naive, nanos = self._naive()
        return (
            f"{naive.year:04d}-{naive.month:02d}-{naive.day:02d}T"
            f"{naive.hour:02d}:{naive.minute:02d}:{naive.second:02d}{_trimmed_fraction(nanos)}Z"
        )

    def go_json_value(self) -> str:
        """What Go's ``json.Marshal`` writes for a ``time.Time`` (a JSON string)."""
        return self.isoformat()

    def __repr__(self) -> str:
        return f"GoTime({self.isoformat()!r})"

    # ----------------------------------------------------------------- comparison
    def __eq__(self, other: object) -> bool:
        if isinstance(other, GoTime):
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other: GoTime) -> bool:
        if isinstance(other, GoTime):
            return self._ns < other._ns
        return NotImplemented

    def __le__(self, other: GoTime) -> bool:
        if isinstance(other, GoTime):
            return self._ns <= other._ns
        return NotImplemented

    def __gt__(self, other: GoTime) -> bool:
        if isinstance(other, GoTime):
            return self._ns > other._ns
        return NotImplemented

    def __ge__(self, other: GoTime) -> bool:
        if isinstance(other, GoTime):
            return self._ns >= other._ns
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._ns)

    def __bool__(self) -> bool:
        # A Go time.Time struct is never "empty" for template `if`; keep Python truthiness True too.
        return True

    def __reduce__(self) -> tuple[Any, ...]:
        return (GoTime, (self._ns,))


def parse_go_time(value: str | None) -> GoTime:
    """Lenient parse for model building: a missing or malformed value gives the zero time.

    Go's JSON decoding would fail the whole inspect on a bad timestamp; pygen never crashes on one.
    """
    if not value:
        return GoTime.zero()
    try:
        return GoTime.parse(value)
    except (ValueError, OverflowError):
        return GoTime.zero()


# ---------------------------------------------------------------------------- Go layouts
# Layout elements in the order Go's nextStdChunk recognises them. Each entry: (token, kind).
def _tokenize(layout: str) -> list[tuple[str, str]]:
    """Split a Go layout into ("lit", text) and (kind, token) chunks, following time.nextStdChunk."""
    out: list[tuple[str, str]] = []
    lit: list[str] = []
    i, n = 0, len(layout)

    def emit(kind: str, tok: str) -> None:
        if lit:
            out.append(("lit", "".join(lit)))
            lit.clear()
        out.append((kind, tok))

    def lower_at(j: int) -> bool:
        return j < n and "a" <= layout[j] <= "z"

    while i < n:
        c = layout[i]
        rest = layout[i:]
        tok: str | None = None
        kind = ""
        if c == "J" and rest.startswith("Jan"):
            if rest.startswith("January"):
                tok, kind = "January", "LongMonth"
            elif not lower_at(i + 3):
                tok, kind = "Jan", "Month"
        elif c == "M" and rest.startswith("Mon"):
            if rest.startswith("Monday"):
                tok, kind = "Monday", "LongWeekDay"
            elif not lower_at(i + 3):
                tok, kind = "Mon", "WeekDay"
        elif c == "M" and rest.startswith("MST"):
            tok, kind = "MST", "TZ"
        elif c == "0" and i + 1 < n and "1" <= layout[i + 1] <= "6":
            tok = rest[:2]
            kind = {"01": "ZeroMonth", "02": "ZeroDay", "03": "ZeroHour12", "04": "ZeroMinute",
                    "05": "ZeroSecond", "06": "Year"}[tok]
        elif c == "0" and rest.startswith("002"):
            tok, kind = "002", "ZeroYearDay"
        elif c == "1":
            if rest.startswith("15"):
                tok, kind = "15", "Hour"
            else:
                tok, kind = "1", "NumMonth"
        elif c == "2":
            if rest.startswith("2006"):
                tok, kind = "2006", "LongYear"
            else:
                tok, kind = "2", "Day"
        elif c == "_":
            if rest.startswith("_2"):
                if rest.startswith("_2006"):
                    # Go: "_2006" is a literal "_" followed by the year.
                    lit.append("_")
                    i += 1
                    continue
                tok, kind = "_2", "UnderDay"
            elif rest.startswith("__2"):
                tok, kind = "__2", "UnderYearDay"
        elif c in "345":
            tok, kind = c, {"3": "Hour12", "4": "Minute", "5": "Second"}[c]
        elif c == "P" and rest.startswith("PM"):
            tok, kind = "PM", "PM"
        elif c == "p" and rest.startswith("pm"):
            tok, kind = "pm", "pm"
        elif c in "-Z":
            for cand in ("070000", "07:00:00", "0700", "07:00", "07"):
                if rest.startswith(c + cand):
                    tok, kind = c + cand, "TZ" + ("Z" if c == "Z" else "-") + cand
                    break
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            ch = layout[i + 1]
            j = i + 1
            while j < n and layout[j] == ch:
                j += 1
            if not (j < n and layout[j].isdigit()):
                tok, kind = layout[i:j], "Frac" + ch
        if tok is None:
            lit.append(c)
            i += 1
            continue
        emit(kind, tok)
        i += len(tok)
    if lit:
        out.append(("lit", "".join(lit)))
    return out


def _offset_text(offset: int, spec: str) -> str:
    """A zone offset in the shape of a layout's ``-0700``-style element (``spec`` after the sign)."""
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(abs(offset), 3600)
    minutes, seconds = divmod(rest, 60)
    return sign + {"070000": f"{hours:02d}{minutes:02d}{seconds:02d}",
                   "07:00:00": f"{hours:02d}:{minutes:02d}:{seconds:02d}",
                   "0700": f"{hours:02d}{minutes:02d}", "07:00": f"{hours:02d}:{minutes:02d}",
                   "07": f"{hours:02d}"}[spec]


def format_layout(t: GoTime, layout: str, offset: int = 0, zone: str = "UTC") -> str:
    """Go's layout formatting of ``t`` shown in a zone ``offset`` seconds east of UTC."""
    naive, nanos = t._naive()
    naive += _dt.timedelta(seconds=offset)
    parts: list[str] = []
    for kind, tok in _tokenize(layout):
        if kind == "lit":
            parts.append(tok)
        elif kind == "LongMonth":
            parts.append(_MONTHS[naive.month - 1])
        elif kind == "Month":
            parts.append(_MONTHS[naive.month - 1][:3])
        elif kind == "LongWeekDay":
            parts.append(_DAYS[naive.weekday()])
        elif kind == "WeekDay":
            parts.append(_DAYS[naive.weekday()][:3])
        elif kind == "TZ":
            parts.append(zone)
        elif kind == "ZeroMonth":
            parts.append(f"{naive.month:02d}")
        elif kind == "NumMonth":
            parts.append(str(naive.month))
        elif kind == "ZeroDay":
            parts.append(f"{naive.day:02d}")
        elif kind == "Day":
            parts.append(str(naive.day))
        elif kind == "UnderDay":
            parts.append(f"{naive.day:2d}")
        elif kind == "ZeroYearDay":
            parts.append(f"{naive.timetuple().tm_yday:03d}")
        elif kind == "UnderYearDay":
            parts.append(f"{naive.timetuple().tm_yday:3d}")
        elif kind == "Year":
            parts.append(f"{naive.year % 100:02d}")
        elif kind == "LongYear":
            parts.append(f"{naive.year:04d}")
        elif kind == "Hour":
            parts.append(f"{naive.hour:02d}")
        elif kind in ("Hour12", "ZeroHour12"):
            h12 = naive.hour % 12 or 12
            parts.append(f"{h12:02d}" if kind == "ZeroHour12" else str(h12))
        elif kind == "ZeroMinute":
            parts.append(f"{naive.minute:02d}")
        elif kind == "Minute":
            parts.append(str(naive.minute))
        elif kind == "ZeroSecond":
            parts.append(f"{naive.second:02d}")
        elif kind == "Second":
            parts.append(str(naive.second))
        elif kind == "PM":
            parts.append("PM" if naive.hour >= 12 else "AM")
        elif kind == "pm":
            parts.append("pm" if naive.hour >= 12 else "am")
        elif kind.startswith("TZZ") and offset == 0:
            parts.append("Z")
        elif kind.startswith("TZ"):
            parts.append(_offset_text(offset, kind[3:]))
        elif kind == "Frac0":
            digits = len(tok) - 1
            parts.append(tok[0] + f"{nanos:09d}"[:digits])
        elif kind == "Frac9":
            digits = len(tok) - 1
            frac = f"{nanos:09d}"[:digits].rstrip("0")
            parts.append(tok[0] + frac if frac else "")
    return "".join(parts)
