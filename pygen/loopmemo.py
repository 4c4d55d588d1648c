"""Memoised ``{% for %}`` bodies: a re-render re-runs only the iterations whose inputs changed.

In watch mode one event changes one container, yet a plain re-render runs the whole template
again over every container: at 500 containers that is most of the event's cost. This module
compiles each eligible loop body so that its output is kept, keyed by the values the body
reads (its loop variable, the names it uses from outside, the functions it calls). The next
render reuses the text of every iteration whose key is unchanged and runs the others. The
output is the same text, byte for byte: a body is memoised only when that is provably so.

**What makes a key.** Strings and numbers by value (with their type: ``1``, ``1.0`` and
``True`` print differently); short lists and tuples by their items; anything else by
identity, except iterators (a generator such as ``xs|select("odd")`` reads differently once
used), which no key can stand for: a body that reads one runs every time. Identity is right
for what the sources hand templates: a store replaces a container's model on every change and
never edits one in place, so the same object means the same data (``Env`` and ``.Docker``
stay the same objects while unchanged; etcd-gen's ``kv`` is new on every render). A key
holds references to its objects, so no other object can take their ids while the entry
lives. Entries not used by the last render that ran the loop are dropped.

Template functions that compute one thing per list item (what ``groupBy*`` files each
container under, whether ``where*`` keeps it) keep it the same way, by item identity:
`per_item_results`.

**When a body is not memoised** (it then runs as Jinja compiles it, only buffered):

- it does more than compute text from values: ``{% include %}``, ``{% import %}``, blocks,
  macros defined or called (``caller`` included), ``{% call %}``, ``{% break %}`` or
  ``{% continue %}`` of its own loop, autoescape changes, a filter or function that reads
  the clock, the file system, the network or the environment, or logs (`NONDETERMINISTIC`),
  a method call other than the reading ones of `READING_METHODS`, ``loop.changed()``,
  ``loop.previtem`` or ``loop.nextitem`` (its position, ``loop.index`` and the like, joins
  the key instead), a ``sameas`` test (equal strings share a key);
- a name it calls holds, at run time, anything but a known deterministic function
  (a template function of the per-render kind, a macro, a ``joiner``...);
- any template of the set can change a value in place (`MUTATING` functions, a method such
  as ``append`` or ``update``, ``{% set ns.attr = ... %}``, a cycler's ``next``): then a
  value read by identity may hold other data the next time, and memoisation is off for the
  whole template set. So it is when a template switches autoescaping (``{% autoescape %}``),
  which changes the text a body prints for the same values.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, TypeVar

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.utils import _PassArg

NONDETERMINISTIC = frozenset({
    # docker-gen: the file system; pygen: the log
    "dir", "exists", "include", "warn",
    # confd: the clock, the environment, DNS, the file system
    "datetime", "getenv", "lookupIP", "lookupIPV4", "lookupIPV6", "lookupSRV", "fileExists",
    # Jinja: random values
    "random", "lipsum",
})
"""Template functions and filters whose result depends on more than their arguments."""

MUTATING = frozenset({
    "set", "unset", "merge",  # sprig: change the dict passed in
    "reverse", "sortByLength", "sortKVByLength",  # confd: sort or reverse the list in place
    "sortStringsAsc", "sortStringsDesc",  # docker-gen: sort the list in place
})
"""Template functions that change an argument in place (as global names; a Jinja built-in
filter of the same name, such as ``|reverse``, is Jinja's and returns a new value)."""

READING_METHODS = frozenset({
    "get", "items", "keys", "values", "copy", "count", "index", "find", "rfind",
    "startswith", "endswith", "split", "rsplit", "splitlines", "partition", "rpartition",
    "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold",
    "replace", "join", "format", "zfill", "ljust", "rjust", "center", "removeprefix",
    "removesuffix", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper",
    "isdecimal", "isnumeric", "isidentifier", "isprintable", "encode", "decode", "hex",
})
"""Methods of str, dict and list a memoised body may call: they read their object."""

MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "popitem", "remove", "clear", "update", "setdefault",
    "sort", "reverse", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update", "__setitem__", "__delitem__", "__setattr__", "__delattr__",
    "next", "reset",  # a cycler's position
})
"""Methods that change their object: one anywhere in a template set turns memoisation off."""

