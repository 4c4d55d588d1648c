"""ContainerStore: Docker's list order and the per-container selection cache stay right as
containers are added, changed, stopped and removed.

``select`` reuses a container's filter result while its inspect dict is the one stored; every
test here changes the store between two selections and checks the answer a fresh store would give.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

import pygen.docker.state as state_module
from pygen.docker.state import ContainerStore

RUNNING = {"status": ["running"]}
WEB = {"status": ["running"], "label": ["app=web"]}


def inspect(index: int, *, labels: dict[str, str] | None = None, status: str = "running",
            created: str | None = None, container_id: str | None = None) -> dict[str, Any]:
    """A minimal inspect dict; a higher index is created later (newer)."""
    return {
        "Id": container_id or f"{index:064x}",
        "Name": f"/c{index}",
        "Created": created or f"2026-11-25T10:00:{index:02d}.000000000Z",
        "Config": {"Labels": {"app": "web"} if labels is None else labels, "Env": []},
        "State": {"Status": status, "Running": status == "running", "ExitCode": 0,
                  "StartedAt": "2026-11-25T10:00:00Z"},
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": f"172.17.0.{index + 2}"}}},
    }


def names(store: ContainerStore, filters: Mapping[str, list[str]]) -> list[str]:
    return [c.Name for c in store.select(dict(filters), None)]


def fresh_answer(store: ContainerStore, filters: Mapping[str, list[str]]) -> list[str]:
    """What a store built from scratch with the same inspect data selects (no cache involved)."""
    rebuilt = ContainerStore()
    rebuilt.replace_all([data for _, data in store.ordered()], None)
    return names(rebuilt, filters)


@pytest.fixture
def store() -> ContainerStore:
    filled = ContainerStore()
    filled.replace_all([inspect(i) for i in range(5)], None)
    return filled


def test_select_is_newest_first(store: ContainerStore) -> None:
    assert names(store, RUNNING) == ["c4", "c3", "c2", "c1", "c0"]


def test_a_changed_container_is_filtered_again(store: ContainerStore) -> None:
    assert names(store, WEB) == ["c4", "c3", "c2", "c1", "c0"]
    store.put(inspect(2, labels={"app": "db"}))
    assert names(store, WEB) == ["c4", "c3", "c1", "c0"] == fresh_answer(store, WEB)
    store.put(inspect(2))
    assert names(store, WEB) == ["c4", "c3", "c2", "c1", "c0"]


def test_stop_and_restart_change_the_selection(store: ContainerStore) -> None:
    names(store, RUNNING)
    store.mark_stopped(f"{3:064x}", 137)
    assert names(store, RUNNING) == ["c4", "c2", "c1", "c0"] == fresh_answer(store, RUNNING)
    store.put(inspect(3))
    assert names(store, RUNNING) == ["c4", "c3", "c2", "c1", "c0"]


def test_removed_and_added_containers(store: ContainerStore) -> None:
    names(store, RUNNING)
    store.remove(f"{4:064x}")
    assert names(store, RUNNING) == ["c3", "c2", "c1", "c0"]
    store.put(inspect(9))
    store.put(inspect(7, labels={}))
    assert names(store, RUNNING) == ["c9", "c7", "c3", "c2", "c1", "c0"]
    assert names(store, WEB) == ["c9", "c3", "c2", "c1", "c0"] == fresh_answer(store, WEB)


def test_a_full_resync_replaces_every_cached_answer(store: ContainerStore) -> None:
    names(store, WEB)
    store.replace_all([inspect(i, labels={"app": "web" if i % 2 else "db"}) for i in range(5)], None)
    assert names(store, WEB) == ["c3", "c1"]


def test_each_set_of_filters_has_its_own_answers(store: ContainerStore) -> None:
    store.put(inspect(1, labels={"app": "db"}))
    assert names(store, WEB) == ["c4", "c3", "c2", "c0"]
    assert names(store, RUNNING) == ["c4", "c3", "c2", "c1", "c0"]
    assert names(store, {"label": ["app=db"]}) == ["c1"]
    assert names(store, WEB) == ["c4", "c3", "c2", "c0"]


def test_only_changed_containers_are_evaluated_again(store: ContainerStore,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the cache: one event, one evaluation (not one per container)."""
    evaluated: list[str] = []
    compile_filters = state_module.compile_filters

    def counting(filters: Any, known_ids: Any = None) -> Any:
        matches = compile_filters(filters, known_ids)

        def predicate(data: Mapping[str, Any]) -> bool:
            evaluated.append(data["Name"])
            return matches(data)

        return predicate

    monkeypatch.setattr(state_module, "compile_filters", counting)
    names(store, WEB)
    assert len(evaluated) == 5
    evaluated.clear()
    store.put(inspect(2, labels={"app": "db"}))
    store.mark_stopped(f"{0:064x}", 0)
    assert names(store, WEB) == ["c4", "c3", "c1"]
    assert sorted(evaluated) == ["/c0", "/c2"]


def test_id_prefixes_are_evaluated_against_the_current_containers(store: ContainerStore) -> None:
    """An ``id`` prefix stops matching once another container shares it (dockerd's rule), so
    its answer cannot be reused across changes of other containers."""
    filters = {"id": ["abc"]}
    store.put(inspect(10, container_id="abc" + "1" * 61))
    assert names(store, filters) == ["c10"]
    store.put(inspect(11, container_id="abc" + "2" * 61))
    assert names(store, filters) == []


def test_order_is_kept_for_a_changed_container_and_redone_for_a_new_time(store: ContainerStore) -> None:
    store.put(inspect(1, labels={"app": "db"}))
    assert names(store, RUNNING) == ["c4", "c3", "c2", "c1", "c0"]
    moved = inspect(1, created="2026-11-25T11:00:00Z")
    store.put(moved)
    assert names(store, RUNNING) == ["c1", "c4", "c3", "c2", "c0"] == fresh_answer(store, RUNNING)


def test_same_creation_time_orders_by_id_descending() -> None:
    store = ContainerStore()
    same = "2026-11-25T10:00:00Z"
    store.replace_all([inspect(i, created=same) for i in (1, 3, 2)], None)
    assert names(store, RUNNING) == ["c3", "c2", "c1"]


def test_an_inspect_dict_put_again_unchanged_keeps_its_answer(store: ContainerStore) -> None:
    """Identity, not equality, ties an answer to its data: an equal copy is evaluated again and
    gives the same answer."""
    data = inspect(3)
    store.put(data)
    assert names(store, WEB) == ["c4", "c3", "c2", "c1", "c0"]
    store.put(copy.deepcopy(data))
    assert names(store, WEB) == ["c4", "c3", "c2", "c1", "c0"]


def test_a_full_read_does_not_undo_what_events_changed_while_it_ran(store: ContainerStore) -> None:
    """A SIGHUP resync lists and inspects on the main thread while the event thread goes on."""
    listed_before_the_events = [inspect(index) for index in range(5)]
    marks = store.generation_marks()
    store.put(inspect(2, labels={"app": "db"}))  # changed during the read
    store.remove(f"{4:064x}")  # destroyed during the read
    store.put(inspect(8))  # created during the read
    store.replace_all(listed_before_the_events, None, since=marks)
    assert names(store, WEB) == ["c8", "c3", "c1", "c0"]
    assert names(store, RUNNING) == ["c8", "c3", "c2", "c1", "c0"]


def test_a_full_read_without_marks_is_the_whole_truth(store: ContainerStore) -> None:
    store.put(inspect(2, labels={"app": "db"}))
    store.replace_all([inspect(index) for index in range(3)], None)
    assert names(store, WEB) == ["c2", "c1", "c0"]
