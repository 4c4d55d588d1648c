"""A watchable state source held in memory, for tests of the engine's loop.

It implements the same contract as the Docker and etcd sources (pygen.source): ``start`` hands
it the engine's ``post_change``, ``watching`` turns true then, and ``change`` does what a
watcher thread does: update the state, then post the change. Each render is recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pygen.source import Change, RenderInput

BLOCK_LIMIT_SECONDS = 5.0


@dataclass(frozen=True)
class Render:
    at: float
    """time.monotonic() when the engine asked for the state"""
    count: int
    """how many names the state held"""
    thread: str
    """the name of the thread that rendered"""


class MemorySource:
    """The state is a list of names; templates see it as ``names``."""

    noun = "names"

    def __init__(self) -> None:
        self.watching = False
        self.names: list[str] = []
        self.on_change: Callable[[Change], None] | None = None
        self.renders: list[Render] = []
        self.render_started = threading.Event()
        self.block_renders = threading.Event()
        """Cleared: each render waits (at most 5 s) until it is set again."""
        self.block_renders.set()
        self.fail_with: Exception | None = None

    def refresh(self) -> None:
        pass

    def start(self, on_change: Callable[[Change], None]) -> None:
        self.watching = True
        self.on_change = on_change

    def stop(self) -> None:
        pass

    def render_input(self, config: Any) -> RenderInput:
        self.renders.append(Render(time.monotonic(), len(self.names), threading.current_thread().name))
        self.render_started.set()
        self.block_renders.wait(BLOCK_LIMIT_SECONDS)
        if self.fail_with is not None:
            raise self.fail_with
        return RenderInput({"names": list(self.names)}, len(self.names), self.noun)

    def change(self, name: str, after: Callable[[], None] | None = None) -> None:
        """Add ``name`` and post the change, as a source's watcher thread does."""
        self.names.append(name)
        assert self.on_change is not None, "the engine has not started the source"
        self.on_change(Change(f"added {name}", after=after))

    @property
    def render_threads(self) -> list[str]:
        return [render.thread for render in self.renders]