_LOOP_INDEX = frozenset({"index", "index0", "first", "depth", "depth0"})
_LOOP_LENGTH = frozenset({"revindex", "revindex0", "last", "length"})
"""``loop`` attributes that follow from the position alone: the index (and the length for
these) join the key."""

_NOT_PURE_TEXT = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Block, nodes.Macro,
                  nodes.CallBlock, nodes.EvalContextModifier, nodes.ScopedEvalContextModifier,
                  nodes.ContextReference, nodes.DerivedContextReference, nodes.ImportedName,
                  nodes.InternalName, nodes.NSRef)
_HIGHER_ORDER_FILTERS = frozenset({"map", "select", "reject", "selectattr", "rejectattr"})
"""Filters that apply another filter (``map``) or a test (all tests are deterministic) by name."""

_SEQUENCE_KEY_LIMIT = 64
"""Lists and tuples up to this length are keyed by their items, longer ones by identity (a
body that reads a list of every container would otherwise hash it on every iteration)."""


# -- run time ---------------------------------------------------------------------------------


class MemoState:
    """One per Jinja environment: the render count, whether memoisation is allowed, and the
    functions a memoised body may call."""

    def __init__(self, deterministic: Iterable[Callable[..., Any]]) -> None:
        self.renders = 0
        self.enabled = True
        self.deterministic = frozenset(deterministic)
        self._item_tables: dict[Hashable, MemoTable] = {}

    def table(self) -> MemoTable:
        """A table for one loop of one compiled template (created when the template is)."""
        return MemoTable(self)

    def begin_render(self) -> Token[MemoState | None]:
        """Called before each top-level render (hand the token to `end_render`): tables drop
        what the previous render left unused, and `per_item_table` answers for this state."""
        self.renders += 1
        if self._item_tables:  # calls the previous render did not make (other arguments) go
            self._item_tables = {site: table for site, table in self._item_tables.items()
                                 if table.last_render >= self.renders - 1}
        return _RENDERING.set(self)

    @staticmethod
    def end_render(token: Token[MemoState | None]) -> None:
        _RENDERING.reset(token)


_RENDERING: ContextVar[MemoState | None] = ContextVar("pygen_memo_rendering", default=None)


def per_item_table(site: Hashable) -> MemoTable | None:
    """A table for a template function that computes something per list item (the value
    ``groupBy*`` files each container under), kept across renders: ``site`` names the
    function and its other arguments. The keys are ``id(item)``; store ``(item, result)``
    so the item stays alive, and its id unique, while the entry lives. None outside a
    render, or when the render's template set can change values in place."""
    state = _RENDERING.get()
    if state is None or not state.enabled:
        return None
    table = state._item_tables.get(site)
    if table is None:
        table = state._item_tables[site] = MemoTable(state)
    table.rotate()
    return table


_T = TypeVar("_T")


def per_item_results(site: Hashable, items: Iterable[Any], compute: Callable[[Any], _T]) -> Iterator[tuple[Any, _T]]:
    """``(item, compute(item))`` for each item, with the results kept across renders by item
    identity in `per_item_table` (when the render allows it): for template functions that
    look at each item alone (what ``groupBy*`` files it under, whether ``where*`` keeps it),
    so that after one event they look at the changed items only. ``site`` names the function
    and its other arguments."""
    table = per_item_table(site)
    if table is None:
        for item in items:
            yield item, compute(item)
        return
    for item in items:
        known = table.get(id(item))
        if known is None or known[0] is not item:
            known = (item, compute(item))
            table.put(id(item), known)
        yield known


