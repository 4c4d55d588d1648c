"""The Jinja environment pygen renders with: its faster ``Context.call`` must call everything the
way Jinja's own does, and ``finalize`` must print values as docker-gen users expect.

Each template is rendered twice, by pygen's environment and by a plain Jinja environment with the
same settings, and the outputs must be equal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
import pytest
from markupsafe import Markup

from pygen.errors import TemplateError
from pygen.functions.registry import docker_gen_functions
from pygen.source import Lazy
from pygen.templating import TemplateSet, make_environment
from tests.helpers.template_files import template_set


@jinja2.pass_context
def context_value(context: jinja2.runtime.Context, name: str) -> Any:
    return context.get(name, "-")


@jinja2.pass_environment
def environment_flag(environment: jinja2.Environment) -> str:
    return str(environment.keep_trailing_newline)


@jinja2.pass_eval_context
def autoescaping(eval_context: jinja2.nodes.EvalContext) -> str:
    return str(eval_context.autoescape)


class CallableWithContext:
    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context, name: str) -> Any:
        return context.get(name, "-")


def keyword_names(*args: Any, **kwargs: Any) -> str:
    """Shows what a plain function receives: Jinja's internal keywords must not arrive."""
    return ",".join(sorted(kwargs)) or "none"


def stops() -> None:
    raise StopIteration


def marked_later(*args: Any) -> str:
    return " ".join(type(arg).__name__ for arg in args)


HELPERS: dict[str, Callable[..., Any]] = {
    "context_value": context_value,
    "environment_flag": environment_flag,
    "autoescaping": autoescaping,
    "callable_with_context": CallableWithContext(),
    "keyword_names": keyword_names,
    "stops": stops,
}

TEMPLATES = [
    '{% for i in [1, 2] %}{% set inner = i * 10 %}{{ context_value("inner") }};{% endfor %}',
    '{% set outer = "o" %}{% for i in [1] %}{{ context_value("outer") }}{% endfor %}',
    "{% for i in [1] %}{{ callable_with_context('i') }}{% endfor %}{{ callable_with_context('x') }}",
    "{{ environment_flag() }} {{ autoescaping() }}",
    "{% for i in [1] %}{{ keyword_names(1, a=2) }}{% endfor %} {{ keyword_names() }}",
    "[{{ stops() }}]",
    "{{ {'a': 1}.get('a') }} {{ 'x,y'.split(',')|length }} {{ range(3)|list }} {{ dict(a=1) }}",
    (
        "{% macro m(x) %}<{{ x }}{{ caller() if caller else '' }}>{% endmacro %}"
        "{{ m(1) }}{% call m(2) %}c{% endcall %}"
    ),
    "{% set ns = namespace(n=0) %}{% for i in [1, 2] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
    '{{ "%s-%d"|format("a", 3) }} {{ [3, 1]|sort|join(",") }} {{ lipsum(1, false, 5, 10)|length > 0 }}',
]


def render_both(source: str) -> tuple[str, str]:
    ours = make_environment([], HELPERS)
    plain = jinja2.Environment(keep_trailing_newline=True, extensions=["jinja2.ext.do"], finalize=ours.finalize)
    plain.globals.update(HELPERS)
    return ours.from_string(source).render(), plain.from_string(source).render()


@pytest.mark.parametrize("source", TEMPLATES)
def test_calls_behave_as_in_plain_jinja(source: str) -> None:
    ours, plain = render_both(source)
    assert ours == plain


def test_loop_variables_reach_a_context_function() -> None:
    ours, _ = render_both(TEMPLATES[0])
    assert ours == "10;20;"


def test_plain_functions_get_no_internal_keywords() -> None:
    ours, _ = render_both(TEMPLATES[4])
    assert ours == "a none"


def test_a_marker_added_after_creation_is_honoured() -> None:
    """The fast path reads the function's marker on every call, so decorating late still works."""
    environment = make_environment([], {"late": marked_later})
    template = environment.from_string('{{ late("x") }}')
    assert template.render() == "str"
    jinja2.pass_environment(marked_later)
    try:
        assert template.render() == "Environment str"
    finally:
        del marked_later.jinja_pass_arg  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "printed"),
    [(None, ""), (80.0, "80"), (2.5, "2.5"), (1e21, "1e+21"), ("s", "s"), (Markup("<m>"), "<m>"),
     (0, "0"), (True, "True"), ([1.0, None], "[1.0, None]")],
)
def test_finalize(value: Any, printed: str) -> None:
    environment = make_environment([], {})
    assert environment.from_string("{{ v }}").render(v=value) == printed


def test_function_errors_still_name_the_template_line(tmp_path: Path) -> None:
    template = tmp_path / "t.tmpl"
    template.write_text('line one\n{% for p in ["80", "x"] %}{{ mustBeInt(p) }}{% endfor %}\n')
    with pytest.raises(TemplateError) as caught:
        TemplateSet([str(template)], docker_gen_functions()).render({})
    assert str(caught.value) == (
        f'Template error: {template}:2: error calling mustBeInt: value must be an integer; got "x"'
    )


def test_a_new_context_holds_what_jinja_would_put_there() -> None:
    environment = make_environment([], docker_gen_functions())
    template = environment.from_string("{{ x }}", globals={"x": "template", "only_here": 1})
    ours = template.new_context({"v": 1})
    theirs = jinja2.Template.new_context(template, {"v": 1})
    assert list(ours.parent.items()) == list(theirs.parent.items())
    assert ours.globals_keys == theirs.globals_keys
    assert template.render() == "template"  # a template's own globals win over the environment's


