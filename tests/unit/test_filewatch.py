"""pygen.filewatch.FileWatcher with real inotify (watchdog) on temporary directories.

What matters to a user: every way a config or template gets updated in practice is seen
(editors renaming over the file, dotfiles, symlinks to files elsewhere, Kubernetes' ``..data``
swap), and nothing pygen writes itself, nor an editor's scratch file, causes a render.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pygen.filewatch import FileWatcher

WAIT = 5.0
QUIET = 0.4  # how long nothing must happen, to show that nothing does


class Engine:
    """What the watcher posts to, recorded."""

    def __init__(self) -> None:
        self.changes: list[list[str]] = []
        self.posted = threading.Condition()

    def post_files_changed(self, paths: list[str]) -> None:
        with self.posted:
            self.changes.append(list(paths))
            self.posted.notify_all()

    def next_change(self, timeout: float = WAIT) -> set[str]:
        with self.posted:
            if not self.posted.wait_for(lambda: self.changes, timeout):
                raise AssertionError(f"no change posted within {timeout}s")
            return set(self.changes.pop(0))

    def nothing_within(self, seconds: float = QUIET) -> bool:
        time.sleep(seconds)
        with self.posted:
            return not self.changes


@pytest.fixture
def watching() -> Iterator[tuple[FileWatcher, Engine]]:
    watcher, engine = FileWatcher(), Engine()
    yield watcher, engine
    watcher.stop()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_file_replaced_by_a_rename_over_it_is_seen(watching, tmp_path) -> None:
    watcher, engine = watching
    template = write(tmp_path / "t" / "nginx.tmpl", "v1")
    watcher.start(engine, [str(template)])
    write(tmp_path / "t" / "nginx.tmpl.new", "v2").rename(template)
    assert str(template) in engine.next_change()


def test_a_config_whose_name_starts_with_a_dot_is_followed(watching, tmp_path) -> None:
    watcher, engine = watching
    config = write(tmp_path / ".pygen.toml", "")
    watcher.start(engine, [str(config)])
    config.write_text("[[config]]\n")
    assert engine.next_change() == {str(config)}


def test_an_edit_of_a_symlinks_target_elsewhere_changes_the_symlink(watching, tmp_path) -> None:
    watcher, engine = watching
    target = write(tmp_path / "shared" / "site.tmpl", "v1")
    link = tmp_path / "conf" / "site.tmpl"
    link.parent.mkdir()
    link.symlink_to(target)
    watcher.start(engine, [str(link)])
    target.write_text("v2")
    assert str(link) in engine.next_change()


def test_a_kubernetes_data_swap_changes_every_watched_file_of_the_volume(watching, tmp_path) -> None:
    """kubelet writes ``..<timestamp>/``, points ``..data_tmp`` at it and renames that over
    ``..data``; the visible files are symlinks through ``..data``, and none of them is touched."""
    watcher, engine = watching
    volume = tmp_path / "volume"
    first = volume / "..2026_11_26_01"
    write(first / "pygen.toml", "v1")
    write(first / "nginx.tmpl", "v1")
    (volume / "..data").symlink_to(first.name)
    for name in ("pygen.toml", "nginx.tmpl"):
        (volume / name).symlink_to(Path("..data") / name)
    watcher.start(engine, [str(volume / "pygen.toml"), str(volume / "nginx.tmpl")])
    second = volume / "..2026_11_26_02"
    write(second / "pygen.toml", "v2")
    write(second / "nginx.tmpl", "v2")
    (volume / "..data_tmp").symlink_to(second.name)
    os.rename(volume / "..data_tmp", volume / "..data")
    assert engine.next_change() == {str(volume / "pygen.toml"), str(volume / "nginx.tmpl")}


def test_own_output_and_scratch_files_beside_a_template_change_nothing(watching, tmp_path) -> None:
    watcher, engine = watching
    template = write(tmp_path / "nginx.tmpl", "v1")
    dest = tmp_path / "nginx.conf"
    watcher.start(engine, [str(template)], [str(dest)])
    dest.write_text("rendered")
    write(tmp_path / ".nginx.tmpl.swp", "vim")
    write(tmp_path / "nginx.tmpl~", "emacs")
    write(tmp_path / ".nginx.conf.1234.pygen-staged", "staged")
    assert engine.nothing_within()
    included = write(tmp_path / "upstreams.inc", "a file a template may include")
    assert engine.next_change() == {str(included)}


def test_after_a_reload_a_template_in_a_new_directory_is_followed(watching, tmp_path) -> None:
    watcher, engine = watching
    old = write(tmp_path / "old" / "a.tmpl", "v1")
    new = write(tmp_path / "new" / "b.tmpl", "v1")
    watcher.start(engine, [str(old)])
    new.write_text("v2")
    assert engine.nothing_within()
    watcher.watch([str(new)])
    new.write_text("v3")
    assert engine.next_change() == {str(new)}
    old.write_text("v2")  # no longer named by any config
    assert engine.nothing_within()