class MemoTable:
    """The kept outputs of one loop body (or per-item results), by key: those the current
    render used or made, and those of the previous render that used the table, moved over
    when used again."""

    __slots__ = ("_current", "_previous", "_render", "_state")

    def __init__(self, state: MemoState) -> None:
        self._state = state
        self._render = -1
        self._current: dict[Hashable, Any] = {}
        self._previous: dict[Hashable, Any] = {}

    def key(self, called: tuple[Any, ...], values: tuple[Any, ...], loop: Any = None,
            position: int = 0) -> tuple[Any, ...] | None:
        """The key of one iteration, or None when it must not be memoised (see the module doc):
        the fingerprints of ``values``, then the ``called`` functions themselves (found in the
        set of deterministic ones, so hashable, and equal only to themselves). ``position`` 1 adds ``loop``'s index, 2 its index and length (read last: the length
        of a loop over an iterator reads the iterator to its end)."""
        state = self._state
        if not state.enabled:
            return None
        self.rotate()
        try:
            if not state.deterministic.issuperset(called):
                return None
        except TypeError:  # an unhashable value is called: not one of the functions
            return None
        try:
            key = [fingerprint(value) for value in values]
        except (_Unkeyable, RecursionError):  # an iterator; lists nested past Python's stack
            return None
        key.extend(called)
        if position:
            key.append(loop.index0)
            if position == 2:
                key.append(loop.length)
        return tuple(key)

    @property
    def last_render(self) -> int:
        return self._render

    def rotate(self) -> None:
        """At the first use in a render: what the previous one did not use is dropped."""
        if self._render != self._state.renders:
            self._render = self._state.renders
            self._previous = self._current
            self._current = {}

    def get(self, key: Hashable) -> Any:
        value = self._current.get(key)
        if value is None:
            value = self._previous.pop(key, None)
            if value is not None:
                self._current[key] = value
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self._current[key] = value


class _Identity:
    """A key part that equals only the very same object (which it keeps alive)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return type(other) is _Identity and other.value is self.value


class _Unkeyable(Exception):
    """A value whose next read may differ (an iterator): the body reading it runs every time."""


_BY_VALUE, _FLOAT, _SEQUENCE, _ITSELF, _WRAPPED, _STATEFUL = range(6)
_KINDS: dict[type, int] = {str: _BY_VALUE, int: _BY_VALUE, bool: _BY_VALUE, type(None): _BY_VALUE,
                           bytes: _BY_VALUE, float: _FLOAT, complex: _FLOAT, list: _SEQUENCE, tuple: _SEQUENCE,
                           types.FunctionType: _ITSELF, types.BuiltinFunctionType: _ITSELF}


def fingerprint(value: Any) -> Any:
    """What stands for ``value`` in a key: equal fingerprints print the same text."""
    kind = _KINDS.get(type(value))
    if kind is None:
        kind = _KINDS[type(value)] = _kind_of(type(value))
    if kind == _BY_VALUE:
        return value if type(value) is str else (type(value), value)
    if kind == _ITSELF:
        return value
    if kind == _SEQUENCE and len(value) <= _SEQUENCE_KEY_LIMIT:
        return (type(value), tuple([fingerprint(item) for item in value]))
    if kind == _FLOAT:
        return (type(value), repr(value))  # 0.0 == -0.0, yet they print differently
    if kind == _STATEFUL:
        raise _Unkeyable
    return _Identity(value)


def _kind_of(cls: type) -> int:
    if issubclass(cls, (str, int, bytes)):
        return _BY_VALUE  # Markup, an IntEnum...: immutable, keyed with their type
    if issubclass(cls, float):
        return _FLOAT
    if hasattr(cls, "__next__"):
        return _STATEFUL  # a generator (``xs|select(...)`` is one): reading it uses it up
    if cls.__eq__ is object.__eq__ and cls.__hash__ is object.__hash__:
        return _ITSELF  # compares by identity already (a model with eq=False, a function)
    return _WRAPPED


# -- compile time -----------------------------------------------------------------------------


@dataclass
class _BodyPlan:
    """What a loop body reads: every name it loads, those it calls, and whether it reads its
    own ``loop``'s position."""

    names: list[str] = field(default_factory=list)
    """The names it reads other than those it calls."""
    called: list[str] = field(default_factory=list)
    position: int = 0
    """0: the body does not read its loop's position; 1: the index; 2: the index and the length."""


class _NotMemoisable(Exception):
    pass