def test_globals_changed_after_a_render_are_seen_by_the_next() -> None:
    environment = make_environment([], {})
    template = environment.from_string("{{ added|default('none') }}")
    assert template.render() == "none"
    environment.globals["added"] = "now"
    assert template.render() == "now"


def test_include_and_import_see_the_globals(tmp_path: Path) -> None:
    (tmp_path / "main.tmpl").write_text(
        '{% import "macros.tmpl" as m %}{% for c in ["a"] %}{% include "part.tmpl" %}{% endfor %}{{ m.up("b") }}'
    )
    (tmp_path / "part.tmpl").write_text("{{ toUpper(c) }}")
    (tmp_path / "macros.tmpl").write_text("{% macro up(s) %}{{ toUpper(s) }}{% endmacro %}")
    templates = TemplateSet([str(tmp_path / "main.tmpl")], docker_gen_functions())
    assert templates.render({}) == "AB"


class CountingFactory:
    def __init__(self, value: Any) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


def test_a_lazy_value_is_built_only_for_templates_that_use_it() -> None:
    factory = CountingFactory({"svc": {"web": "10.0.0.1:80"}})
    environment = make_environment([], {})

    assert environment.from_string("{{ kv }}").render(kv="x", tree=Lazy(factory)) == "x"
    assert factory.calls == 0


def test_a_lazy_value_is_built_once_and_templates_see_the_value(tmp_path: Path) -> None:
    (tmp_path / "main.tmpl").write_text(
        '{% for name in tree %}{{ name }} {% endfor %}{{ tree["svc"]["web"] }} '
        '{% include "part.tmpl" %} {{ context_value("tree")|length }}'
    )
    (tmp_path / "part.tmpl").write_text("{{ tree.svc.web }}")
    factory = CountingFactory({"svc": {"web": "10.0.0.1:80"}})
    templates = TemplateSet([str(tmp_path / "main.tmpl")], {"context_value": context_value})

    assert templates.render({"tree": Lazy(factory)}) == "svc 10.0.0.1:80 10.0.0.1:80 1"
    assert factory.calls == 1


# ------------------------------------------------------------------------------ eval


def test_eval_renders_a_template_of_the_set_with_data(tmp_path: Path) -> None:
    templates = template_set(tmp_path, {
        "main.tmpl": '{% for c in containers %}{{ eval("server.tmpl", c)|trim }};{% endfor %}',
        "server.tmpl": "server {{ data.Name }} ({{ containers|length }} in all)\n",
    })
    assert templates.render({"containers": [{"Name": "web"}, {"Name": "api"}]}) == (
        "server web (2 in all);server api (2 in all);"
    )


def test_eval_without_data_gives_none(tmp_path: Path) -> None:
    templates = template_set(tmp_path, {
        "main.tmpl": '[{{ eval("part.tmpl") }}]',
        "part.tmpl": "{{ data is none }}",
    })
    assert templates.render({}) == "[True]"


def test_eval_output_is_text_never_template_code(tmp_path: Path) -> None:
    """A hostile container name that looks like a template is printed as it is."""
    templates = template_set(tmp_path, {
        "main.tmpl": '{{ eval("name.tmpl", name) }}',
        "name.tmpl": "{{ data }}",
    })
    assert templates.render({"name": "{{ 7 * 7 }}{% raw %}"}) == "{{ 7 * 7 }}{% raw %}"


@pytest.mark.parametrize(("call", "message"), [
    ('eval("missing.tmpl")', 'eval: no template "missing.tmpl" in the template set'),
    ('eval("part.tmpl", 1, 2)', "eval: wrong number of args: want 1 or 2, got 3"),
    ("eval(80)", "eval: the template name must be a string, not int"),
])
def test_eval_errors_name_the_calling_line(tmp_path: Path, call: str, message: str) -> None:
    templates = template_set(tmp_path, {"main.tmpl": "ok\n{{ " + call + " }}\n", "part.tmpl": "x"})
    with pytest.raises(TemplateError) as caught:
        templates.render({})
    assert str(caught.value) == f"Template error: {tmp_path / 'main.tmpl'}:2: {message}"


def test_an_error_inside_an_evaluated_template_names_its_own_line(tmp_path: Path) -> None:
    templates = template_set(tmp_path, {
        "main.tmpl": '{{ eval("port.tmpl", "x") }}',
        "port.tmpl": "first\n{{ mustBeInt(data) }}",
    })
    with pytest.raises(TemplateError) as caught:
        templates.render({})
    assert str(caught.value) == (
        f'Template error: {tmp_path / "port.tmpl"}:2: error calling mustBeInt: value must be an integer; got "x"'
    )


def test_a_file_beside_the_templates_that_eval_loaded_is_watched(tmp_path: Path) -> None:
    (tmp_path / "beside.tmpl").write_text("beside")
    templates = template_set(tmp_path, {"main.tmpl": '{{ eval("beside.tmpl") }}'})
    assert not templates.uses_file(str(tmp_path / "beside.tmpl"))
    assert templates.render({}) == "beside"
    assert templates.uses_file(str(tmp_path / "beside.tmpl"))


def test_a_file_beside_the_templates_that_a_render_included_is_watched(tmp_path: Path) -> None:
    (tmp_path / "part.tmpl").write_text("part")
    (tmp_path / "macros.tmpl").write_text("{% macro m() %}macro{% endmacro %}")
    templates = template_set(tmp_path, {"main.tmpl": '{% include "part.tmpl" %} {% import "macros.tmpl" as x %}'
                                                     "{{ x.m() }}"})
    assert templates.render({}) == "part macro"
    assert templates.uses_file(str(tmp_path / "part.tmpl"))
    assert templates.uses_file(str(tmp_path / "macros.tmpl"))
    assert not templates.uses_file(str(tmp_path / "other.tmpl"))
