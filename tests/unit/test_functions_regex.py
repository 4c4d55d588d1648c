"""Go RE2 pattern translation for whereLabelValueMatches."""

from __future__ import annotations

import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.goregex import compile_go_regex


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^(?i)bar$", "BAR", True),  # flags mid-pattern, rejected by Python 3.11 as written
        ("^(?i)bar$", "xbar", False),
        ("a(?i)b", "aB", True),
        ("a(?i)b", "AB", False),  # the flag applies only after it
        ("(a(?i)b)c", "aBc", True),
        ("(a(?i)b)c", "aBC", False),  # ...and only to the end of its group
        ("(?i:x)y", "Xy", True),
        ("(?i:x)y", "XY", False),
        ("(?s)a.b", "a\nb", True),
        ("a.b", "a\nb", False),
        ("(?m)^b$", "a\nb\nc", True),
        ("^b$", "a\nb\nc", False),
        ("(?i-s)A.", "a\n", False),
        ("foo$", "foo\n", False),  # Go's $ without m is the very end
        ("foo\\z", "foo", True),
        ("\\d+", "\u0663", False),  # \d is ASCII only in Go
        ("\\d+", "42", True),
        ("\\w", "é", False),
        ("\\s", "\u00a0", False),
        ("[\\d.]+", "1.2", True),
        ("\\D", "5", False),
        ("[[:alpha:]]+[[:digit:]]", "ab1", True),
        ("[^[:space:]]", " ", False),
        ("\\Qa.b\\E", "a.b", True),
        ("\\Qa.b\\E", "axb", False),
        ("(?P<n>x)", "x", True),
        ("(?<n>x)", "x", True),
        ("\\x{41}", "A", True),
        ("a|b", "b", True),
        ("[a&&b]", "&", True),  # '&' is literal in Go classes
        ("[]a]", "]", True),
    ],
)
def test_go_patterns(pattern: str, text: str, matches: bool) -> None:
    assert (compile_go_regex(pattern).search(text) is not None) is matches


@pytest.mark.parametrize(
    "pattern",
    ["(", ")", "[a", "a\\", "(?=x)", "(?!x)", "(?<=x)", "(?<!x)", "(a)\\1", "(?x)a", "[[:nope:]]", "(?P=n)"],
)
def test_patterns_go_rejects_are_errors(pattern: str) -> None:
    with pytest.raises(TemplateFunctionError, match="error parsing regexp"):
        compile_go_regex(pattern)


@pytest.mark.parametrize("pattern", [r"[a\PL]", r"[a\P{Greek}]"])
def test_go_patterns_pygen_cannot_translate_are_errors_that_say_so(pattern: str) -> None:
    """Go accepts these (a negated class among others in brackets); rather than match
    differently, pygen refuses them, naming itself."""
    with pytest.raises(TemplateFunctionError, match="not supported by pygen"):
        compile_go_regex(pattern)


@pytest.mark.parametrize("pattern", [r"\p{Klingon}", r"\p{Greek", r"[\p{Nope}]"])
def test_unknown_unicode_classes_are_errors_as_in_go(pattern: str) -> None:
    with pytest.raises(TemplateFunctionError, match="invalid character class range"):
        compile_go_regex(pattern)


@pytest.mark.parametrize(("pattern", "text", "found"), [
    (r"(?U)a+", "aaa", "a"),  # ungreedy: the shortest match
    (r"(?U)a+?", "aaa", "aaa"),  # and ? after a quantifier makes it greedy again
    (r"(?U)a{2,3}", "aaaa", "aa"),
    (r"(?U:a+)a+", "aaaa", "aaaa"),  # the flag holds inside its group only
    (r"(?U)x(?-U)a+", "xaaa", "xaaa"),
    (r"a{2,3}", "aaaa", "aaa"),
    (r"x{", "x{", "x{"),  # not a repeat: a literal brace
])
def test_the_ungreedy_flag_swaps_greedy_and_lazy(pattern: str, text: str, found: str) -> None:
    match = compile_go_regex(pattern).search(text)
    assert match is not None and match.group(0) == found


@pytest.mark.parametrize("pattern", ["a**", "a*+", "a+?*", "a{2}{3}", "a??+"])
def test_nested_repetition_is_an_error_as_in_go(pattern: str) -> None:
    """Python would read some of these as possessive quantifiers; Go refuses them all."""
    with pytest.raises(TemplateFunctionError, match="invalid nested repetition operator"):
        compile_go_regex(pattern)


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    (r"^\pL+$", "café", True),
    (r"^\pL+$", "caf3", False),
    (r"^\p{L}+$", "αβγ", True),
    (r"^\PN+$", "web", True),
    (r"^\PN+$", "w3b", False),
    (r"^[\pL\d]+$", "αβ9", True),  # inside brackets, with other items
    (r"^\p{Lu}", "Éx", True),
    (r"^\p{Lu}", "éx", False),
    (r"^\p{^Lu}", "éx", True),  # negated inside the braces
    (r"\p{Nd}", "٣", True),  # Arabic-Indic digit three
    (r"^\pC", "\x00", True),
    (r"^\pC", "\u0378", False),  # unassigned: not in Go's C
    (r"^\p{Any}+$", "😀x", True),
    # scripts: the Script property (Go's unicode.Scripts), from the regex package
    (r"^\p{Greek}+$", "αβγ", True),
    (r"^\p{Greek}+$", "abc", False),
    (r"^\p{Greek}", "\u0342", False),  # Greek by Script_Extensions only: Go's tables are Script
    (r"^\P{Latin}+$", "αβγ", True),
    (r"^\P{Latin}+$", "aβγ", False),
    (r"^\p{^Latin}", "α", True),
    (r"^[\p{Han}\d]+$", "漢字42", True),  # inside brackets, with other items
    (r"^\p{Cyrillic}", "Ж", True),
    (r"^\p{Old_Italic}", "\U00010300", True),
    (r"\p{Common}", "1", True),
])
def test_unicode_classes_match_as_in_go(pattern: str, text: str, matches: bool) -> None:
    assert (compile_go_regex(pattern).search(text) is not None) is matches
