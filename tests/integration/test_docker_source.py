"""pygen.docker.source.DockerSource against the real dockerd, below the engine.

- Incremental state: after the first full read, an event costs one inspect of the container
  it names and nothing else; events of networks and volumes cost nothing. The requests are
  counted by a proxy between pygen and the real dockerd (tests/helpers/docker_proxy.py).
- A ``die`` is applied from the event itself, and the daemon's own inspect replaces that guess
  only when the engine asks for it, after the render the event triggered (``Change.after``).
"""

from __future__ import annotations

import queue
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pygen.config import TemplateConfig
from pygen.docker.api import client_from_environment
from pygen.docker.source import DockerSource
from pygen.source import Change
from tests.helpers.docker_proxy import CountingDockerProxy

pytestmark = pytest.mark.docker

CASE_LABEL = "pygen.case"
NEVER_STOPPED = "0001-01-01T00:00:00Z"
INSPECT_PATH = re.compile(r"(?:/v[\d.]+)?/containers/([0-9a-f]{64})/json")
LIST_PATH = re.compile(r"(?:/v[\d.]+)?/containers/json")


def watching(case: str, endpoint: str = "", event_filters: dict[str, list[str]] | None = None,
             ) -> tuple[DockerSource, queue.Queue[Change]]:
    """A started source selecting the case's containers (stopped ones too), once connected."""
    config = TemplateConfig(["unused.tmpl"], container_filter={"label": [f"{CASE_LABEL}={case}"]},
                            include_stopped=True)
    filters = {"label": [f"{CASE_LABEL}={case}"]} if event_filters is None else event_filters
    docker_source = DockerSource(client_from_environment(endpoint), [config], event_filters=filters)
    changes: queue.Queue[Change] = queue.Queue()
    docker_source.start(changes.put)
    assert next_change(changes, "connected").full
    return docker_source, changes


@pytest.fixture
def source(case: str) -> Iterator[tuple[DockerSource, queue.Queue[Change]]]:
    docker_source, changes = watching(case)
    yield docker_source, changes
    docker_source.stop()


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[CountingDockerProxy]:
    counting = CountingDockerProxy(tmp_path)
    yield counting
    counting.close()


def inspected(proxy: CountingDockerProxy) -> list[str]:
    """The container IDs pygen inspected, in order."""
    return [match[1] for _, path in proxy.requests() if (match := INSPECT_PATH.fullmatch(path))]


def listed(proxy: CountingDockerProxy) -> int:
    return sum(1 for _, path in proxy.requests() if LIST_PATH.fullmatch(path))


def next_change(changes: queue.Queue[Change], reason_prefix: str, timeout: float = 20.0) -> Change:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            change = changes.get(timeout=left)
        except queue.Empty:
            break
        if change.reason.startswith(reason_prefix):
            return change
    raise AssertionError(f"no change {reason_prefix!r} within {timeout}s")


def stored_inspect(docker_source: DockerSource, container_id: str) -> dict[str, Any]:
    return next(dict(inspect) for container, inspect in docker_source.store.ordered() if container.ID == container_id)


def test_a_die_is_applied_from_the_event_and_confirmed_by_the_daemon_when_the_engine_asks(
    source: tuple[DockerSource, queue.Queue[Change]], containers: Any, case: str
) -> None:
    docker_source, changes = source
    handle = containers.run(labels={CASE_LABEL: case}, publish_ip=None)
    assert next_change(changes, "start").subject == handle.id
    assert stored_inspect(docker_source, handle.id)["State"]["FinishedAt"] == NEVER_STOPPED

    handle.kill()
    died = next_change(changes, "die")
    container = docker_source.store.find(handle.id)
    assert container is not None and not container.State.Running
    assert all(not network.IP for network in container.Networks)
    assert stored_inspect(docker_source, handle.id)["State"]["ExitCode"] == 137
    assert died.after is not None

    time.sleep(0.5)  # the daemon's data is not asked for before the engine has rendered
    assert changes.empty()
    assert stored_inspect(docker_source, handle.id)["State"]["FinishedAt"] == NEVER_STOPPED

    died.after()
    confirmed = next_change(changes, "inspected")
    assert confirmed.subject == handle.id
    daemon_state = handle.inspect()["State"]
    assert daemon_state["FinishedAt"] != NEVER_STOPPED
    assert stored_inspect(docker_source, handle.id)["State"] == daemon_state