class MemoCodeGenerator(CodeGenerator):
    """Jinja's code generator, with eligible loop bodies wrapped in a memo table lookup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo_tables: list[str] = []
        self._memo_plans: dict[int, tuple[_BodyPlan, str]] = {}

    @property
    def _memo_state(self) -> MemoState | None:
        state = getattr(self.environment, "pygen_memo", None)
        if not isinstance(state, MemoState) or self.environment.is_async or self.defer_init:
            return None
        return state

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        state = self._memo_state
        if state is not None and defeats_memo(node, self.environment):
            state.enabled = False
        super().visit_Template(node, frame)
        for table in self._memo_tables:  # module level, after the render functions
            self.writeline(f"{table} = environment.pygen_memo.table()")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if self._memo_state is not None and not node.recursive:
            plan = plan_body(node, self.environment)
            if plan is not None:
                table = f"pygen_memo_{len(self._memo_tables)}"
                self._memo_tables.append(table)
                self._memo_plans[id(node.body)] = (plan, table)
        super().visit_For(node, frame)

    def blockvisit(self, body: Iterable[nodes.Node], frame: Frame) -> None:
        planned = self._memo_plans.pop(id(body), None)
        if planned is None:
            super().blockvisit(body, frame)
            return
        plan, table = planned
        called = [self._memo_value(name, frame) for name in plan.called]
        values = [self._memo_value(name, frame) for name in plan.names]
        position = f", {frame.symbols.ref('loop')}, {plan.position}" if plan.position else ""
        key, text, buffer = (self.temporary_identifier() for _ in range(3))
        self.writeline(f"{key} = {table}.key({_tuple(called)}, {_tuple(values)}{position})")
        self.writeline(f"{text} = None if {key} is None else {table}.get({key})")
        self.writeline(f"if {text} is None:")
        self.indent()
        self.writeline(f"{buffer} = []")
        outer_buffer, frame.buffer = frame.buffer, buffer
        try:
            super().blockvisit(body, frame)
        finally:
            frame.buffer = outer_buffer
        self.writeline(f"{text} = environment.concat({buffer})")
        self.writeline(f"if {key} is not None:")
        self.indent()
        self.writeline(f"{table}.put({key}, {text})")
        self.outdent(2)
        self.simple_write(text, frame)

    def _memo_value(self, name: str, frame: Frame) -> str:
        """The expression for a name's value where the body starts: the variable Jinja uses for
        it, or a context lookup for names the body's inner scopes resolve themselves."""
        return frame.symbols.find_ref(name) or f"{self.get_resolve_func()}({name!r})"


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)},)" if items else "()"


def plan_body(loop: nodes.For, environment: jinja2.Environment) -> _BodyPlan | None:
    """What the key of ``loop``'s body is made of, or None when it must not be memoised."""
    plan = _BodyPlan()
    try:
        for node in loop.body:
            _scan(node, plan, environment, own_loop=True)
    except _NotMemoisable:
        return None
    worth_it = (nodes.Call, nodes.Filter, nodes.For)
    if not any(isinstance(node, worth_it) or any(True for _ in node.find_all(worth_it)) for node in loop.body):
        return None  # printing a few values costs less than keying them
    plan.called = sorted(set(plan.called))
    plan.names = sorted(set(plan.names) - set(plan.called))  # each name read once per iteration
    return plan


def _scan(node: nodes.Node, plan: _BodyPlan, environment: jinja2.Environment, own_loop: bool) -> None:
    """Collect what ``node`` reads into ``plan``; raise _NotMemoisable at anything else.
    ``own_loop``: a ``loop`` here is the memoised loop's (not an inner loop's)."""
    if isinstance(node, _NOT_PURE_TEXT):
        raise _NotMemoisable
    if isinstance(node, nodes.For):
        if node.recursive:
            raise _NotMemoisable
        # in Jinja, an inner loop's ``else`` and ``if`` filter see the enclosing ``loop`` (and
        # a break there ends the enclosing loop's iteration); its body sees its own
        for child in (node.iter, *node.else_, *([node.test] if node.test else [])):
            _scan(child, plan, environment, own_loop)
        for child in node.body:
            _scan(child, plan, environment, own_loop=False)
        return
    if isinstance(node, (nodes.Break, nodes.Continue)) and own_loop:
        raise _NotMemoisable
    if isinstance(node, nodes.Name):
        if node.ctx == "load":
            if node.name == "loop" and own_loop:
                raise _NotMemoisable  # all of it (``loop`` passed on, called recursively...)
            plan.names.append(node.name)
        return
    if isinstance(node, nodes.Getattr) and _is_own_loop(node.node, own_loop):
        if node.attr in _LOOP_INDEX:
            plan.position = max(plan.position, 1)
        elif node.attr in _LOOP_LENGTH:
            plan.position = 2
        else:
            raise _NotMemoisable  # changed(), previtem, nextitem: not the position alone
        return
    if isinstance(node, nodes.Call):
        callee = node.node
        if isinstance(callee, nodes.Name):
            if callee.name in NONDETERMINISTIC:
                raise _NotMemoisable
            plan.called.append(callee.name)  # checked again at run time: a name can hold anything
        elif isinstance(callee, nodes.Getattr) and _is_own_loop(callee.node, own_loop) and callee.attr == "cycle":
            plan.position = max(plan.position, 1)
            callee = None
        elif not (isinstance(callee, nodes.Getattr) and callee.attr in READING_METHODS):
            raise _NotMemoisable
        for child in node.iter_child_nodes(exclude=() if callee is not None else ("node",)):
            _scan(child, plan, environment, own_loop)
        return
    if isinstance(node, nodes.Test) and node.name == "sameas":
        raise _NotMemoisable  # equal strings are one key, yet not the same object
    if isinstance(node, (nodes.Filter, nodes.FilterBlock)):
        _check_filter(node if isinstance(node, nodes.Filter) else node.filter, environment)
    for child in node.iter_child_nodes():
        _scan(child, plan, environment, own_loop)


