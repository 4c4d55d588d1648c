"""Watch template and config files, so an edit re-renders without a restart.

The *directories* are watched, not the files: editors and ``ln -sf`` style updates replace a
file by renaming a new one over it, which a watch on the old inode never sees. A file that is a
symlink is also followed in its target's directory (an edit of the target changes it), and a
``..data`` swap in a watched directory (how Kubernetes updates a mounted ConfigMap or Secret)
changes every watched file of that directory. Events are coalesced for a short moment because
one save is often several events. The engine hands over a new list after each reload.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("pygen")

COALESCE_SECONDS = 0.05
_SCRATCH_SUFFIXES = (".swp", ".swx", "~", ".tmp", ".pygen-staged")
"""Editors' and pygen's own temporary files, beside the templates: never a reason to render."""


class FileWatcher:
    """Posts ``engine.post_files_changed(paths)`` when a watched file is created, changed or replaced."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.ignore: set[str] = set()
        self._targets: dict[str, set[str]] = {}
        self._directories: set[str] = set()
        self._observer: Any = None
        self._handler: Any = None
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._engine: Any = None

    def start(self, engine: Any, paths: Iterable[str], ignore: Iterable[str] = ()) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                for path in (getattr(event, "src_path", ""), getattr(event, "dest_path", "")):
                    if path:
                        watcher._seen(os.fsdecode(path))

        self._engine = engine
        self._handler = Handler()
        self._observer = Observer()
        self._observer.daemon = True
        self.watch(paths, ignore)
        self._observer.start()

    def watch(self, paths: Iterable[str], ignore: Iterable[str] = ()) -> None:
        """Follow these files from now on (the observer keeps directories it already watches)."""
        absolute = {os.path.abspath(path) for path in paths}
        targets: dict[str, set[str]] = defaultdict(set)
        for path in absolute:
            target = os.path.realpath(path)
            if target != path:
                targets[target].add(path)
        with self._lock:
            self.paths, self.ignore = absolute, {os.path.abspath(path) for path in ignore}
            self._targets = dict(targets)
        for directory in sorted({os.path.dirname(path) for path in absolute | set(targets)} - self._directories):
            if os.path.isdir(directory):
                self._observer.schedule(self._handler, directory, recursive=False)
                self._directories.add(directory)

    def changed_by(self, path: str) -> set[str]:
        """The watched files an event on ``path`` may have changed (empty: none)."""
        path = os.path.abspath(path)
        with self._lock:
            paths, ignore, targets = self.paths, self.ignore, self._targets
        if path in ignore:
            return set()  # our own output
        directory, name = os.path.split(path)
        changed = {path} if path in paths else set()
        changed |= targets.get(path, set())
        if name.startswith(".."):  # a Kubernetes volume swapped its ..data link: all of it changed
            changed |= {own for own in paths if os.path.dirname(own) == directory}
        if changed:
            return changed
        beside_a_template = any(os.path.dirname(own) == directory for own in paths)
        if beside_a_template and not name.startswith(".") and not name.endswith(_SCRATCH_SUFFIXES):
            return {path}  # maybe a file a template includes: the engine asks each job
        return set()

    def _seen(self, path: str) -> None:
        changed = self.changed_by(path)
        if not changed:
            return
        with self._lock:
            self._pending |= changed
            if self._timer is None:
                self._timer = threading.Timer(COALESCE_SECONDS, self._flush)
                self._timer.daemon = True
                self._timer.start()

    def _flush(self) -> None:
        with self._lock:
            paths, self._pending = self._pending, set()
            self._timer = None
        if paths and self._engine is not None:
            self._engine.post_files_changed(sorted(paths))

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
