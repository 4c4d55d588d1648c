"""The function tables and install(): globals, filters, Jinja built-ins kept, Go-style errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2
import pytest

from pygen.errors import TemplateFunctionError
from pygen.functions.gojson import NilDict
from pygen.functions.registry import (
    JINJA_BUILTIN_FILTERS,
    confd_functions,
    confd_store_functions,
    docker_gen_functions,
    install,
)
from pygen.templating import make_environment

DOCKER_GEN_NAMES = [
    "closest", "coalesce", "comment", "contains", "dir", "exists", "groupBy", "groupByWithDefault",
    "groupByKeys", "groupByMulti", "groupByLabel", "groupByLabelWithDefault", "include", "intersect", "keys",
    "replace", "parseBool", "fromYaml", "toYaml", "mustFromYaml", "mustToYaml", "queryEscape", "split",
    "splitN", "sortStringsAsc", "sortStringsDesc", "sortObjectsByKeysAsc", "sortObjectsByKeysDesc", "toLower",
    "toUpper", "when", "where", "whereNot", "whereExist", "whereNotExist", "whereAny", "whereAll",
    "whereLabelExists", "whereLabelDoesNotExist", "whereLabelValueMatches", "json", "parseJson", "sha1",
    "sprigCoalesce", "sprigContains", "sprigDir", "sprigReplace", "sprigSplit", "sprigSplitn", "mustBeOneOf",
    "mustBeInt", "mustBeIntInRange", "nginxQuote", "nginxMustParseHSTS",
]
SPRIG_NAMES = [
    "add1", "append", "concat", "deepCopy", "default", "dict", "empty", "first", "get", "has", "hasKey",
    "hasPrefix", "hasSuffix", "join", "list", "merge", "mul", "add", "sub", "plural", "set", "ternary",
    "toJson", "toPrettyJson", "toString", "trim", "trimPrefix", "trimSuffix", "unset", "without", "splitn",
]
CONFD_NAMES = [
    "get", "gets", "getv", "getvs", "exists", "ls", "lsdir", "base", "dir", "join", "split", "getenv", "atoi",
    "seq", "jsonArray", "base64Encode", "base64Decode", "reverse", "sortByLength", "sortKVByLength",
    "fileExists", "lookupIP", "lookupSRV", "json", "map",
]


@dataclass
class Container:
    Name: str
    Env: dict[str, str] = field(default_factory=dict)
    Labels: dict[str, str] = field(default_factory=NilDict)


CONTAINERS = [
    Container("web1", {"VIRTUAL_HOST": "a.test"}, {"app": "web"}),
    Container("web2", {"VIRTUAL_HOST": "b.test"}, {"app": "web"}),
    Container("db", {}, {"app": "db"}),
]


@pytest.fixture
def env() -> jinja2.Environment:
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    install(environment, docker_gen_functions())
    return environment


def render(environment: jinja2.Environment, source: str, **context: Any) -> str:
    return environment.from_string(source).render(**context)


def test_every_docker_gen_and_sprig_name_is_present() -> None:
    table = docker_gen_functions()
    missing = [n for n in DOCKER_GEN_NAMES + SPRIG_NAMES + ["printf", "index", "len"] if n not in table]
    assert missing == []


def test_confd_table_has_confd_names_and_keeps_docker_gen_functions() -> None:
    table = confd_functions({})
    assert [n for n in CONFD_NAMES if n not in table] == []
    assert "groupByLabel" in table and "toJson" in table


def test_store_functions_read_the_renders_keys_as_globals_and_as_filters() -> None:
    """The environment is made before any read; each render brings its own snapshot."""
    environment = make_environment([], confd_functions())
    source = "{{ getv('/a') }} {{ '/a'|getv }} {{ '/none'|getv('d') }} {{ '/'|ls|join(',') }} {{ '/a'|exists }}"
    for value in ("1", "2"):
        snapshot = {"/a": value, "/b": "x"}
        rendered = environment.from_string(source).render(**confd_store_functions(snapshot))
        assert rendered == f"{value} {value} d a,b True"


def test_store_functions_without_a_snapshot_say_so() -> None:
    environment = make_environment([], confd_functions())
    with pytest.raises(TemplateFunctionError, match="error calling getv: this render has no keys to read"):
        environment.from_string("{{ '/a'|getv }}").render()


def test_functions_are_globals(env: jinja2.Environment) -> None:
    source = '{% for app, cs in groupByLabel(containers, "app").items() %}{{ app }}={{ cs|length }};{% endfor %}'
    assert render(env, source, containers=CONTAINERS) == "db=1;web=2;"


def test_functions_are_filters_with_the_first_argument_piped(env: jinja2.Environment) -> None:
    source = '{{ containers|groupByLabel("app")|list }} {{ containers|whereExist("Env.VIRTUAL_HOST")|length }}'
    assert render(env, source, containers=CONTAINERS) == "['db', 'web'] 2"


def test_jinja_builtin_filters_are_not_replaced(env: jinja2.Environment) -> None:
    source = (
        '{{ missing|default("d") }}|{{ ["a", "b"]|join(",") }}|{{ [3, 4]|first }}|{{ "aXb"|replace("X", "-") }}'
        '|{{ "  t "|trim }}|{{ "abc"|length }}'
    )
    assert render(env, source) == "d|a,b|3|a-b|t|3"
    for name in ("default", "join", "first", "replace", "trim", "list", "length"):
        assert env.filters[name] is not docker_gen_functions().get(name)


def test_globals_with_builtin_filter_names_carry_docker_gen_semantics(env: jinja2.Environment) -> None:
    source = (
        '{{ default("d", "") }}|{{ join("-", ["a", "b"]) }}|{{ first([5, 6]) }}|{{ replace("aaa", "a", "b", 2) }}'
        '|{{ trim(" x ") }}|{{ list(1, 2) }}'
    )
    assert render(env, source) == "d|a-b|5|bba|x|[1, 2]"


def test_builtin_filter_names_are_protected_by_name() -> None:
    environment = jinja2.Environment()
    install(environment, {"default": lambda *a: "mine", "custom": lambda x: f"<{x}>"})
    assert environment.globals["default"]() == "mine"
    assert render(environment, '{{ missing|default("jinja") }}{{ "v"|custom }}') == "jinja<v>"
    assert "default" in JINJA_BUILTIN_FILTERS


def test_dict_global_accepts_sprig_and_jinja_styles(env: jinja2.Environment) -> None:
    assert render(env, '{{ dict("a", 1)["a"] }}{{ dict(b=2)["b"] }}') == "12"


def test_undefined_arguments_are_go_nil(env: jinja2.Environment) -> None:
    source = '{{ coalesce(c.Missing, "fallback") }}|{{ where(cs, "Env.X", nothing)|length }}|{{ toJson(nope) }}'
    assert render(env, source, c={}, cs=CONTAINERS) == "fallback|3|null"


def test_errors_are_template_function_errors_naming_the_function(env: jinja2.Environment) -> None:
    with pytest.raises(TemplateFunctionError, match=r'^error calling mustBeInt: value must be an integer; got "x"$'):
        render(env, '{{ mustBeInt("x") }}')
    with pytest.raises(TemplateFunctionError, match=r"^error calling groupBy: wrong number of args"):
        render(env, "{{ groupBy(cs) }}", cs=CONTAINERS)
    with pytest.raises(TemplateFunctionError, match=r"^error calling keys: cannot call keys on a non-map value"):
        render(env, "{{ cs|keys }}", cs=[1])


def test_sprig_order_in_a_template(env: jinja2.Environment) -> None:
    source = '{{ ternary("yes", "no", true) }} {{ hasPrefix("we", "web") }} {{ printf("%s:%d", "h", 80) }}'
    assert render(env, source) == "yes True h:80"


def test_nginx_proxy_style_snippet(env: jinja2.Environment) -> None:
    source = (
        '{% for host, cs in groupByMulti(containers, "Env.VIRTUAL_HOST", ",").items() %}'
        "upstream {{ host }} { "
        "{% for c in cs %}server {{ c.Name }}; {% endfor %}}\n"
        "{% endfor %}"
    )
    expected = "upstream a.test { server web1; }\nupstream b.test { server web2; }\n"
    assert render(env, source, containers=CONTAINERS) == expected


def test_confd_semantics_win_in_the_etcd_table() -> None:
    environment = jinja2.Environment()
    install(environment, confd_functions({"/svc/web/1": "10.0.0.1:80", "/svc/web/2": "10.0.0.2:80", "/svc/name": "x"}))
    source = (
        '{{ join(ls("/svc/web"), ",") }}|{{ dir("/svc/web/1") }}|{{ split("a/b", "/") }}|{{ exists("/svc/name") }}'
        '|{{ contains("hello", "ell") }}|{{ json("{\\"a\\": 1}")["a"] }}|{{ trimSuffix("a.conf", ".conf") }}'
        '|{% for kv in gets("/svc/web/*") %}{{ kv.Key|base }}={{ kv.Value }} {% endfor %}'
        '|{{ getv("/missing", "dflt") }}|{{ toJson(getvs("/svc/web/*")) }}|{{ "/svc/name"|getv }}'
    )
    assert render(environment, source) == (
        "1,2|/svc/web|['a', 'b']|True|True|1.0|a|1=10.0.0.1:80 2=10.0.0.2:80 |dflt|"
        '["10.0.0.1:80","10.0.0.2:80"]|x'
    )


def test_confd_missing_key_fails_the_render() -> None:
    environment = jinja2.Environment()
    install(environment, confd_functions({}))
    with pytest.raises(TemplateFunctionError, match=r"^error calling getv: key does not exist: /nope$"):
        render(environment, '{{ getv("/nope") }}')


def test_wrapped_functions_keep_their_docs() -> None:
    table = docker_gen_functions()
    assert "deep-equals" in (table["where"].__doc__ or "")
