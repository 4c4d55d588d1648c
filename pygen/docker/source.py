"""The Docker daemon as a state source: full syncs, events, reconnects, container signals.

Start-up and every reconnect open the event stream *first*, then list and inspect everything,
so nothing that happens in between is missed (registrator's order). After that each event
re-inspects only the container it names. When the stream ends (docker-py and the daemon end it
silently when dockerd stops) or a ping fails, the watcher reconnects with a short capped
backoff and resyncs, and never gives up.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pygen.config import TemplateConfig
from pygen.docker.api import DockerClient, DockerError, NotFound
from pygen.docker.model import RuntimeContainer, container_from_inspect
from pygen.docker.state import ContainerStore, build_context
from pygen.errors import SourceError
from pygen.source import Change, RenderInput

log = logging.getLogger("pygen")

DEFAULT_EVENTS = ("start", "stop", "die", "health_status")
STATE_EVENTS = ("create", "destroy", "rename", "pause", "unpause")
"""Subscribed as well, so the in-memory state never keeps a removed or renamed container."""

INSPECT_WORKERS = 4
IDLE_PING_SECONDS = 10.0
BACKOFF_START = 0.1
BACKOFF_MAX = 5.0


def list_prefilter(configs: list[TemplateConfig]) -> dict[str, list[str]]:
    """A list filter every config agrees on, to avoid inspecting containers nobody shows.

    When all configs select with the same filters, the daemon applies them; otherwise, when
    every config restricts ``status``, only the union of those statuses is listed. Containers
    that start matching later always produce an event, which re-inspects them.
    """
    selections = [config.effective_container_filter() for config in configs]
    if selections and all(selection == selections[0] for selection in selections):
        return selections[0]
    statuses: set[str] = set()
    for filters in selections:
        if "status" not in filters:
            return {}
        statuses.update(filters["status"])
    return {"status": sorted(statuses)}


class DockerSource:
    """Container state from a live daemon, kept current by events when watching."""

    noun = "containers"

    def __init__(self, client: DockerClient, configs: list[TemplateConfig],
                 event_filters: dict[str, list[str]] | None = None,
                 resync_interval: float = 0.0) -> None:
        self.client = client
        self.store = ContainerStore()
        self.configs = configs
        self.event_filters = event_filters or {}
        self.resync_interval = resync_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream = None
        self.watching = False
        self._version_known = False
        self._confirmations = _DeathConfirmations(client, self.store)

    # -- full sync ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """List and inspect every container; raise SourceError if the daemon fails.

        The version, info and networks calls run beside the list, and the inspects run on
        several keep-alive connections at once: dockerd answers them in parallel.
        """
        try:
            with ThreadPoolExecutor(INSPECT_WORKERS) as pool:
                version = None if self._version_known else pool.submit(self.client.version)
                info = pool.submit(self.client.info)
                networks = pool.submit(self.client.networks)
                marks = self.store.generation_marks()  # events may be applied while this runs
                listed = self.client.containers(list_prefilter(self.configs) or None, all=True)
                ids = [item["Id"] for item in listed]
                inspects = [result for result in pool.map(self._inspect_or_none, ids) if result]
                if version is not None:
                    self.store.set_version(version.result())
                    self._version_known = True
                self.store.replace_all(inspects, networks.result(), info.result(), since=marks)
        except DockerError as error:
            raise SourceError(f"Error listing containers: {self.client}: {error}") from None

    def _inspect_or_none(self, container_id: str) -> dict[str, Any] | None:
        try:
            return self.client.inspect(container_id)
        except NotFound:
            return None  # removed between list and inspect
        except DockerError as error:
            log.error("Error inspecting container: %s: %s", container_id, error)
            raise

    def update_container(self, container_id: str) -> None:
        """Re-inspect one container; drop it if it is gone."""
        try:
            inspect = self.client.inspect(container_id)
        except NotFound:
            self.store.remove(container_id)
            return
        if not self.store.knows_networks(inspect):
            self.store.set_networks(self.client.networks())
        self.store.put(inspect)

    # -- templates ------------------------------------------------------------------------------

    def render_input(self, config: TemplateConfig) -> RenderInput:
        try:
            return build_context(self.store, config, self._lookup_ids, self._inspect_current)
        except DockerError as error:
            raise SourceError(f"Error listing containers: {self.client}: {error}") from None

    def selects(self, config: TemplateConfig, container_id: str) -> bool:
        """Whether this config's selection includes the container (engine: skip other events)."""
        return self.store.matches(config.effective_container_filter(), container_id)

    def _lookup_ids(self, filters: dict[str, list[str]]) -> list[str]:
        """Ask the daemon for filters the store cannot evaluate; inspect what it lacks."""
        ids = [item["Id"] for item in self.client.containers(filters, all=True)]
        for container_id in ids:
            if container_id not in self.store:
                inspect = self._inspect_or_none(container_id)
                if inspect:
                    self.store.put(inspect)
        return ids

    def _inspect_current(self, container_id: str) -> RuntimeContainer | None:
        found = self.store.find(container_id)
        if found is not None:
            return found
        try:
            return container_from_inspect(self.client.inspect(container_id))
        except DockerError:
            return None

    # -- signalling (pygen.notify.ContainerSignaller) -------------------------------------------

    def signal_container(self, container: str, signal_number: int) -> None:
        self.client.kill(container, signal_number)

    def restart_container(self, container: str) -> None:
        self.client.restart(container, 10)

    def running_container_ids(self, filters: dict[str, list[str]]) -> list[str]:
        return [item["Id"] for item in self.client.containers(filters, all=False)]

    # -- watching -------------------------------------------------------------------------------

    def start(self, on_change: Callable[[Change], None]) -> None:
        """Follow events in a background thread; ``on_change`` is called after each update."""
        self.watching = True
        self._confirmations.on_change = on_change
        self._thread = threading.Thread(target=self._watch, args=(on_change,), name="docker-events",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._confirmations.close()
        stream = self._stream
        if stream is not None:
            stream.close()

    def _requested_events(self) -> list[str]:
        """docker-gen's events plus the user's -event-filter event=... additions."""
        extra = self.event_filters.get("event", [])
        return list(DEFAULT_EVENTS) + [e for e in extra if e not in DEFAULT_EVENTS]

    def _subscription(self) -> dict[str, list[str]]:
        filters = {key: list(values) for key, values in self.event_filters.items() if key != "event"}
        events = self._requested_events()
        events += [e for e in STATE_EVENTS if e not in events]
        filters["event"] = events
        return filters

    def _watch(self, on_change: Callable[[Change], None]) -> None:
        backoff = BACKOFF_START
        while not self._stop.is_set():
            try:
                self._stream = self.client.events(self._subscription(), idle_timeout=self._idle_timeout())
                log.info("Watching docker events")
                self.refresh()
                last_resync = time.monotonic()
                on_change(Change("connected", full=True))
                backoff = BACKOFF_START
                self._follow(on_change, last_resync)
                if not self._stop.is_set():
                    log.warning("Docker daemon connection interrupted")
            except (DockerError, SourceError) as error:
                if self._stop.is_set():
                    break
                log.error("Docker daemon %s unavailable: %s; retrying in %.1fs", self.client, error, backoff)
            finally:
                if self._stream is not None:
                    self._stream.close()
                    self._stream = None
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _follow(self, on_change: Callable[[Change], None], last_resync: float) -> None:
        """Apply events until the stream ends or the daemon stops answering pings."""
        assert self._stream is not None
        while not self._stop.is_set():
            try:
                for event in self._stream:
                    self._apply(event, on_change)
                    if self._resync_due(last_resync):
                        last_resync = self._resync(on_change)
                return  # the stream ended: the daemon went away
            except TimeoutError:
                try:
                    self.client.ping()
                except DockerError as error:
                    log.error("Unable to ping docker daemon: %s", error)
                    return
                if self._resync_due(last_resync):
                    last_resync = self._resync(on_change)

    def _idle_timeout(self) -> float:
        """How long the event stream may stay silent before the daemon is pinged (and a due
        resync runs): a quiet daemon must not postpone a short ``-resync-interval``."""
        if self.resync_interval:
            return min(IDLE_PING_SECONDS, self.resync_interval)
        return IDLE_PING_SECONDS

    def _resync_due(self, last_resync: float) -> bool:
        return bool(self.resync_interval) and time.monotonic() - last_resync >= self.resync_interval

    def _resync(self, on_change: Callable[[Change], None]) -> float:
        self.refresh()
        on_change(Change("resync", full=True))
        return time.monotonic()

    def _apply(self, event: dict[str, Any], on_change: Callable[[Change], None]) -> None:
        action = str(event.get("Action") or event.get("status") or "")
        kind = str(event.get("Type") or "container")
        actor = event.get("Actor") or {}
        actor_id = str(actor.get("ID") or event.get("id") or "")
        if kind != "container" and not any(action.startswith(e) for e in self._requested_events()):
            return  # a network/volume create or destroy, matched only by our own state events
        log.info("Received event %s for %s %s", action, kind, actor_id[:12])
        container_id = actor_id if kind == "container" else str((actor.get("Attributes") or {}).get("container", ""))
        confirm = None
        if len(container_id) == 64:
            if action == "destroy":
                self.store.remove(container_id)
            elif action == "die" and container_id in self.store:
                exit_code = _int((actor.get("Attributes") or {}).get("exitCode"))
                generation = self.store.mark_stopped(container_id, exit_code)
                if generation is not None:
                    confirm = functools.partial(self._confirmations.submit, container_id, generation)
            else:
                self.update_container(container_id)
        subject = container_id if len(container_id) == 64 else ""
        on_change(Change(f"{action} {kind} {actor_id[:12]}", subject=subject, after=confirm))


class _DeathConfirmations:
    """Re-inspects containers after their ``die`` event, on a few long-lived threads.

    The store applies a ``die`` at once (ContainerStore.mark_stopped); this replaces that guess
    with the daemon's own data, which dockerd gives only once the container's network is torn
    down (70-900 ms measured). The engine asks for it once it has rendered the event
    (Change.after): a thread started or woken during that render takes the GIL from it at the
    worst moment, which added 6-12 ms to event -> file at 500 containers. The threads are
    long-lived because ``Thread.start`` waits until the new thread has been scheduled, and daemon
    threads because a ThreadPoolExecutor's are joined at exit, behind inspects dockerd is slow
    to answer.
    """

    def __init__(self, client: DockerClient, store: ContainerStore, workers: int = INSPECT_WORKERS) -> None:
        self.client = client
        self.store = store
        self.on_change: Callable[[Change], None] | None = None
        self._queue: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
        self._workers = workers
        self._threads: list[threading.Thread] = []

    def submit(self, container_id: str, generation: int) -> None:
        """Inspect ``container_id`` and apply it, unless an event newer than ``generation`` won."""
        if len(self._threads) < self._workers:
            thread = threading.Thread(target=self._work, name="inspect-after-die", daemon=True)
            self._threads.append(thread)
            thread.start()
        self._queue.put((container_id, generation))

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        self._threads = []

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            self._confirm(*item)

    def _confirm(self, container_id: str, generation: int) -> None:
        try:
            inspect = self.client.inspect(container_id)
        except NotFound:
            return  # a destroy event follows and removes it
        except DockerError as error:
            log.error("Error inspecting container: %s: %s", container_id, error)
            return
        if self.store.put(inspect, if_generation=generation) and self.on_change is not None:
            self.on_change(Change(f"inspected {container_id[:12]}", subject=container_id))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class InspectFileSource:
    """Containers from a saved ``docker inspect`` JSON array, through the same model and filters.

    Templates can be developed and tested without a daemon: ``pygen -inspect-file x.json t.tmpl``.
    """

    noun = "containers"
    watching = False

    def __init__(self, path: str) -> None:
        self.path = path
        self.store = ContainerStore()

    def refresh(self) -> None:
        try:
            data = json.loads(Path(self.path).read_text(encoding="utf-8"))
        except OSError as error:
            raise SourceError(f"Unable to read inspect file {self.path}: {error.strerror}") from None
        except ValueError as error:
            raise SourceError(f"Unable to read inspect file {self.path}: invalid JSON: {error}") from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise SourceError(f"Unable to read inspect file {self.path}: expected a JSON array of objects")
        self.store.replace_all(data, None)

    def render_input(self, config: TemplateConfig) -> RenderInput:
        return build_context(self.store, config, None, self.store.find)
