"""nginx-proxy's value helpers: `nginxQuote` and `nginxMustParseHSTS` (docker-gen spec §6.4, §6.5).

Both guard nginx config against values taken from container labels and environment. The quoting
rules are docker-gen's exact algorithm, quirks included (a decision is made at the first unescaped
middle quote; a string is only "quoted" when its closing quote is not escaped), because nginx-proxy
templates and their expected outputs are written against it.
"""

from __future__ import annotations

from pygen.errors import TemplateFunctionError
from pygen.functions.gostrings import INT64_MAX, quote, to_lower, trim_space

_SPECIALS = frozenset("{};# \t")


def is_escaped_at(s: str, i: int) -> bool:
    """True iff 0 < i < len(s) and an odd run of backslashes immediately precedes position i."""
    if i <= 0 or i >= len(s):
        return False
    run = 0
    j = i - 1
    while j >= 0 and s[j] == "\\":
        run += 1
        j -= 1
    return run % 2 == 1


def is_quoted_with(s: str, q: str) -> bool:
    """Starts and ends with `q` (length >= 2) and the closing quote is not escaped."""
    return len(s) >= 2 and s[0] == q and s[-1] == q and not is_escaped_at(s, len(s) - 1)


def is_quoted(s: str) -> bool:
    return is_quoted_with(s, "'") or is_quoted_with(s, '"')


def has_unescaped_special_chars(s: str) -> bool:
    """The first special character that is leading or unescaped decides: leading -> True,
    otherwise True unless the whole value is already quoted."""
    if _SPECIALS.isdisjoint(s):  # the common case, without a Python loop over every character
        return False
    for i, ch in enumerate(s):
        if ch not in _SPECIALS:
            continue
        if i == 0:
            return True
        if not is_escaped_at(s, i):
            return not is_quoted(s)
    return False


def has_unescaped_quote(s: str, q: str) -> bool:
    """Whether quote character `q` occurs unescaped outside a matching pair of quotes."""
    if q not in s:  # the common case, without a Python loop over every character
        return False
    other = '"' if q == "'" else "'"
    last = len(s) - 1
    for i, ch in enumerate(s):
        if ch != q:
            continue
        if i == 0:
            if len(s) < 2:
                return True
            if s[-1] != q or is_escaped_at(s, last):
                return True
        elif i == last:
            if not is_escaped_at(s, i) and s[0] != q:
                return True
        elif not is_escaped_at(s, i):
            return not is_quoted_with(s, other)
    return False


def quote_with(s: str, q: str) -> str:
    """Wrap in `q`; a trailing unescaped backslash is doubled so it cannot escape the closing quote."""
    trailing = len(s) - len(s.rstrip("\\"))
    if trailing % 2 == 1:  # the final backslash is not itself escaped
        s += "\\"
    return q + s + q


def nginx_quote(value: str) -> str:
    """Trim, then quote a value for an nginx directive when it contains specials or stray quotes."""
    s = trim_space(value)
    if s == "":
        return ""
    if "\n" in s or "\r" in s:
        raise TemplateFunctionError(f"value must not contain line breaks: {quote(s)}")
    single = has_unescaped_quote(s, "'")
    double = has_unescaped_quote(s, '"')
    if single and double:
        raise TemplateFunctionError(f"value has both unescaped single and double quotes: {quote(s)}")
    if has_unescaped_special_chars(s) or single or double:
        return quote_with(s, "'" if double else '"')
    return s


_HSTS = "Strict-Transport-Security"
_ONE_YEAR = 31536000


def nginx_must_parse_hsts(value: str) -> str:
    """Validate a Strict-Transport-Security value and return it in canonical form."""
    text = to_lower(trim_space(value))
    if text == "":
        raise TemplateFunctionError("HSTS value cannot be empty")
    max_age = 0
    include_subdomains = preload = False
    for raw in text.split(";"):
        directive = trim_space(raw)
        if directive.startswith("max-age="):
            digits = directive[len("max-age=") :]
            if not digits or not digits.isascii() or not digits.isdigit() or int(digits) > INT64_MAX:
                raise TemplateFunctionError(f"invalid {_HSTS} max-age directive: {directive}")
            max_age = int(digits)
        elif directive == "includesubdomains":
            include_subdomains = True
        elif directive == "preload":
            preload = True
        else:
            raise TemplateFunctionError(f"unknown {_HSTS} directive: {directive}")
    if max_age <= 0:
        raise TemplateFunctionError(f"{_HSTS} max-age directive must be greater than 0")
    if preload and not include_subdomains:
        raise TemplateFunctionError(f"{_HSTS} preload directive requires includeSubDomains to be set")
    if preload and max_age < _ONE_YEAR:
        raise TemplateFunctionError(
            f"{_HSTS} preload directive requires max-age to be at least {_ONE_YEAR} seconds (1 year)"
        )
    result = f"max-age={max_age}"
    if include_subdomains:
        result += "; includeSubDomains"
    if preload:
        result += "; preload"
    return result
