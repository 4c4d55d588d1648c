"""The loop shared by pygen and etcd-gen: render passes, debounce, intervals, signals, file edits.

Everything that changes the output is serialised by one lock, so two renders of the same
destination never overlap. A source's watcher thread renders its own changes (the event's path
to the file then needs no second thread to be woken and scheduled); signals, file edits,
debounce timers and intervals go through one queue to the main loop. Notifications run in
their own workers (pygen.notify.NotifyRunner).
A failing render is logged with its file and line and the last good output stays: in watch
mode the process keeps running (docker-gen exits, a long-standing complaint).
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pygen.debounce import Debouncer
from pygen.errors import PygenError, SourceError
from pygen.job import Job
from pygen.notify import Notification, NotifyRunner
from pygen.prefetch import BackgroundRefresh
from pygen.source import Change, Source

log = logging.getLogger("pygen")

STOP_NOTIFY_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class _StateChanged:
    full: bool
    reason: str
    subject: str = ""
    after: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class _FilesChanged:
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Reload:
    pass


@dataclass(frozen=True, slots=True)
class _Stop:
    signal_name: str


@dataclass(frozen=True, slots=True)
class _Wake:
    """A change handled on a watcher thread armed a debounce: the loop's timeout is stale."""


@dataclass(slots=True)
class _JobState:
    job: Job
    debouncer: Debouncer
    next_tick: float | None = None