def test_a_confirmation_older_than_a_later_event_is_dropped(
    source: tuple[DockerSource, queue.Queue[Change]], containers: Any, case: str
) -> None:
    docker_source, changes = source
    handle = containers.run(labels={CASE_LABEL: case}, publish_ip=None)
    next_change(changes, "start")
    handle.kill()
    died = next_change(changes, "die")
    handle.start()
    next_change(changes, "start")
    assert died.after is not None
    died.after()  # the container runs again: its inspect of the die must not win
    time.sleep(1.0)
    container = docker_source.store.find(handle.id)
    assert container is not None and container.State.Running
    assert all(not change.reason.startswith("inspected") for change in list(changes.queue))


def test_after_the_first_read_an_event_costs_one_inspect_of_its_container(
    proxy: CountingDockerProxy, containers: Any, case: str
) -> None:
    """docker-gen lists and inspects every container on every event; pygen asks for the one
    the event names, so event -> file does not grow with the number of containers."""
    running = [containers.run(labels={CASE_LABEL: case}, publish_ip=None) for _ in range(3)]
    docker_source, changes = watching(case, proxy.endpoint)
    try:
        assert listed(proxy) == 1 and set(inspected(proxy)) == {handle.id for handle in running}
        proxy.clear()
        newcomer = containers.run(labels={CASE_LABEL: case}, publish_ip=None)
        assert next_change(changes, "start").subject == newcomer.id
        assert set(inspected(proxy)) == {newcomer.id}  # its create and start events
        assert listed(proxy) == 0
        proxy.clear()
        newcomer.remove()
        assert next_change(changes, "destroy").subject == newcomer.id
        assert docker_source.store.find(newcomer.id) is None
        assert inspected(proxy) == [] and listed(proxy) == 0  # die and destroy need no request
    finally:
        docker_source.stop()


def test_events_of_networks_and_volumes_cost_no_request_and_no_change(
    proxy: CountingDockerProxy, containers: Any, docker_networks: Any, case: str
) -> None:
    """Subscribed without a label filter, so that the daemon sends them (a network's create and
    destroy match the state events pygen follows)."""
    docker_source, changes = watching(case, proxy.endpoint, event_filters={})
    try:
        proxy.clear()
        network = docker_networks.create("ignored")
        volume = containers.api.create_volume(labels={CASE_LABEL: case, "pygen.test": containers.token})["Name"]
        containers.api.remove_volume(volume)
        containers.api.remove_network(network)
        marker = containers.run(labels={CASE_LABEL: case}, publish_ip=None)
        assert next_change(changes, "start").subject == marker.id  # events arrive in order
        assert set(inspected(proxy)) == {marker.id}
        assert listed(proxy) == 0
        unrelated = []
        while not changes.empty():
            unrelated.append(changes.get().reason)
        assert not [reason for reason in unrelated if "network" in reason or "volume" in reason]
    finally:
        docker_source.stop()


def test_a_container_gone_before_its_inspect_is_dropped(source: tuple[DockerSource, queue.Queue[Change]],
                                                        containers: Any, case: str) -> None:
    docker_source, _ = source
    docker_source.stop()  # from here on no event removes it: only the inspect's 404 can
    handle = containers.run(labels={CASE_LABEL: case}, publish_ip=None)
    docker_source.update_container(handle.id)
    assert docker_source.store.find(handle.id) is not None
    handle.remove()
    docker_source.update_container(handle.id)
    assert docker_source.store.find(handle.id) is None
