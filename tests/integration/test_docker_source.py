"""pygen.docker.source.DockerSource against the real dockerd, below the engine.

A ``die`` is applied from the event itself, and the daemon's own inspect replaces that guess
only when the engine asks for it, after the render the event triggered (``Change.after``).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pygen.config import TemplateConfig
from pygen.docker.api import client_from_environment
from pygen.docker.source import DockerSource
from pygen.source import Change

pytestmark = pytest.mark.docker

CASE_LABEL = "pygen.case"
NEVER_STOPPED = "0001-01-01T00:00:00Z"


@pytest.fixture
def source(case: str) -> Iterator[tuple[DockerSource, queue.Queue[Change]]]:
    config = TemplateConfig(["unused.tmpl"], container_filter={"label": [f"{CASE_LABEL}={case}"]},
                            include_stopped=True)
    docker_source = DockerSource(client_from_environment(), [config],
                                 event_filters={"label": [f"{CASE_LABEL}={case}"]})
    changes: queue.Queue[Change] = queue.Queue()
    docker_source.start(changes.put)
    assert next_change(changes, "connected").full
    yield docker_source, changes
    docker_source.stop()


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
