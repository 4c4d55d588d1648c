"""The template function tables and their installation into a Jinja environment.

`docker_gen_functions()` is what a docker-gen template can call, under docker-gen's (and sprig's)
names and argument orders. `confd_functions(kv)` is the etcd-gen table: confd's functions over one
snapshot of the keys, on top of the docker-gen table.

Every function is wrapped so that it behaves like a Go template function: Jinja `Undefined`
arguments arrive as None (Go-nil), and any failure surfaces as TemplateFunctionError with Go's
"error calling NAME: ..." prefix, which the renderer reports with the template file and line.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import jinja2.defaults
from jinja2 import Undefined
from jinja2.utils import missing

from pygen.errors import TemplateFunctionError
from pygen.functions import (
    files,
    gobuiltins,
    grouping,
    lists,
    nginx,
    selection,
    serialization,
    sorting,
    sprig,
    text,
    validation,
)
from pygen.functions.values import nil

_log = logging.getLogger("pygen")

#: Jinja's own filters keep their names: `x|default("y")`, `x|join(",")`, `x|length` behave as in
#: any Jinja template, while the same names called as functions (globals) are docker-gen's.
JINJA_BUILTIN_FILTERS = frozenset(jinja2.defaults.DEFAULT_FILTERS)


def _wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Undefined -> None for every argument; every failure -> TemplateFunctionError naming `name`."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        # Runs on every call from a template (several per container in a proxy template), and
        # Undefined arguments are rare: the arguments are copied only when one is found, instead
        # of on every call (which was half the cost of a call to mustBeInt).
        for arg in args:
            if isinstance(arg, Undefined):
                args = tuple(nil(a) for a in args)
                break
        if kwargs:
            kwargs = {k: nil(v) for k, v in kwargs.items()}
        try:
            return function(*args, **kwargs)
        except TemplateFunctionError as exc:
            raise TemplateFunctionError(f"error calling {name}: {exc}") from None
        except jinja2.TemplateError:
            raise
        except TypeError as exc:
            problem = _arity_problem(function, args, kwargs) or exc
            raise TemplateFunctionError(f"error calling {name}: {problem}") from None
        except (ValueError, AttributeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
            raise TemplateFunctionError(f"error calling {name}: {exc}") from None

    call.__dict__["template_name"] = name
    return call


def _arity_problem(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """Go's "wrong number of args" wording when the call itself did not fit the signature."""
    try:
        signature = inspect.signature(function)
        signature.bind(*args, **kwargs)
    except TypeError:
        required = [
            p for p in signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        return f"wrong number of args: want {len(required)} got {len(args) + len(kwargs)}"
    except ValueError:
        return None
    return None


def warn(*parts: Any) -> str:
    """``warn("service", name, "skipped")``: log one warning line through the ``pygen`` logger and
    return "" so it can sit anywhere in a template.

    Why: a template that drops bad input (an invalid service name, a port two services claim) must
    say so where operators look, in the log, and not only in a comment of the output file. The
    parts are joined with spaces, and every non-printable character is escaped, so data from Docker
    or etcd cannot forge extra log lines.
    """
    text = " ".join("" if part is None else str(part) for part in parts)
    _log.warning("%s", "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text))
    return ""


def _docker_gen_table() -> dict[str, Callable[..., Any]]:
    return {
        # docker-gen (spec §6.3)
        "closest": lists.closest,
        "coalesce": lists.coalesce,
        "comment": text.comment,
        "contains": lists.contains,
        "dir": files.dir_list,
        "exists": files.exists,
        "groupBy": grouping.group_by,
        "groupByWithDefault": grouping.group_by_with_default,
        "groupByKeys": grouping.group_by_keys,
        "groupByMulti": grouping.group_by_multi,
        "groupByLabel": grouping.group_by_label,
        "groupByLabelWithDefault": grouping.group_by_label_with_default,
        "include": files.include,
        "intersect": lists.intersect,
        "keys": lists.keys,
        "replace": text.replace,
        "parseBool": text.parse_bool,
        "fromYaml": serialization.from_yaml,
        "toYaml": serialization.to_yaml,
        "mustFromYaml": serialization.must_from_yaml,
        "mustToYaml": serialization.must_to_yaml,
        "queryEscape": text.query_escape,
        "split": text.split,
        "splitN": text.split_n,
        "sortStringsAsc": sorting.sort_strings_asc,
        "sortStringsDesc": sorting.sort_strings_desc,
        "sortObjectsByKeysAsc": sorting.sort_objects_by_keys_asc,
        "sortObjectsByKeysDesc": sorting.sort_objects_by_keys_desc,
        "toLower": text.to_lower,
        "toUpper": text.to_upper,
        "when": lists.when,
        "where": selection.where,
        "whereNot": selection.where_not,
        "whereExist": selection.where_exist,
        "whereNotExist": selection.where_not_exist,
        "whereAny": selection.where_any,
        "whereAll": selection.where_all,
        "whereLabelExists": selection.where_label_exists,
        "whereLabelDoesNotExist": selection.where_label_does_not_exist,
        "whereLabelValueMatches": selection.where_label_value_matches,
        "json": serialization.json_,
        "parseJson": serialization.parse_json,
        "sha1": text.sha1,
        "mustBeOneOf": validation.must_be_one_of,
        "mustBeInt": validation.must_be_int,
        "mustBeIntInRange": validation.must_be_int_in_range,
        "nginxQuote": nginx.nginx_quote,
        "nginxMustParseHSTS": nginx.nginx_must_parse_hsts,
        # sprig originals of the names docker-gen masks
        "sprigCoalesce": sprig.sprig_coalesce,
        "sprigContains": sprig.sprig_contains,
        "sprigDir": sprig.sprig_dir,
        "sprigReplace": sprig.sprig_replace,
        "sprigSplit": sprig.sprig_split,
        "sprigSplitn": sprig.sprig_splitn,
        # the sprig subset nginx-proxy uses (sprig argument order)
        "add": sprig.add,
        "add1": sprig.add1,
        "append": sprig.append,
        "push": sprig.append,
        "concat": sprig.concat,
        "deepCopy": sprig.deep_copy,
        "default": sprig.default,
        "dict": sprig.dict_,
        "div": sprig.div,
        "empty": sprig.empty,
        "first": sprig.first,
        "get": sprig.get,
        "has": sprig.has,
        "hasKey": sprig.has_key,
        "hasPrefix": sprig.has_prefix,
        "hasSuffix": sprig.has_suffix,
        "join": sprig.join,
        "list": sprig.list_,
        "merge": sprig.merge,
        "mod": sprig.mod,
        "mul": sprig.mul,
        "mustFromJson": serialization.parse_json,
        "mustToJson": serialization.json_,
        "plural": sprig.plural,
        "set": sprig.set_,
        "sha1sum": text.sha1,
        "splitn": sprig.sprig_splitn,
        "sub": sprig.sub,
        "ternary": sprig.ternary,
        "toJson": serialization.to_json,
        "toPrettyJson": serialization.to_pretty_json,
        "toString": sprig.to_string,
        "trim": sprig.trim,
        "trimPrefix": sprig.trim_prefix,
        "trimSuffix": sprig.trim_suffix,
        "unset": sprig.unset,
        "without": sprig.without,
        # Go text/template built-ins Jinja lacks
        "printf": gobuiltins.printf,
        "index": gobuiltins.index,
        "len": gobuiltins.length,
        # pygen additions
        "warn": warn,
    }


def docker_gen_functions() -> dict[str, Callable[..., Any]]:
    """docker-gen's template functions (and the sprig subset) under their Go names.

    Not included: `eval`, which needs the template set (``pygen.templating.evaluate``).
    """
    return {name: _wrap(name, function) for name, function in _docker_gen_table().items()}


def confd_functions(kv: Mapping[str, str] | None = None) -> dict[str, Callable[..., Any]]:
    """etcd-gen's functions: confd's over `kv` (one snapshot, prefix already stripped), plus the
    docker-gen table for everything confd does not define.

    Without `kv` (the table a Jinja environment is made with, before any read), the store
    functions (`get`, `getv`, `ls`...) call those of the render's context, which the source
    binds to each render's snapshot: so the filter forms (`"/k"|getv`), which Jinja takes from
    the environment and not from the context, read the same keys as `getv("/k")`.

    Where the names clash, confd's meaning wins, so confd templates run unchanged:

    ========== ============================================ ==========================================
    name       etcd-gen (confd)                             docker-gen meaning it replaces
    ========== ============================================ ==========================================
    exists     the KV key exists                            a file exists (use `fileExists`)
    dir        path.Dir of a key path                       list a directory
    join       ``join list sep``                            sprig ``join sep list``
    split      strings.Split(s, sep)                        (same)
    replace    strings.Replace(s, old, new, n)              (same)
    contains   substring test ``contains s substr``         map has key (use `hasKey`)
    json       decode a JSON object                         encode to JSON (use `toJson`)
    trimSuffix ``trimSuffix s suffix``                      sprig ``trimSuffix suffix s``
    add sub    two ints                                     sprig: variadic, any numeric text
    mul div mod
    reverse    reverse a list in place                      (Jinja's `reverse` filter is unchanged)
    parseBool  strconv.ParseBool                            (same)
    ========== ============================================ ==========================================
    """
    table = docker_gen_functions()
    from pygen.functions import confd  # only etcd-gen needs it

    for name, function in confd.confd_helpers().items():
        table[name] = _wrap(name, function)
    if kv is None:
        table.update((name, _from_render_context(name)) for name in confd.KVStoreFunctions({}).functions())
    else:
        table.update(confd_store_functions(kv))
    return table


def confd_store_functions(kv: Mapping[str, str]) -> dict[str, Callable[..., Any]]:
    """confd's store functions (`get`, `getv`, `ls`...) over `kv`, wrapped as the others."""
    from pygen.functions import confd

    return {name: _wrap(name, function) for name, function in confd.KVStoreFunctions(kv).functions().items()}


def _from_render_context(name: str) -> Callable[..., Any]:
    """A function that calls the render context's function of the same name."""

    @jinja2.pass_context
    def call(context: jinja2.runtime.Context, *args: Any, **kwargs: Any) -> Any:
        bound = context.resolve_or_missing(name)
        if bound is missing or bound is call:
            raise TemplateFunctionError(f"error calling {name}: this render has no keys to read")
        return bound(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def install(environment: jinja2.Environment, functions: Mapping[str, Callable[..., Any]]) -> None:
    """Make every function a Jinja global (`groupByLabel(containers, "app")`) and a filter
    (`containers|groupByLabel("app")`, the first argument piped in).

    A Jinja built-in filter is never replaced: `x|default("y")`, `xs|join(",")`, `xs|first`,
    `s|replace("a", "b")`, `s|trim` keep Jinja's meaning, while the globals of the same names carry
    docker-gen's/sprig's.
    """
    for name, function in functions.items():
        environment.globals[name] = function
        if name not in JINJA_BUILTIN_FILTERS:
            environment.filters[name] = function
