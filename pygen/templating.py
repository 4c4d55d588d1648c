"""The Jinja side: one template set per config, errors that name the file and line.

docker-gen parses all ``;``-separated files into one set named by basename and starts at the
first; the others can be reached by basename (here: ``{% include "other.tmpl" %}`` and
``{% import %}``), and so can files beside the templates. Files are re-read when they change
on disk (Jinja's auto-reload checks the modification time), so an edited template takes
effect on the next render, as in docker-gen.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from types import BuiltinFunctionType, FunctionType
from typing import Any

import jinja2
import jinja2.runtime
from jinja2.utils import internalcode, missing

from pygen import loopmemo
from pygen.errors import TemplateError, TemplateFunctionError
from pygen.functions.values import nil
from pygen.source import Lazy


class _NamedFilesLoader(jinja2.BaseLoader):
    """Loads the configured template files by basename or by the path they were given as."""

    def __init__(self, paths: list[str]) -> None:
        self.by_name: dict[str, str] = {}
        for path in paths:
            self.by_name.setdefault(path, path)
            self.by_name.setdefault(os.path.basename(path), path)

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.by_name.get(template)
        if path is None:
            raise jinja2.TemplateNotFound(template)
        try:
            modified = os.path.getmtime(path)
            source = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise jinja2.TemplateNotFound(template) from None
        except OSError as error:
            raise TemplateError(f"Unable to read template {path}: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise TemplateError(f"Unable to read template {path}: not UTF-8 ({error.reason})") from None

        def up_to_date() -> bool:
            try:
                return os.path.getmtime(path) == modified
            except OSError:
                return False

        return source, path, up_to_date


class _RecordingLoader(jinja2.ChoiceLoader):
    """Remembers every file a render loaded, so only edits of those files trigger a re-render.

    ``load`` is where to record: Jinja's ``get_template`` calls it, and ChoiceLoader's own
    ``load`` asks each loader directly, never going through ``get_source`` here.
    """

    def __init__(self, loaders: list[jinja2.BaseLoader]) -> None:
        super().__init__(loaders)
        self.loaded: set[str] = set()

    def load(
        self, environment: jinja2.Environment, name: str, globals: MutableMapping[str, Any] | None = None
    ) -> jinja2.Template:
        template = super().load(environment, name, globals)
        if template.filename:
            self.loaded.add(os.path.abspath(template.filename))
        return template


def make_environment(paths: list[str], functions: Mapping[str, Callable[..., Any]]) -> jinja2.Environment:
    """A Jinja environment that knows the template files, their directories, and the functions."""
    from pygen.functions.registry import install

    directories = list(dict.fromkeys(os.path.dirname(os.path.abspath(path)) for path in paths))
    environment = jinja2.Environment(
        loader=_RecordingLoader([_NamedFilesLoader(paths), jinja2.FileSystemLoader(directories)]),
        keep_trailing_newline=True,
        auto_reload=True,
        autoescape=False,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        finalize=_finalize,
    )
    environment.context_class = _Context
    environment.template_class = _Template
    install(environment, functions)
    environment.globals.setdefault("eval", evaluate)
    loopmemo.install(environment, functions)
    return environment


@jinja2.pass_context
def evaluate(context: jinja2.runtime.Context, name: Any, *data: Any) -> str:
    """docker-gen's ``eval name [data]``: another template of the set, by basename (or any
    file beside the templates), rendered into a string.

    Go hands the named template ``data`` as its dot; a Jinja template has no dot, so it sees
    this render's variables (``containers``, ``Env``... as ``{% include %}`` would) and
    ``data``, None when not given. Errors inside it name its own file and line.
    """
    if len(data) > 1:
        raise TemplateFunctionError(f"eval: wrong number of args: want 1 or 2, got {1 + len(data)}")
    if not isinstance(name, str):
        raise TemplateFunctionError(f"eval: the template name must be a string, not {type(name).__name__}")
    try:
        template = context.environment.get_template(name)
    except jinja2.TemplateNotFound:
        raise TemplateFunctionError(f'eval: no template "{name}" in the template set') from None
    variables = dict(context.get_all())
    variables["data"] = nil(data[0]) if data else None  # a missing field is Go-nil, as for any function
    return "".join(template.root_render_func(template.new_context(variables, shared=True)))


class _Context(jinja2.runtime.Context):
    """Jinja's template context, resolving ``Lazy`` values, with a cheaper ``call``.

    A name a template uses is resolved once per render (and once per included template): a
    ``Lazy`` value (pygen.source) is built then, so templates that never use it never pay.

    Every ``f(x)`` in a template goes through ``Context.call``, which looks for a
    ``jinja_pass_arg`` marker on the callable and on its ``__call__`` before calling it: about
    a third of the time of a call to a template function, paid on every container of every
    render. A Python function's ``__call__`` is always a method-wrapper and a builtin (such as
    ``c.Env.get``) carries no attributes at all, so for those two types the answer depends only
    on the function's own marker; anything else takes Jinja's own path unchanged.
    """

    def resolve_or_missing(self, key: str) -> Any:
        # Jinja's own lookup, inlined: it runs for every name at the top of every loop body
        # (700 times a render of the nginx-proxy template at 500 containers).
        if key in self.vars:
            value = self.vars[key]
        elif key in self.parent:
            value = self.parent[key]
        else:
            return missing
        return value.get() if type(value) is Lazy else value

    @internalcode
    def call(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        kind = type(function)
        if kind is not BuiltinFunctionType and (
            kind is not FunctionType or hasattr(function, "jinja_pass_arg")
        ):
            return super().call(function, *args, **kwargs)
        if kwargs:
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
        try:
            return function(*args, **kwargs)
        except StopIteration:
            return self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class _Template(jinja2.Template):
    """Jinja's template, with the globals flattened before each render.

    Jinja keeps a template's globals as a ``ChainMap`` over the environment's and copies it
    into every new context with ``dict()``, one Python-level lookup per name: with pygen's
    hundred functions that was 60 us a render, a fifth of a small one. Merging the maps with
    ``dict.update`` gives the same names, values and order at C speed, and still reflects any
    change made to the globals since the last render.
    """

    def new_context(
        self, vars: dict[str, Any] | None = None, shared: bool = False, locals: Mapping[str, Any] | None = None
    ) -> jinja2.runtime.Context:
        return jinja2.runtime.new_context(
            self.environment, self.name, self.blocks, vars, shared, _flattened(self.globals), locals
        )


def _flattened(names: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A ChainMap as one dict (the first map wins, as in a lookup); anything else as it is."""
    if type(names) is not ChainMap:
        return names
    flat: dict[str, Any] = {}
    for mapping in reversed(names.maps):
        flat.update(mapping)
    return flat


