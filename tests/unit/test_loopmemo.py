"""Memoised loop bodies (pygen.loopmemo): a re-render re-runs only the iterations whose inputs
changed, and a body that might not print the same text for the same inputs is never reused.

A template function ``probe`` counts the iterations that really ran; the text is checked too.
tests/unit/test_loopmemo_equivalence.py compares whole renders with plain Jinja's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pygen.config import TemplateConfig
from pygen.docker.state import ContainerStore, build_context
from pygen.errors import TemplateError
from pygen.functions.registry import docker_gen_functions
from pygen.loopmemo import fingerprint
from pygen.source import environment_snapshot
from pygen.templating import TemplateSet
from tests.helpers.bench_inspects import bench_inspects


@dataclass(eq=False)
class Item:
    """Like the store's containers: compared by identity, replaced (never edited) on a change."""

    name: str
    port: Any = 80
    env: dict[str, str] = field(default_factory=dict)


class Probe:
    """A template function that records each call: which iterations ran."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, value: Any) -> Any:
        self.calls.append(value)
        return value


def template(tmp_path: Path, text: str, **extra: Callable[..., Any]) -> tuple[TemplateSet, Probe]:
    probe = Probe()
    (tmp_path / "t.j2").write_text(text)
    return TemplateSet([str(tmp_path / "t.j2")], {**docker_gen_functions(), "probe": probe, **extra}), probe


def compiled(templates: TemplateSet) -> str:
    environment = templates.environment
    return str(environment.compile(Path(templates.entry).read_text(), raw=True))


def test_an_unchanged_item_is_not_rendered_again(tmp_path: Path) -> None:
    templates, probe = template(tmp_path, "{% for c in items %}{{ probe(c.name) }}:{{ c.port }}\n{% endfor %}")
    a, b, c = Item("a"), Item("b"), Item("c")
    assert templates.render({"items": [a, b, c]}) == "a:80\nb:80\nc:80\n"
    probe.calls.clear()

    b2 = Item("b", port=8080)
    assert templates.render({"items": [a, b2, c]}) == "a:80\nb:8080\nc:80\n"
    assert probe.calls == ["b"]


def test_new_and_removed_items(tmp_path: Path) -> None:
    templates, probe = template(tmp_path, "{% for c in items %}{{ probe(c.name) }} {% endfor %}")
    a, b = Item("a"), Item("b")
    templates.render({"items": [a, b]})
    probe.calls.clear()
    assert templates.render({"items": [Item("new"), b]}) == "new b "
    assert probe.calls == ["new"]


def test_outer_names_join_the_key(tmp_path: Path) -> None:
    templates, probe = template(
        tmp_path, "{% set suffix = Env.SUFFIX %}{% for c in items %}{{ probe(c.name) }}{{ suffix }} {% endfor %}"
    )
    items = [Item("a"), Item("b")]
    assert templates.render({"items": items, "Env": {"SUFFIX": "!"}}) == "a! b! "
    assert templates.render({"items": items, "Env": {"SUFFIX": "?"}}) == "a? b? "
    probe.calls.clear()
    assert templates.render({"items": items, "Env": {"SUFFIX": "?"}}) == "a? b? "
    assert probe.calls == []


def test_a_called_name_bound_to_another_function_is_another_key(tmp_path: Path) -> None:
    templates, _ = template(tmp_path, "{% set f = toUpper if upper else toLower %}{% for c in items %}"
                                      "{{ f(probe(c.name)) }}{% endfor %}")
    items = [Item("Ab")]
    assert templates.render({"items": items, "upper": True}) == "AB"
    assert templates.render({"items": items, "upper": False}) == "ab"


def test_values_that_print_differently_have_different_keys(tmp_path: Path) -> None:
    templates, _ = template(tmp_path, "{% for v in values %}[{{ probe(v) }}]{% endfor %}")
    assert templates.render({"values": [1]}) == "[1]"
    assert templates.render({"values": [True]}) == "[True]"
    assert templates.render({"values": [1.0]}) == "[1]"  # finalize prints JSON numbers as Go does
    assert templates.render({"values": ["1"]}) == "[1]"
    assert templates.render({"values": [0.5]}) == "[0.5]"
    assert templates.render({"values": [-0.0]}) == "[-0]"
    assert fingerprint(0.0) != fingerprint(-0.0)
    assert fingerprint(1) != fingerprint(True) != fingerprint(1.0)


def test_lists_are_keyed_by_their_items_and_dicts_by_identity(tmp_path: Path) -> None:
    templates, probe = template(
        tmp_path, "{% for group in groups %}{{ probe(group|length) }}{{ group|join(',') }};{% endfor %}"
    )
    assert templates.render({"groups": [["a", "b"], ["c"]]}) == "2a,b;1c;"
    probe.calls.clear()
    assert templates.render({"groups": [["a", "b"], ["c", "d"]]}) == "2a,b;2c,d;"
    assert probe.calls == [2]  # a fresh but equal list is the same key
    assert fingerprint({"a": 1}) != fingerprint({"a": 1})


def test_position_joins_the_key_when_the_body_reads_it(tmp_path: Path) -> None:
    templates, _ = template(
        tmp_path,
        "{% for c in items %}{{ loop.index }}/{{ loop.length }}{{ probe(c.name) }}"
        "{{ ',' if not loop.last }}{{ loop.cycle('x', 'y') }}{% endfor %}",
    )
    a, b = Item("a"), Item("b")
    assert templates.render({"items": [a, b]}) == "1/2a,x2/2by"
    assert templates.render({"items": [Item("z"), a, b]}) == "1/3z,x2/3a,y3/3bx"
    assert "pygen_memo" in compiled(templates)


@pytest.mark.parametrize("body", [
    "{{ loop.changed(c.port) }}",
    "{{ loop.previtem }}",
    "{% if probe(c.name) == 'b' %}{% break %}{% endif %}",
    "{% include 'other.j2' %}",
    "{% macro m(x) %}{{ x }}{% endmacro %}{{ m(c.name) }}",
    "{{ warn('seen', probe(c.name)) }}",
    "{{ [1, 2]|random }}",
    "{{ c.env.pop('x', '') }}",
])
def test_bodies_that_may_print_other_text_are_not_memoised(tmp_path: Path, body: str) -> None:
    (tmp_path / "other.j2").write_text("{{ probe(c.name) }}")
    templates, _ = template(tmp_path, "{% for c in items %}" + body + "{% endfor %}")
    assert "pygen_memo" not in compiled(templates)


def test_a_body_calling_something_else_than_a_template_function_runs_every_time(tmp_path: Path) -> None:
    templates, probe = template(
        tmp_path,
        "{% set comma = joiner(', ') %}{% for c in items %}{{ comma() }}{{ probe(c.name) }}{% endfor %}",
    )
    items = [Item("a"), Item("b")]
    assert templates.render({"items": items}) == "a, b"
    probe.calls.clear()
    assert templates.render({"items": items}) == "a, b"
    assert probe.calls == ["a", "b"]


def test_a_macro_called_in_a_loop_runs_every_time(tmp_path: Path) -> None:
    templates, probe = template(
        tmp_path,
        "{% macro show(x) %}<{{ probe(x) }}>{% endmacro %}{% for c in items %}{{ show(c.name) }}{% endfor %}",
    )
    items = [Item("a")]
    templates.render({"items": items})
    assert templates.render({"items": items}) == "<a>"
    assert probe.calls == ["a", "a"]


def test_warnings_are_logged_on_every_render(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    templates, _ = template(tmp_path, "{% for c in items %}{{ warn('bad', c.name) }}{% endfor %}")
    items = [Item("a")]
    with caplog.at_level(logging.WARNING, logger="pygen"):
        templates.render({"items": items})
        templates.render({"items": items})
    assert [r.getMessage() for r in caplog.records] == ["bad a", "bad a"]


@pytest.mark.parametrize("mutation", [
    "{% set ns = namespace(n=0) %}{% set ns.n = 1 %}",
    "{% do items.append(1) if false %}",
    "{{ set({}, 'k', 'v') }}",
    "{{ sortStringsAsc(['b', 'a']) }}",
    "{{ items|attr('pop') if false }}",
])
def test_a_template_that_can_change_values_in_place_turns_memoisation_off(tmp_path: Path, mutation: str) -> None:
    templates, probe = template(tmp_path, mutation + "{% for c in items %}{{ probe(c.name) }}{% endfor %}")
    items = [Item("a")]
    templates.render({"items": items})
    templates.render({"items": items})
    assert probe.calls == ["a", "a"]


def test_an_included_template_that_changes_values_turns_it_off_for_the_set(tmp_path: Path) -> None:
    (tmp_path / "counter.j2").write_text("{% set ns.n = ns.n + 1 %}")
    templates, _ = template(
        tmp_path,
        "{% set ns = namespace(n=0) %}{% for c in items %}{% include 'counter.j2' %}"
        "{% for x in [c] %}{{ probe(ns.n) }}{% endfor %}{% endfor %}",
    )
    assert templates.render({"items": [Item("a"), Item("b"), Item("c")]}) == "123"
    assert templates.render({"items": [Item("a"), Item("b")]}) == "12"


def test_a_failed_iteration_keeps_nothing(tmp_path: Path) -> None:
    templates, probe = template(tmp_path, "{% for c in items %}{{ probe(c.name) }}{{ mustBeInt(c.port) }}{% endfor %}")
    broken = Item("a", port="eighty")
    with pytest.raises(TemplateError):
        templates.render({"items": [broken]})
    with pytest.raises(TemplateError):
        templates.render({"items": [broken]})
    assert probe.calls == ["a", "a"]


def test_only_what_the_last_render_used_is_kept(tmp_path: Path) -> None:
    templates, probe = template(tmp_path, "{% for c in items %}{{ probe(c.name) }}{% endfor %}")
    a, b = Item("a"), Item("b")
    templates.render({"items": [a]})
    templates.render({"items": [b]})
    templates.render({"items": [b]})
    probe.calls.clear()
    templates.render({"items": [a]})  # two renders ago: dropped, and `a` no longer pinned
    assert probe.calls == ["a"]


def test_an_edited_template_is_compiled_with_empty_tables(tmp_path: Path) -> None:
    templates, _ = template(tmp_path, "{% for c in items %}{{ probe(c.name) }}-{% endfor %}")
    items = [Item("a")]
    assert templates.render({"items": items}) == "a-"
    path = tmp_path / "t.j2"
    path.write_text("{% for c in items %}{{ probe(c.name) }}+{% endfor %}")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert templates.render({"items": items}) == "a+"


# -- what groupBy* files each item under, kept across renders (per_item_table) ----------------


def test_grouping_follows_replaced_items(tmp_path: Path) -> None:
    templates, _ = template(
        tmp_path, "{% for host, group in groupByMulti(items, 'env.HOST', ',').items() %}"
                  "{{ host }}={{ group|map(attribute='name')|join('+') }};{% endfor %}",
    )
    a, b = Item("a", env={"HOST": "x,y"}), Item("b", env={"HOST": "y"})
    assert templates.render({"items": [a, b]}) == "x=a;y=a+b;"
    assert templates.render({"items": [a, Item("b", env={"HOST": "z"})]}) == "x=a;y=a;z=b;"
    assert templates.render({"items": [Item("a", env={}), b]}) == "y=b;"


def test_each_call_of_a_grouping_function_keeps_its_own_results(tmp_path: Path) -> None:
    templates, _ = template(
        tmp_path, "{{ groupByLabel(items, 'a')|list }} {{ groupByLabel(items, 'b')|list }} "
                  "{{ groupByWithDefault(items, 'Labels.a', '-')|list }} {{ groupByWithDefault(items, 'Labels.a', '+')|list }}",
    )
    items = [{"Labels": {"a": "1", "b": "2"}}, {"Labels": {"b": "3"}}]
    expected = "['1'] ['2', '3'] ['-', '1'] ['+', '1']"
    assert templates.render({"items": items}) == expected
    assert templates.render({"items": items}) == expected


def test_grouping_sees_changes_a_template_makes_in_place(tmp_path: Path) -> None:
    templates, _ = template(
        tmp_path, "{% if rename %}{{ set(items[0].env, 'HOST', 'b') }}{% endif %}{{ groupBy(items, 'env.HOST')|list }}"
    )
    items = [Item("a", env={"HOST": "a"})]
    assert templates.render({"items": items, "rename": False}) == "['a']"
    assert templates.render({"items": items, "rename": True}).endswith("['b']")


def test_per_call_tables_of_arguments_no_longer_used_are_dropped(tmp_path: Path) -> None:
    templates, _ = template(tmp_path, "{{ groupByLabel(items, label)|list }}")
    items = [{"Labels": {"a": "1"}}]
    for label in ("a", "b", "c", "d"):
        templates.render({"items": items, "label": label})
    memo = templates.environment.pygen_memo  # type: ignore[attr-defined]
    assert [site[1] for site in memo._item_tables] == ["c", "d"]


def test_an_error_in_a_memoised_body_names_its_template_line(tmp_path: Path) -> None:
    templates, _ = template(tmp_path, "header\n{% for c in items %}\n{{ probe(c.name) }}\n{{ mustBeInt(c.port) }}\n"
                                      "{% endfor %}\n")
    assert "pygen_memo" in compiled(templates)
    with pytest.raises(TemplateError, match=r"t\.j2:4: error calling mustBeInt"):
        templates.render({"items": [Item("a", port="eighty")]})


# -- what the sources hand templates keeps its identity while unchanged -------------------------


def test_bodies_reading_env_and_docker_are_reused_until_those_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ContainerStore()
    store.current_id = ""
    store.replace_all(bench_inspects(3), [])
    config = TemplateConfig([str(tmp_path / "t.j2")], dest=str(tmp_path / "out"))
    templates, probe = template(
        tmp_path, "{% for c in containers %}{{ probe(c.Name) }}{{ Env.PYGEN_SUFFIX }}{{ Docker.NumContainers }} "
                  "{% endfor %}",
    )

    def render() -> str:
        probe.calls.clear()
        return templates.render(build_context(store, config, None, store.find).context)

    monkeypatch.setenv("PYGEN_SUFFIX", "!")
    assert render() == "bench-2!3 bench-1!3 bench-0!3 "
    assert render() == "bench-2!3 bench-1!3 bench-0!3 "
    assert probe.calls == []
    monkeypatch.setenv("PYGEN_SUFFIX", "?")
    assert render() == "bench-2?3 bench-1?3 bench-0?3 "
    assert len(probe.calls) == 3
    store.remove(bench_inspects(3)[0]["Id"])
    assert render() == "bench-1?2 bench-0?2 "  # without /info, NumContainers is the store's count
    assert len(probe.calls) == 2


def test_a_template_that_changed_env_gets_a_fresh_copy(tmp_path: Path) -> None:
    first = environment_snapshot()
    assert environment_snapshot() is first
    first["PYGEN_EDITED_BY_A_TEMPLATE"] = "1"
    second = environment_snapshot()
    assert second is not first and "PYGEN_EDITED_BY_A_TEMPLATE" not in second


def test_pygen_memo_off_renders_every_iteration_with_plain_jinja(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYGEN_MEMO", "off")
    templates, probe = template(
        tmp_path, "{% for host, group in groupBy(items, 'env.HOST').items() %}{{ probe(host) }}{% endfor %}"
    )
    items = [Item("a", env={"HOST": "x"})]
    assert templates.render({"items": items}) == templates.render({"items": items}) == "x"
    assert probe.calls == ["x", "x"]
    assert "pygen_memo" not in compiled(templates)
