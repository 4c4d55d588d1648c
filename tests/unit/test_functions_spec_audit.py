"""Spec audit: statements of the template-function specification that the other unit tests did not pin.

Sources: /work/shared/docs/docker-gen-spec.md (§6.2 field paths, §6.3 docker-gen functions and the
Go-template notes below its table) and, for etcd-gen, peers.md §1.3 (confd's functions). Where the
spec and README's "Differences from docker-gen, on purpose" disagree, the README wins.

Each test is named after the statement it pins. Where pygen differs from a clear statement that the
README does not declare as a deliberate difference, the test asserts what the spec says and is marked
``xfail(strict=True)``, with the section and what pygen does instead. Once the behaviour is fixed,
the test passes, strict mode reports the pass as a failure, and the marker has to be removed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from pygen.docker.model import RuntimeContainer
from pygen.functions.deepget import deep_get
from pygen.functions.registry import confd_functions, docker_gen_functions
from pygen.templating import make_environment
from tests.helpers.template_files import template_set

DOCKER_GEN = make_environment([], docker_gen_functions())


def render(source: str, **context: Any) -> str:
    return DOCKER_GEN.from_string(source).render(**context)


def render_etcd(source: str, kv: dict[str, str]) -> str:
    return make_environment([], confd_functions(kv)).from_string(source).render()


# ------------------------------------------------------------------------------ §6.3 eval


def test_eval_with_nil_data_gives_the_named_template_go_nil_data(tmp_path: Path) -> None:
    """§6.3 eval: "No argument or `nil` gives data Go-nil" (the no-argument form is tested elsewhere)."""
    templates = template_set(tmp_path, {
        "main.tmpl": '{{ eval("part.tmpl", none) }}',
        "part.tmpl": "{{ data is none }}",
    })
    assert templates.render({}) == "True"


def test_eval_with_a_missing_field_as_data_gives_go_nil_data(tmp_path: Path) -> None:
    """§6.3: "A missing-key field access (`.Env.X`) yields "no value", which becomes Go-nil when
    passed to a function", and for eval "`nil` gives data Go-nil"."""
    templates = template_set(tmp_path, {
        "main.tmpl": '[{{ eval("part.tmpl", c.Missing) }}]',
        "part.tmpl": "{{ data is none }}|{{ data.Name }}",
    })
    assert templates.render({"c": {}}) == "[True|]"


# ------------------------------------------------------------------------------ §6.3 groupBy*, keys, Go-nil


def test_group_by_with_default_files_only_go_nil_under_the_default() -> None:
    """§6.3 groupByWithDefault: "like groupBy, but Go-nil goes under `dflt`": a present but empty
    value is not Go-nil and keeps its own group ""."""
    containers = [
        RuntimeContainer(Name="empty", Env={"HOST": ""}),
        RuntimeContainer(Name="set", Env={"HOST": "a.test"}),
        RuntimeContainer(Name="missing"),
    ]
    source = (
        '{% for key, group in groupByWithDefault(containers, "Env.HOST", "dflt").items() %}'
        "{{ key }}={{ group|map(attribute='Name')|join(',') }};{% endfor %}"
    )
    assert render(source, containers=containers) == "=empty;a.test=set;dflt=missing;"


def test_keys_masks_sprigs_keys_and_has_no_sprig_alias() -> None:
    """§6.3 sprig notes: "Names masked by docker-gen: coalesce, contains, dir, replace, split, keys.
    The first five are reachable as `sprig*`; `keys` is not"."""
    table = docker_gen_functions()
    assert [name for name in table if name.startswith("sprig")] == [
        "sprigCoalesce", "sprigContains", "sprigDir", "sprigReplace", "sprigSplit", "sprigSplitn",
    ]


def test_a_missing_field_piped_into_a_function_arrives_as_go_nil() -> None:
    """§6.3 Go-template notes: a missing field "becomes Go-nil when passed to a function"; this
    holds for the filter form too (the piped value is the function's first argument)."""
    containers = [RuntimeContainer(Name="a", Env={"X": "1"}), RuntimeContainer(Name="b")]
    source = '{{ c.Env.MISSING|coalesce("fallback") }}|{{ containers|where("Env.X", c.Env.MISSING)|length }}'
    assert render(source, c=containers[0], containers=containers) == "fallback|1"


# ------------------------------------------------------------------------------ §6.3 whereLabelValueMatches (Go RE2)


