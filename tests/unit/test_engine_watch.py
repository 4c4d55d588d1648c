"""The watch loop's threading contract (pygen.engine.Engine.run_forever / post_change).

A source's watcher thread hands each change to ``post_change``, which renders it on that thread
before returning; debounced configs, stops and follow-up work still go through the main loop.
The source is held in memory (tests/helpers/memory_source.py): what is tested is the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pygen.config import TemplateConfig
from pygen.durations import Wait
from pygen.engine import Engine
from pygen.functions.registry import docker_gen_functions
from pygen.job import Job
from pygen.notify import NotifyRunner
from tests.helpers import wait_until
from tests.helpers.memory_source import MemorySource

WAIT_SECONDS = 5.0


@pytest.fixture
def template(tmp_path: Path) -> str:
    path = tmp_path / "names.tmpl"
    path.write_text("{% for name in names %}{{ name }}\n{% endfor %}")
    return str(path)


@pytest.fixture
def running(tmp_path: Path, template: str) -> Iterator[Callable[..., tuple[Engine, MemorySource, Path]]]:
    """Start ``Engine.run_forever`` on a thread; stop it and check that it returned 0."""
    started: list[tuple[Engine, threading.Thread, list[int]]] = []

    def start(wait: Wait | None = None) -> tuple[Engine, MemorySource, Path]:
        dest = tmp_path / "out.txt"
        config = TemplateConfig([template], dest=str(dest), watch=True, wait=wait or Wait())
        source = MemorySource()
        engine = Engine(lambda: [Job(config, docker_gen_functions())], source, NotifyRunner())
        exit_codes: list[int] = []
        thread = threading.Thread(target=lambda: exit_codes.append(engine.run_forever()), name="main-loop")
        thread.start()
        wait_until(lambda: source.on_change is not None, WAIT_SECONDS, message="the engine to start the source")
        started.append((engine, thread, exit_codes))
        return engine, source, dest

    yield start
    for engine, thread, exit_codes in started:
        engine.request_stop()
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive(), "run_forever did not return after a stop"
        assert exit_codes == [0]


def on_a_watcher_thread(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action, name="watcher")
    thread.start()
    return thread


def test_a_change_is_written_before_post_change_returns(running: Any) -> None:
    _, source, dest = running()
    on_a_watcher_thread(lambda: source.change("web-1")).join(WAIT_SECONDS)
    assert dest.read_text() == "web-1\n"
    assert source.render_threads == ["watcher"]


def test_follow_up_work_runs_after_the_render_it_waited_for(running: Any) -> None:
    _, source, dest = running()
    seen_at_follow_up: list[str] = []

    def follow_up() -> None:
        seen_at_follow_up.append(dest.read_text())

    on_a_watcher_thread(lambda: source.change("web-1", after=follow_up)).join(WAIT_SECONDS)
    assert seen_at_follow_up == ["web-1\n"]


def test_a_debounced_change_is_rendered_by_the_main_loop_once_its_wait_ends(running: Any) -> None:
    _, source, dest = running(Wait(0.05, 0.2))
    on_a_watcher_thread(lambda: source.change("web-1")).join(WAIT_SECONDS)
    assert not dest.exists(), "a debounced change was rendered at once"
    # Without a wake-up, the main loop would go on sleeping in its queue with no deadline.
    wait_until(lambda: dest.exists() and dest.read_text() == "web-1\n", WAIT_SECONDS, message="the debounced render")
    assert source.render_threads == ["main-loop"]


def test_a_stop_waits_for_the_render_in_progress_and_later_changes_render_nothing(running: Any) -> None:
    engine, source, dest = running()
    source.block_renders.clear()
    watcher = on_a_watcher_thread(lambda: source.change("web-1"))
    assert source.render_started.wait(WAIT_SECONDS)
    engine.request_stop()
    watcher.join(0.2)
    assert watcher.is_alive(), "the render should still be blocked"
    source.block_renders.set()
    watcher.join(WAIT_SECONDS)
    assert dest.read_text() == "web-1\n", "the render in progress was not finished"
    on_a_watcher_thread(lambda: source.change("web-2")).join(WAIT_SECONDS)
    assert dest.read_text() == "web-1\n"


def test_an_unexpected_error_is_logged_and_the_watcher_goes_on(running: Any, caplog: pytest.LogCaptureFixture) -> None:
    _, source, dest = running()
    source.fail_with = RuntimeError("boom")
    errors: list[BaseException] = []

    def change() -> None:
        try:
            source.change("web-1")
        except BaseException as error:  # noqa: BLE001 - the test asserts none escapes
            errors.append(error)

    with caplog.at_level(logging.ERROR, logger="pygen"):
        on_a_watcher_thread(change).join(WAIT_SECONDS)
    assert errors == []
    assert "Unexpected error handling added web-1" in caplog.text
    source.fail_with = None
    on_a_watcher_thread(lambda: source.change("web-2")).join(WAIT_SECONDS)
    assert dest.read_text() == "web-1\nweb-2\n"


def test_a_reload_that_turns_watch_on_starts_the_source(template: str, tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    configs = [TemplateConfig([template], dest=str(dest), interval=3600)]
    source = MemorySource()
    engine = Engine(lambda: [Job(config, docker_gen_functions()) for config in configs], source, NotifyRunner())
    loop = threading.Thread(target=engine.run_forever, name="main-loop")
    loop.start()
    try:
        wait_until(dest.exists, WAIT_SECONDS, message="the first render")
        assert not source.watching
        configs[:] = [TemplateConfig([template], dest=str(dest), watch=True)]
        engine.request_reload()
        wait_until(lambda: source.watching, WAIT_SECONDS, message="the source to be started")
        on_a_watcher_thread(lambda: source.change("web-1")).join(WAIT_SECONDS)
        assert dest.read_text() == "web-1\n"
    finally:
        engine.request_stop()
        loop.join(WAIT_SECONDS)
    assert not loop.is_alive()