def _is_own_loop(node: nodes.Node, own_loop: bool) -> bool:
    return own_loop and isinstance(node, nodes.Name) and node.name == "loop" and node.ctx == "load"


def _check_filter(node: nodes.Filter, environment: jinja2.Environment) -> None:
    if node.name in _HIGHER_ORDER_FILTERS and environment.filters.get(node.name) is DEFAULT_FILTERS[node.name]:
        # Jinja's own: they take the render's context only to find a filter or test by name
        if node.name == "map" and node.args:
            named = node.args[0]
            if not isinstance(named, nodes.Const) or not _deterministic_filter(str(named.value), environment):
                raise _NotMemoisable
        return
    if not _deterministic_filter(node.name, environment):
        raise _NotMemoisable


def _deterministic_filter(name: str, environment: jinja2.Environment) -> bool:
    function = environment.filters.get(name)
    if function is None or name in NONDETERMINISTIC:
        return False
    return _PassArg.from_obj(function) is not _PassArg.context  # etcd-gen's key functions read it


def defeats_memo(template: nodes.Template, environment: jinja2.Environment) -> bool:
    """Whether a template can change a value in place (see the module doc), or switches
    autoescaping while it renders (which no key holds)."""
    kinds = (nodes.NSRef, nodes.Name, nodes.Getattr, nodes.Filter, nodes.EvalContextModifier)
    for node in template.find_all(kinds):
        if isinstance(node, (nodes.NSRef, nodes.EvalContextModifier)):  # Scoped... is a subclass
            return True
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name in MUTATING:
            return True
        if isinstance(node, nodes.Getattr) and node.attr in MUTATING_METHODS:
            return True
        if isinstance(node, nodes.Filter):
            if node.name in MUTATING and environment.filters.get(node.name) is not DEFAULT_FILTERS.get(node.name):
                return True
            if node.name == "attr" and not (
                node.args and isinstance(node.args[0], nodes.Const) and node.args[0].value not in MUTATING_METHODS
            ):
                return True
    return False


def install(environment: jinja2.Environment, functions: Mapping[str, Callable[..., Any]]) -> None:
    """Compile ``environment``'s templates with memoised loop bodies. ``functions``: the
    template functions, of which those neither NONDETERMINISTIC nor MUTATING nor reading the
    render's context may be called from a memoised body (with Jinja's ``range``, ``dict``,
    ``namespace``, ``cycler`` and ``joiner`` constructors)."""
    deterministic = [
        function for name, function in functions.items()
        if name not in NONDETERMINISTIC and name not in MUTATING and not hasattr(function, "jinja_pass_arg")
    ]
    deterministic += [environment.globals[name] for name in ("range", "dict", "namespace", "cycler", "joiner")
                      if name in environment.globals]
    state = environment.pygen_memo = MemoState(deterministic)  # type: ignore[attr-defined]
    if os.environ.get("PYGEN_MEMO", "").strip().lower() in SWITCHED_OFF:
        state.enabled = False  # plain Jinja code, every function looks at every item
        return
    environment.code_generator_class = MemoCodeGenerator


SWITCHED_OFF = frozenset({"0", "off", "false", "no"})
"""``PYGEN_MEMO`` values that turn memoisation off: should a template ever print other text
with it than without, this is the way around it until that is fixed."""