@dataclass
class Engine:
    """Runs jobs against a source, once or for as long as the process lives."""

    build_jobs: Callable[[], list[Job]]
    source: Source
    runner: NotifyRunner
    config_files: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        # SimpleQueue.put is reentrant: the signal handlers, which run on this same thread,
        # may call it while the loop is inside get() (a Queue could deadlock on its mutex).
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._states: list[_JobState] = []
        self._lock = threading.Lock()
        """Held while anything is handled or rendered: renders never overlap."""
        self._stopping = False
        self._file_watcher: Any = None

    # -- one pass -------------------------------------------------------------------------------

    def render_pass(self, jobs: Iterable[Job], force_notify: bool = False) -> tuple[bool, bool]:
        """Render each job; notify the changed ones (all with ``force_notify``), deduplicated.

        Returns (all rendered without error, anything changed).
        """
        ok = True
        changed_any = False
        notifications: dict[Notification, None] = {}
        for job in jobs:
            try:
                changed = job.render(self.source)
            except PygenError as error:
                if job.config.dest:
                    log.error("%s: %s", job.config.dest, error)
                else:
                    log.error("%s", error)
                ok = False
                continue
            changed_any |= changed
            if changed or force_notify:
                notifications.setdefault(job.notification, None)
        for notification in notifications:
            self.runner.submit(notification)
        return ok, changed_any

    def run_once(self, prefetch: BackgroundRefresh | None = None) -> int:
        """One-shot mode: read the state, render everything, wait for notifications. Exit code.

        With ``prefetch`` (a read already under way), the templates are compiled meanwhile.
        """
        jobs = self.build_jobs()
        for job in jobs:
            job.templates.compile_quietly()
        try:
            if prefetch is not None:
                prefetch.wait()
            else:
                self.source.refresh()
        except SourceError as error:
            log.error("%s", error)
            return 1
        ok, _ = self.render_pass(jobs)
        self.runner.wait_idle()
        return 0 if ok else 1

    # -- the loop -------------------------------------------------------------------------------

    def post_change(self, change: Change) -> None:
        """Called by a source's watcher thread after it applied a change; handled on that thread.

        Handing the change to the main loop instead would put a second thread wake-up on the
        path from event to file: on a busy machine the woken thread can wait for a CPU (measured
        up to 15 ms at 500 containers, while dockerd tears a container down on the same cores).
        A render in progress on another thread finishes first. An unexpected error is logged
        here, so that it cannot end the watcher thread.
        """
        message = _StateChanged(change.full, change.reason, change.subject, change.after)
        with self._lock:
            if self._stopping:
                return
            deadline = self._next_deadline()
            try:
                self._handle(message)
            except Exception:
                log.exception("Unexpected error handling %s", change.reason)
            armed = self._next_deadline()
        if armed is not None and (deadline is None or armed < deadline):
            self._queue.put(_Wake())

    def post_files_changed(self, paths: Iterable[str]) -> None:
        self._queue.put(_FilesChanged(tuple(paths)))

    def request_reload(self) -> None:
        self._queue.put(_Reload())

    def request_stop(self, signal_name: str = "stop") -> None:
        """From now on a watcher's change renders nothing; the loop ends after the render in
        progress. (A plain flag: this runs in a signal handler.)"""
        self._stopping = True
        self._queue.put(_Stop(signal_name))

    def install_signal_handlers(self) -> None:
        """SIGHUP reloads and re-renders; SIGTERM/SIGINT stop after the render in progress."""
        def on_hup(signum: int, frame: Any) -> None:
            log.info("Received signal: hangup")
            self.request_reload()

        def on_stop(signum: int, frame: Any) -> None:
            name = signal.Signals(signum).name
            log.info("Received signal: %s", "terminated" if name == "SIGTERM" else "interrupt")
            self.request_stop(name)

        signal.signal(signal.SIGHUP, on_hup)
        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)

    def _load_jobs(self) -> bool:
        try:
            jobs = self.build_jobs()
        except PygenError as error:
            log.error("%s", error)
            return False
        now = self.clock()
        self._states = [
            _JobState(job, Debouncer(job.config.wait),
                      now + job.config.interval if job.config.interval > 0 else None)
            for job in jobs
        ]
        for state in self._states:
            if state.job.config.interval > 0:
                log.info("Generating every %d seconds", state.job.config.interval)
        return True

    def run_forever(self, file_watcher: Any = None) -> int:
        """Watch and/or interval mode: returns 0 after SIGTERM/SIGINT.

        The file watcher starts first: an edit made while the source's first render is being
        written must not fall between the two (importing watchdog alone takes 75 ms).
        """
        if not self._load_jobs():
            return 1
        self._file_watcher = file_watcher
        if file_watcher is not None:
            file_watcher.start(self, *self._watched_files())
        if not self._start_watching_if_needed():
            self._refresh_and_render_all()
        try:
            self._loop()
        finally:
            if self.source.watching:
                self.source.stop()  # type: ignore[attr-defined]
            if file_watcher is not None:
                file_watcher.stop()
            self.runner.finish(STOP_NOTIFY_GRACE_SECONDS)
        return 0

    def _start_watching_if_needed(self) -> bool:
        """Start the source's watcher once a config watches (at start, or after a reload that
        turned ``watch`` on); True when it runs. It renders everything once connected."""
        if self.source.watching:
            return True
        if not hasattr(self.source, "start") or not any(state.job.config.watch for state in self._states):
            return False
        self.source.start(self.post_change)  # type: ignore[attr-defined]
        return True

    def _watched_files(self) -> tuple[list[str], list[str]]:
        """(the config files and every job's templates, every job's destination): what the file
        watcher follows, and what it ignores because this process writes it."""
        templates = [path for state in self._states for path in state.job.config.templates]
        destinations = [state.job.config.dest for state in self._states if state.job.config.dest]
        return self.config_files + templates, destinations

    def _refresh_and_render_all(self) -> None:
        if self._refresh_if_polling():
            self.render_pass([state.job for state in self._states])

    def _next_deadline(self) -> float | None:
        deadlines = [state.debouncer.deadline() for state in self._states]
        deadlines += [state.next_tick for state in self._states]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def _loop(self) -> None:
        while True:
            with self._lock:
                deadline = self._next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock())
            try:
                message = self._queue.get(timeout=timeout)
            except queue.Empty:
                message = None
            with self._lock:  # waits for a render in progress on a watcher thread
                if isinstance(message, _Stop):
                    self._stopping = True
                    for state in self._states:
                        state.debouncer.cancel()
                    return
                if message is not None:
                    self._handle(message)
                self._fire_due()

    def _handle(self, message: Any) -> None:
        if isinstance(message, _StateChanged):
            try:
                self._handle_state_change(message)
            finally:
                if message.after is not None:
                    message.after()
        elif isinstance(message, _FilesChanged):
            if any(_same_file(path, config) for path in message.paths for config in self.config_files):
                self._reload()
                return
            affected = [s.job for s in self._states if any(s.job.uses_file(p) for p in message.paths)]
            if affected:
                log.info("Template files changed: %s", ", ".join(sorted(set(message.paths))))
                self._refresh_if_polling()
                self.render_pass(affected)
        elif isinstance(message, _Reload):
            self._reload()

    def _handle_state_change(self, message: _StateChanged) -> None:
        if message.full:
            for state in self._states:
                state.debouncer.cancel()
            self.render_pass([state.job for state in self._states])
            return
        now = self.clock()
        immediate = []
        for state in self._states:
            if not state.job.config.watch:
                continue
            if message.subject and not self._concerns(state.job, message.subject):
                continue
            if state.job.config.wait.enabled:
                state.debouncer.event(now)
            else:
                immediate.append(state.job)
        if immediate:
            self.render_pass(immediate)

    def _concerns(self, job: Job, subject: str) -> bool:
        """Whether a change of ``subject`` can change this job's output.

        It can if the job showed it last time, or if the job's selection would show it now.
        A container that neither was nor is selected (another project's, a stopped one) does
        not cost a render: with hundreds of containers that is most events.
        """
        if subject in job.last_subjects:
            return True
        selects = getattr(self.source, "selects", None)
        return selects is None or bool(selects(job.config, subject))

    def _refresh_if_polling(self) -> bool:
        """A source without a watcher is re-read before each render; False if that failed."""
        if self.source.watching:
            return True
        try:
            self.source.refresh()
        except SourceError as error:
            log.error("%s", error)
            return False
        return True

    def _reload(self) -> None:
        """SIGHUP or a config edit: reload configs and templates, resync, render all now.

        The file watcher then follows the templates the new configs name."""
        if not self._load_jobs():
            log.error("Keeping the previous configuration")
            return
        if self._file_watcher is not None:
            self._file_watcher.watch(*self._watched_files())
        if not self.source.watching and self._start_watching_if_needed():
            return  # the watcher renders everything once connected
        try:
            self.source.refresh()
        except SourceError as error:
            log.error("%s", error)
            return
        self.render_pass([state.job for state in self._states])

    def _fire_due(self) -> None:
        now = self.clock()
        debounced = []
        for state in self._states:
            fired = state.debouncer.fire_due(now)
            if fired:
                log.info("Debounce %sTimer fired", fired)
                debounced.append(state.job)
        if debounced:
            self.render_pass(debounced)
        ticking = []
        for state in self._states:
            if state.next_tick is not None and state.next_tick <= now:
                interval = state.job.config.interval
                while state.next_tick <= now:
                    state.next_tick += interval
                ticking.append(state.job)
        if ticking:
            self._refresh_if_polling()
            # docker-gen's -interval notifies even when nothing changed: that is what keeps
            # registrations with a TTL alive (the register script is re-run every tick).
            self.render_pass(ticking, force_notify=True)


def _same_file(a: str, b: str) -> bool:
    import os

    return os.path.abspath(a) == os.path.abspath(b)
