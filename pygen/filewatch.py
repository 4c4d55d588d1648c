"""Watch template and config files, so an edit re-renders without a restart.

The *directories* are watched, not the files: editors and ``kubectl``/``ln -sf`` style updates
replace a file by renaming a new one over it, which a watch on the old inode never sees.
Events are coalesced for a short moment because one save is often several events.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("pygen")

COALESCE_SECONDS = 0.05


class FileWatcher:
    """Posts ``engine.post_files_changed(paths)`` when a watched file is created, changed or replaced."""

    def __init__(self, paths: Iterable[str], ignore: Iterable[str] = ()) -> None:
        self.paths = {os.path.abspath(path) for path in paths}
        self.ignore = {os.path.abspath(path) for path in ignore}
        self._observer: Any = None
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._engine: Any = None

    def start(self, engine: Any) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self._engine = engine
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                for path in (getattr(event, "src_path", ""), getattr(event, "dest_path", "")):
                    if path:
                        watcher._seen(os.fsdecode(path))

        self._observer = Observer()
        for directory in sorted({os.path.dirname(path) for path in self.paths}):
            if os.path.isdir(directory):
                self._observer.schedule(Handler(), directory, recursive=False)
        self._observer.daemon = True
        self._observer.start()

    def _seen(self, path: str) -> None:
        path = os.path.abspath(path)
        if path in self.ignore:
            return  # our own output
        directory = os.path.dirname(path)
        if path not in self.paths and not any(os.path.dirname(own) == directory for own in self.paths):
            return
        if os.path.basename(path).startswith(".") or path.endswith((".swp", "~", ".pygen-staged")):
            return
        with self._lock:
            self._pending.add(path)
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