def _finalize(value: Any) -> Any:
    """Print values as docker-gen users expect: ``80`` not ``80.0`` (JSON numbers are floats),
    and nothing for Go-nil instead of Python's ``None``. Runs for every ``{{ }}``: strings,
    by far the most common, are answered first."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        from pygen.functions.gofmt import format_float_g

        return format_float_g(value)
    return value


class TemplateSet:
    """The templates of one config, rendered from a context dict into text."""

    def __init__(self, paths: list[str], functions: Mapping[str, Callable[..., Any]]) -> None:
        if not paths:
            raise TemplateError("no template given")
        self.paths = list(paths)
        self.environment = make_environment(self.paths, functions)

    @property
    def entry(self) -> str:
        return self.paths[0]

    def uses_file(self, path: str) -> bool:
        """True for a configured template file, or a file a render included or imported."""
        target = os.path.abspath(path)
        loader = self.environment.loader
        loaded = loader.loaded if isinstance(loader, _RecordingLoader) else set()
        return target in loaded or any(target == os.path.abspath(own) for own in self.paths)

    def load(self) -> jinja2.Template:
        """Parse (or fetch from cache) the entry template; raise TemplateError with file:line."""
        try:
            return self.environment.get_template(self.entry)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(
                f"Unable to parse template: {error.filename or self.entry}:{error.lineno}: {error.message}"
            ) from None
        except jinja2.TemplateNotFound as error:
            raise TemplateError(f"Unable to parse template: {error.name}: file not found") from None

    def compile_quietly(self) -> None:
        """Parse ahead of time; a broken template is reported by the render that needs it."""
        try:
            self.load()
        except TemplateError:
            pass

    def render(self, context: Mapping[str, Any]) -> str:
        """Render the entry template; every failure becomes one TemplateError naming file:line."""
        template = self.load()
        memo: loopmemo.MemoState = self.environment.pygen_memo  # type: ignore[attr-defined]
        rendering = memo.begin_render()
        try:
            return template.render(context)
        except TemplateError:
            raise
        except jinja2.TemplateSyntaxError as error:  # an included file that does not parse
            raise TemplateError(
                f"Unable to parse template: {error.filename or self.entry}:{error.lineno}: {error.message}"
            ) from None
        except Exception as error:  # noqa: BLE001 - any runtime failure is a template error
            location = _template_location(error, self.entry)
            kind = "" if isinstance(error, (TemplateFunctionError, jinja2.TemplateError)) else (
                f"{type(error).__name__}: "
            )
            raise TemplateError(f"Template error: {location}: {kind}{error}") from None
        finally:
            memo.end_render(rendering)


def _template_location(error: BaseException, default: str) -> str:
    """The innermost template frame of a traceback, as ``file:line``.

    Jinja rewrites tracebacks so that template frames carry the template's file name and
    line number (their globals hold ``__jinja_exception__``); take the innermost such frame.
    """
    location = default
    traceback = error.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if "__jinja_exception__" in frame.f_globals or "__jinja_template__" in frame.f_globals:
            location = f"{frame.f_code.co_filename}:{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return location
