"""The contract between a state source (Docker, an inspect file, etcd) and the engine.

It lives apart from the engine and the job because those import Jinja, and a source must be
importable without it: a one-shot run starts reading the state on a thread (pygen.prefetch)
before Jinja is even imported, so the two overlap.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class RenderInput:
    """What a source hands a template: the context, and a count for the log line."""

    context: Mapping[str, Any]
    count: int
    noun: str = "containers"
    subjects: frozenset[str] = frozenset()
    """The IDs of what the context shows (containers), to tell which later changes matter."""


class Lazy:
    """A context value computed when a template first uses it, then kept.

    For what is costly to build and used by few templates: etcd-gen's ``tree`` of 10,000
    keys takes 13 ms, more than the rest of a re-render when the template reads only ``kv``.
    The template context (pygen.templating) hands templates the value, never this wrapper.
    """

    __slots__ = ("_factory", "_value")

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory: Callable[[], Any] | None = factory
        self._value: Any = None

    def get(self) -> Any:
        if self._factory is not None:
            self._value, self._factory = self._factory(), None
        return self._value


@dataclass(frozen=True, slots=True)
class Change:
    """Posted by a source after it applied a change. ``full`` after a (re)sync: render every
    config at once, without debounce (docker-gen does the same after a reconnect)."""

    reason: str
    full: bool = False
    subject: str = ""
    """What changed (a container ID), when the source can tell which configs it concerns."""
    after: Callable[[], None] | None = None
    """Run by the engine once it has acted on the change (rendered, or scheduled a debounced
    render): follow-up work that must not compete with that render for the GIL and the CPU,
    such as re-inspecting a container that just died."""


class Source(Protocol):
    """What the engine needs from a state source. ``render_input`` raises SourceError on failure."""

    watching: bool

    def refresh(self) -> None: ...

    def render_input(self, config: Any) -> RenderInput: ...


class WatchableSource(Source, Protocol):
    def start(self, on_change: Callable[[Change], None]) -> None: ...

    def stop(self) -> None: ...


_environment: dict[str, str] = {}


def environment_snapshot() -> dict[str, str]:
    """The process environment, as templates see it (``Env``): the same dict from one render
    to the next while nothing in it changed. Memoised loop bodies (pygen.loopmemo) key a dict
    by identity, so a fresh copy per render would make every body that reads ``Env`` run again.
    A template that changed the dict (sprig ``set``) gets a fresh one: it no longer compares equal.
    """
    global _environment
    current = dict(os.environ)
    if current != _environment:
        _environment = current
    return _environment