def _label_matches(pattern: str, value: str) -> bool:
    containers = [RuntimeContainer(Name="c", Labels={"app": value})]
    source = '{{ whereLabelValueMatches(containers, "app", pattern)|length }}'
    return render(source, containers=containers, pattern=pattern) == "1"


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        pytest.param(r"^\pL+$", "café", True, id="Unicode category"),
        pytest.param(r"^\p{Greek}+$", "αβγ", True, id="Unicode script"),
        pytest.param(r"^\PN+$", "web", True, id="negated Unicode category"),
        pytest.param(r"(?U)^web-.+$", "web-1", True, id="the ungreedy flag"),
        pytest.param(r"^[[:^digit:]]+$", "web", True, id="negated ASCII class"),
        pytest.param(r"^[[:^digit:]]+$", "w3b", False, id="negated ASCII class, a digit"),
        pytest.param(r"\bweb", "éweb", True, id="ASCII word boundary"),
        pytest.param(r"\Bweb", "aweb", True, id="ASCII non-boundary"),
        pytest.param(r"(?-m)web$", "web\n", False, id="$ after (?-m) is the end of the text"),
        pytest.param(r"(?m:^x$)|web$", "web\n", False, id="$ outside a (?m:...) group is the end of the text"),
        pytest.param(r"(?m)a(?-m)b$", "ab\nx", False, id="(?-m) ends the m flag for the rest of the group"),
        pytest.param(r"(?m)(a)web$", "aweb\nx", True, id="(?m) holds after a group closes"),
    ],
)
def test_where_label_value_matches_uses_go_re2_syntax_and_semantics(pattern: str, value: str, matches: bool) -> None:
    """§6.3: "the label is present **and** the regex (Go RE2) matches anywhere"; README: "Go regex
    syntax, inline flags included". RE2 has Unicode classes `\\pN`/`\\p{Greek}`, the ungreedy flag
    `U`, negated ASCII classes `[[:^alpha:]]`, an ASCII-only `\\b`, and `$` is the end of the text
    unless the `m` flag is in effect at that point."""
    assert _label_matches(pattern, value) is matches


# ------------------------------------------------------------------------------ §6.3 toUpper / toLower


def test_to_upper_maps_every_rune_that_has_an_upper_case() -> None:
    """§6.3: "`toLower` / `toUpper` | Unicode case mapping". GREEK SMALL LETTER ALPHA WITH
    YPOGEGRAMMENI has the simple upper case U+1FBC, which is what Go's strings.ToUpper gives."""
    assert render('{{ toUpper("\u1fb3") }}') == "\u1fbc"
    assert render('{{ toUpper("\u1f80\u00df\ufb00") }}') == "\u1f88\u00df\ufb00"  # no simple upper case: kept


# ------------------------------------------------------------------------------ §6.2 field paths


def test_deep_get_logs_a_line_for_an_unusable_list_index(caplog: pytest.LogCaptureFixture) -> None:
    """§6.2 Slice/array: "A negative, non-numeric or out-of-range index gives Go-nil, with a log line"."""
    caplog.set_level(logging.DEBUG)
    assert deep_get(["foo", "bar"], "5") is None
    assert caplog.records != []


# ------------------------------------------------------------------------------ peers.md §1.3: confd's functions


def test_confd_datetime_is_now_and_can_be_formatted_with_a_go_layout() -> None:
    """peers.md §1.3: "`datetime` | `time.Now()` (it can be `.Format`ted)". confd templates write
    `datetime.Format "2006-01-02"`; in Jinja: `datetime().Format("2006")`."""
    before = time.strftime("%Y")
    rendered = render_etcd('{{ datetime().Format("2006") }}', {})
    assert rendered in {before, time.strftime("%Y")}


def test_confd_json_and_json_array_of_null_give_nil_values_not_errors() -> None:
    """peers.md §1.3: "`json STR` / `jsonArray STR` | Unmarshal into `map[string]any` / `[]any`. A
    parse error aborts the render." `null` is valid JSON: Go's Unmarshal leaves the map (slice) nil,
    which ranges as empty."""
    source = (
        '{% for k in json(getv("/cfg")) %}{{ k }}{% endfor %}'
        '{% for v in jsonArray(getv("/cfg")) %}{{ v }}{% endfor %}ok'
    )
    assert render_etcd(source, {"/cfg": "null"}) == "ok"
