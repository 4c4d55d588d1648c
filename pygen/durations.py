"""Go duration strings and docker-gen's ``-wait min[:max]`` debounce setting.

The ``-wait`` value is copied into existing docker-gen command lines and TOML files, so it must
parse exactly as Go's ``time.ParseDuration`` does (``500`` without a unit is an error, ``1h2m`` is
fine, ``1.5s`` is fine) and follow docker-gen's own splitting rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_COMPONENT = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Parse a Go duration (``300ms``, ``1h2m3.5s``, ``-1s``, ``0``) into seconds.

    Raises ValueError with Go's wording for anything ``time.ParseDuration`` rejects.
    """
    original = text
    sign = 1.0
    if text and text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise ValueError(f'time: invalid duration "{original}"')
    total = 0.0
    position = 0
    while position < len(text):
        match = _COMPONENT.match(text, position)
        if match is None:
            if re.match(r"[0-9]+\.?[0-9]*|\.[0-9]+", text[position:]):
                raise ValueError(f'time: missing unit in duration "{original}"')
            raise ValueError(f'time: invalid duration "{original}"')
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    return sign * total


@dataclass(frozen=True, slots=True)
class Wait:
    """Debounce bounds in seconds: fire ``minimum`` after the last event, at most ``maximum`` after the first."""

    minimum: float = 0.0
    maximum: float = 0.0

    @property
    def enabled(self) -> bool:
        """docker-gen debounces only when min is non-zero (``0:5s`` means no debounce)."""
        return self.minimum != 0

    def __str__(self) -> str:
        return f"{self.minimum:g}s:{self.maximum:g}s"


def parse_wait(text: str | None) -> Wait:
    """Parse ``min[:max]`` as docker-gen does (spec §3.3).

    Blank means no debounce; max defaults to 4×min; parts after a second ``:`` are ignored;
    ``1s:`` and ``:2s`` are errors, and so is max < min.
    """
    if text is None or not text.strip():
        return Wait()
    parts = text.split(":")
    minimum_text = parts[0].strip()
    if not minimum_text:
        raise ValueError(f"invalid wait {text!r}: empty minimum duration")
    minimum = parse_go_duration(minimum_text)
    if len(parts) == 1:
        return Wait(minimum, 4 * minimum)
    maximum_text = parts[1].strip()
    if not maximum_text:
        raise ValueError(f"invalid wait {text!r}: empty maximum duration")
    maximum = parse_go_duration(maximum_text)
    if maximum < minimum:
        raise ValueError(f"invalid wait {text!r}: maximum must not be less than minimum")
    return Wait(minimum, maximum)
