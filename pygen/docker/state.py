"""The containers a template sees, kept in memory and selected per config by Docker's filters.

docker-gen re-lists and re-inspects every container on every event, so its event-to-file
latency grows with the number of containers (1.3 s at 500 here). This store is filled once
(list + inspect) and then updated one container at a time; selecting a config's containers
is a local filter over the store, in Docker's own order (newest first).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pygen.config import TemplateConfig
from pygen.docker.current import current_container_id
from pygen.docker.filters import (
    ContainerFilter,
    InvalidFilter,
    UnsupportedFilter,
    compile_filters,
)
from pygen.docker.model import (
    DockerInfo,
    RuntimeContainer,
    container_from_inspect,
    docker_info_from,
    internal_network_names,
)
from pygen.errors import SourceError
from pygen.source import RenderInput, environment_snapshot

IdLookup = Callable[[dict[str, list[str]]], list[str]]
"""Asks the daemon which container IDs match filters the store cannot evaluate itself."""

_FilterKey = tuple[tuple[str, tuple[str, ...]], ...]


class ContainerStore:
    """Inspect data and built containers by ID, guarded by a lock (the watcher thread writes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inspects: dict[str, Mapping[str, Any]] = {}
        self._containers: dict[str, RuntimeContainer] = {}
        self._generations: dict[str, int] = {}
        """Bumped on every change of a container, so a slow inspect cannot undo a newer event."""
        self._order: list[str] | None = None
        """The IDs newest first (Docker's list order); None when it must be sorted again."""
        self._selections: dict[_FilterKey, dict[str, tuple[Mapping[str, Any], bool]]] = {}
        """Per set of filters: each container's inspect dict and whether it matched (see select)."""
        self._internal_networks: frozenset[str] = frozenset()
        self._network_names: frozenset[str] = frozenset()
        """Every network in the last ``GET /networks`` list: a container on another one means
        a new network, whose ``Internal`` flag the store does not know yet."""
        self._info: Mapping[str, Any] | None = None
        self._version: Mapping[str, Any] | None = None
        self._docker_info: tuple[tuple[Any, ...], DockerInfo] | None = None
        self.synced = False
        """True after the first full sync: before it, an empty store means "unknown", not "none"."""
        self.current_id = current_container_id(os.environ.get("HOSTNAME"))

    # -- writing ------------------------------------------------------------------------------

    def generation_marks(self) -> dict[str, int]:
        """Where each container's changes stand now: taken before a full read, handed to
        ``replace_all`` so that what an event changed meanwhile is not undone."""
        with self._lock:
            return dict(self._generations)

    def replace_all(self, inspects: Iterable[Mapping[str, Any]], networks: list[Mapping[str, Any]] | None,
                    info: Mapping[str, Any] | None = None, since: Mapping[str, int] | None = None) -> None:
        """A full resync: the store becomes exactly these containers.

        With ``since`` (``generation_marks()`` from before the list was read), a container that an
        event changed, added or removed while the read ran keeps that newer state: a SIGHUP's
        resync runs beside the event thread, and its list may predate the last events.
        """
        internal = internal_network_names(networks) if networks is not None else self._internal_networks
        built = {}
        raw = {}
        for inspect in inspects:
            container = container_from_inspect(inspect, internal)
            built[container.ID] = container
            raw[container.ID] = inspect
        with self._lock:
            if since is not None:
                self._keep_changed_since(since, built, raw)
            self._internal_networks = internal
            if networks is not None:
                self._network_names = _names(networks)
            self._inspects = raw
            self._containers = built
            self._order = None
            self._selections = {}  # answers for old data (and for configs since reloaded) go
            if info is not None:
                self._info = info
            self.synced = True

    def _keep_changed_since(self, since: Mapping[str, int], built: dict[str, RuntimeContainer],
                            raw: dict[str, Mapping[str, Any]]) -> None:
        """In a full read's result, put back the stored state of each container an event
        touched after ``since``: present if the store has it, absent if it was removed."""
        for container_id, generation in self._generations.items():
            if since.get(container_id, 0) == generation:
                continue
            if container_id in self._containers:
                built[container_id] = self._containers[container_id]
                raw[container_id] = self._inspects[container_id]
            else:
                built.pop(container_id, None)
                raw.pop(container_id, None)

    def put(self, inspect: Mapping[str, Any], if_generation: int | None = None) -> bool:
        """Store fresh inspect data; with ``if_generation``, only if nothing newer arrived since."""
        container = container_from_inspect(inspect, self._internal_networks)
        with self._lock:
            if if_generation is not None and self._generations.get(container.ID, 0) != if_generation:
                return False
            self._set(container, inspect)
            self._generations[container.ID] = self._generations.get(container.ID, 0) + 1
            return True

    def mark_stopped(self, container_id: str, exit_code: int) -> int | None:
        """Apply a ``die`` event at once, without asking the daemon; return the new generation.

        Inspecting a container that just died blocks in dockerd until its network is torn
        down (0.6-0.9 s measured here), so the known consequences of a stop are applied
        right away: not running, status exited, no port bindings, no addresses. A background
        inspect then replaces this guess with the daemon's data unless a newer event won.
        """
        with self._lock:
            inspect = self._inspects.get(container_id)
            if inspect is None:
                return None
            patched = dict(inspect)
            state = dict(patched.get("State") or {})
            state.update(Running=False, Paused=False, Restarting=False, Status="exited", ExitCode=exit_code)
            patched["State"] = state
            settings = dict(patched.get("NetworkSettings") or {})
            settings["Ports"] = {}
            for legacy in ("IPAddress", "Gateway", "GlobalIPv6Address", "IPv6Gateway", "LinkLocalIPv6Address"):
                if legacy in settings:
                    settings[legacy] = ""
            settings["Networks"] = {
                name: {**network, "IPAddress": "", "Gateway": "", "GlobalIPv6Address": "",
                       "IPv6Gateway": "", "EndpointID": "", "MacAddress": "", "IPPrefixLen": 0,
                       "GlobalIPv6PrefixLen": 0}
                for name, network in (settings.get("Networks") or {}).items()
            }
            patched["NetworkSettings"] = settings
            self._set(container_from_inspect(patched, self._internal_networks), patched)
            generation = self._generations.get(container_id, 0) + 1
            self._generations[container_id] = generation
            return generation

    def remove(self, container_id: str) -> bool:
        with self._lock:
            self._generations[container_id] = self._generations.get(container_id, 0) + 1
            removed = self._containers.pop(container_id, None) is not None
            self._inspects.pop(container_id, None)
            if removed:
                self._order = None
            return removed

    def _set(self, container: RuntimeContainer, inspect: Mapping[str, Any]) -> None:
        """Store one container (the lock is held). The order is kept unless the container is new
        or its sort key changed: an event changes one container, and re-sorting all of them on
        every event cost as much as filtering them."""
        previous = self._containers.get(container.ID)
        if previous is None or _newest_first_key(previous) != _newest_first_key(container):
            self._order = None
        self._inspects[container.ID] = inspect
        self._containers[container.ID] = container

    def set_version(self, version: Mapping[str, Any] | None) -> None:
        self._version = version

    def set_networks(self, networks: list[Mapping[str, Any]]) -> None:
        self._internal_networks = internal_network_names(networks)
        self._network_names = _names(networks)

    def knows_networks(self, inspect: Mapping[str, Any]) -> bool:
        """False when the container is on a network the store has not seen (refresh /networks)."""
        networks = ((inspect.get("NetworkSettings") or {}).get("Networks") or {}).keys()
        return all(name in self._network_names for name in networks)

    # -- reading ------------------------------------------------------------------------------

    def __contains__(self, container_id: str) -> bool:
        return container_id in self._containers

    def __len__(self) -> int:
        return len(self._containers)

    def ordered(self) -> list[tuple[RuntimeContainer, Mapping[str, Any]]]:
        """Every container with its inspect data, newest first as Docker's list orders them."""
        with self._lock:
            containers = self._containers
            if self._order is None:
                ordered = sorted(containers.values(), key=_newest_first_key, reverse=True)
                self._order = [container.ID for container in ordered]
            return [(containers[container_id], self._inspects[container_id]) for container_id in self._order]

    def select(self, filters: dict[str, list[str]], lookup: IdLookup | None) -> list[RuntimeContainer]:
        """The containers matching Docker list filters, evaluated locally where possible.

        Filters the store cannot evaluate exactly as dockerd does (``ancestor``, ``since``,
        a ``name`` regex Python reads differently...) are answered by the daemon through
        ``lookup``; without a daemon (an inspect file) that is an error naming the key.
        """
        try:
            matches = compile_filters(filters, known_ids=self._containers.keys())
        except InvalidFilter as error:
            raise SourceError(f"invalid container filter: {error}") from None
        except UnsupportedFilter as error:
            if lookup is None:
                raise SourceError(
                    f"container filter {error.key!r} needs a Docker daemon to be evaluated"
                ) from None
            allowed = set(lookup(filters))
            return [c for c, _ in self.ordered() if c.ID in allowed]
        if "id" in filters:  # an ID prefix's match depends on the other containers too
            return [c for c, inspect in self.ordered() if matches(inspect)]
        return self._select_cached(_filter_key(filters), matches)

    def _select_cached(self, key: _FilterKey, matches: ContainerFilter) -> list[RuntimeContainer]:
        """``select`` that evaluates the filters only for containers whose inspect data changed.

        Every other filter depends on one container's inspect dict alone, and the store
        replaces that dict (never edits it) on each change of the container, so a result is
        reused while its dict is still the one stored. Between two events only one container
        changed: evaluating the 499 others again was a tenth of a 500-container render.
        """
        answers = self._selections.setdefault(key, {})
        ordered = self.ordered()
        selected = []
        for container, inspect in ordered:
            answer = answers.get(container.ID)
            if answer is None or answer[0] is not inspect:
                answer = answers[container.ID] = (inspect, matches(inspect))
            if answer[1]:
                selected.append(container)
        if len(answers) > len(ordered):  # removed containers: keep only what the store holds
            current = {container.ID for container, _ in ordered}
            self._selections[key] = {cid: answer for cid, answer in answers.items() if cid in current}
        return selected

    def matches(self, filters: dict[str, list[str]], container_id: str) -> bool:
        """Whether one container passes the filters now; True when that needs the daemon."""
        inspect = self._inspects.get(container_id)
        if inspect is None:
            return False
        try:
            return compile_filters(filters, known_ids=self._containers.keys())(inspect)
        except UnsupportedFilter:
            return True

    def docker_info(self) -> DockerInfo:
        """``.Docker``: the same object from render to render while its sources are the same
        (memoised loop bodies that read it key it by identity, pygen.loopmemo)."""
        count = len(self._containers) if self._info is None else None
        sources = (self._info, self._version, self.current_id, count)
        cached = self._docker_info
        if cached is None or not _same_sources(cached[0], sources):
            info = docker_info_from(self._info, self._version, self.current_id)
            if count is not None:
                info.NumContainers = count
            cached = self._docker_info = (sources, info)
        return cached[1]

    def find(self, container_id: str) -> RuntimeContainer | None:
        return self._containers.get(container_id)


def _filter_key(filters: Mapping[str, list[str]]) -> _FilterKey:
    """A hashable form of a config's filters, to keep one selection cache per distinct filter."""
    return tuple(sorted((key, tuple(values)) for key, values in filters.items()))


def _newest_first_key(container: RuntimeContainer) -> tuple[int, str]:
    """Docker's list order, reversed: creation time, then ID (ints compare in C, GoTime in Python)."""
    return container.Created.unix_nanos, container.ID


def _same_sources(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """The /info and /version answers are the very same dicts (replaced on each read), and the
    current ID and the container count are equal."""
    return a[0] is b[0] and a[1] is b[1] and a[2:] == b[2:]


def _names(networks: list[Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(network.get("Name", "") for network in networks if network)


def build_context(store: ContainerStore, config: TemplateConfig, lookup: IdLookup | None,
                  current: Callable[[str], RuntimeContainer | None]) -> RenderInput:
    """The template variables docker-gen offers: containers, Env, Docker, CurrentContainer.

    Refuses to build a context before the first full sync, so a daemon that is down at
    start-up can never produce an empty file.
    """
    if not store.synced:
        raise SourceError("Docker state not read yet (daemon not reachable); keeping the current file")
    containers = store.select(config.effective_container_filter(), lookup)
    current_container = None
    if store.current_id:
        current_container = next((c for c in containers if c.ID == store.current_id), None)
        if current_container is None:
            current_container = current(store.current_id)
    context = {
        "containers": containers,
        "Env": environment_snapshot(),
        "Docker": store.docker_info(),
        "CurrentContainer": current_container,
    }
    return RenderInput(context, len(containers), "containers", frozenset([c.ID for c in containers]))
