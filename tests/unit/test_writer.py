"""Blank-line removal (spec §4.2) and compare / check / write of the destination (spec §4.1)."""

from __future__ import annotations

import os
import random
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from pygen.errors import CheckError, WriteError
from pygen.writer import (
    _GO_WHITESPACE,
    Destination,
    is_blank,
    remove_blank_lines,
    write_output,
)

LF, CR, TAB, VT, FF, NEL, NBSP = "\n", "\r", "\t", "\v", "\f", "\x85", "\xa0"

# ----------------------------------------------------------------------------- §4.2 vectors

IS_BLANK = [
    ("", True),
    (" ", True),
    ("   ", True),
    (TAB, True),
    (TAB + LF + VT + FF + CR + NEL + NBSP, True),
    ("a", False),
    (" a ", False),
    ("a ", False),
    (" a", False),
    ("日本語", False),
    ("\x1c", False),
    ("\x1d", False),
    ("\x1e", False),
    ("\x1f", False),
    ("\u2028", True),
    ("\u2029", True),
    ("\u200b", False),
    ("\u3000", True),
    ("\u1680\u2000\u200a\u202f\u205f", True),
    ("\ufeff", False),
    ("\ufffd", False),
]


@pytest.mark.parametrize("text, expected", IS_BLANK)
def test_is_blank(text, expected):
    assert is_blank(text) is expected


REMOVE_BLANK_LINES = [
    ("", ""),
    (CR + LF + CR + LF, ""),
    ("line1" + LF + "line2", "line1" + LF + "line2"),
    ("line1" + LF + LF + "line2", "line1" + LF + "line2"),
    (LF * 4 + "line1" + LF + LF + "line2", "line1" + LF + "line2"),
    (LF * 5 + "  " + LF + " " + LF + " " + LF, ""),
    ("line1" + CR + LF + "line2", "line1" + CR + LF + "line2"),
    ("line1" + CR + LF + CR + LF + "line2", "line1" + CR + LF + "line2"),
    ("line1" + LF, "line1" + LF),
    ("line1" + CR + LF, "line1" + CR + LF),
    ("a" + LF + "   ", "a" + LF),
    ("a" + LF + TAB + LF, "a" + LF),
    ("  x  " + LF + LF, "  x  " + LF),
    ("a" + LF + NBSP + LF + "b", "a" + LF + "b"),
    ("a" + LF + "\x1c" + LF + "b", "a" + LF + "\x1c" + LF + "b"),
    (LF, ""),
    ("a" + LF + LF, "a" + LF),
    ("a" + CR + "b" + LF + CR + LF, "a" + CR + "b" + LF),
    # extra (derived from the same rule)
    ("a" + LF + "\u2028" + LF + "b", "a" + LF + "b"),
    ("a" + LF + "\u200b" + LF + "b", "a" + LF + "\u200b" + LF + "b"),
    ("a" + LF + "\u3000" + LF + "b", "a" + LF + "b"),
    ("a" + VT + LF + "b", "a" + VT + LF + "b"),
    ("  indented" + LF + TAB + "tabbed  " + LF, "  indented" + LF + TAB + "tabbed  " + LF),
    ("x" + CR, "x" + CR),
    (CR, ""),
]


@pytest.mark.parametrize("index", range(len(REMOVE_BLANK_LINES)), ids=lambda i: f"v{i + 1}")
def test_remove_blank_lines(index):
    given, expected = REMOVE_BLANK_LINES[index]
    assert remove_blank_lines(given) == expected


def test_every_go_space_is_a_python_space():
    """remove_blank_lines skips the exact check for pieces str.isspace rejects: that is only
    right while Go's spaces are a subset of Python's."""
    assert all(ch.isspace() for ch in _GO_WHITESPACE)


def reference_remove_blank_lines(text: str) -> str:
    """The rule as written: split after each newline, drop the pieces that are blank."""
    pieces = text.split(LF)
    kept = [piece + LF for piece in pieces[:-1] if not is_blank(piece)]
    return "".join(kept) + ("" if is_blank(pieces[-1]) else pieces[-1])


def test_remove_blank_lines_matches_the_rule_on_random_text():
    rng = random.Random(4)
    alphabet = [LF, LF, " ", TAB, CR, VT, NEL, NBSP, "\x1c", "\x1f", "\u3000", "\u2028", "\u200b", "a", "é"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert remove_blank_lines(text) == reference_remove_blank_lines(text), repr(text)


# ----------------------------------------------------------------------------- helpers


def snapshot(path: Path) -> tuple[bytes, int, int, int, int, int]:
    info = os.stat(path)
    return path.read_bytes(), info.st_ino, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, info.st_mtime_ns


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name not in keep)


@pytest.fixture
def dest(tmp_path) -> Path:
    path = tmp_path / "out.conf"
    path.write_bytes(b"old content\n")
    # An mtime far in the past makes "untouched" unambiguous.
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return path


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, mount)")


# ----------------------------------------------------------------------------- compare


@pytest.mark.parametrize("atomic", [False, True])
def test_unchanged_content_is_not_written(dest, atomic):
    before = snapshot(dest)
    assert write_output(Destination(str(dest), atomic=atomic), b"old content\n") is False
    assert snapshot(dest) == before


@pytest.mark.parametrize("atomic", [False, True])
def test_changed_content_is_written(dest, atomic):
    old_mtime = dest.stat().st_mtime_ns
    assert write_output(Destination(str(dest), atomic=atomic), b"new\n") is True
    assert dest.read_bytes() == b"new\n"
    assert dest.stat().st_mtime_ns != old_mtime
    assert leftovers(dest.parent, {"out.conf"}) == []


@pytest.mark.parametrize("atomic", [False, True])
def test_shorter_and_longer_and_empty_content(dest, atomic):
    destination = Destination(str(dest), atomic=atomic)
    for content in (b"x" * 10000, b"short", b"", b"again\n"):
        assert write_output(destination, content) is True
        assert dest.read_bytes() == content
    assert write_output(destination, b"again\n") is False


def test_comparison_is_exact_bytes(dest):
    assert write_output(Destination(str(dest)), b"old content\r\n") is True
    assert dest.read_bytes() == b"old content\r\n"
    assert write_output(Destination(str(dest)), b"old content\n") is True


def test_empty_content_on_missing_file_is_a_change(tmp_path):
    path = tmp_path / "new.conf"
    assert write_output(Destination(str(path)), b"") is True
    assert path.exists() and path.read_bytes() == b""


# ----------------------------------------------------------------------------- in place vs atomic


def test_in_place_keeps_inode_and_mode(dest):
    os.chmod(dest, 0o600)
    inode = dest.stat().st_ino
    assert write_output(Destination(str(dest)), b"new\n") is True
    info = dest.stat()
    assert info.st_ino == inode
    assert stat.S_IMODE(info.st_mode) == 0o600


@needs_root
def test_in_place_keeps_owner(dest):
    os.chown(dest, 1234, 4321)
    os.chmod(dest, 0o640)
    assert write_output(Destination(str(dest)), b"new\n") is True
    info = dest.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 4321, 0o640)


def test_atomic_changes_inode_keeps_mode(dest):
    os.chmod(dest, 0o600)
    inode = dest.stat().st_ino
    assert write_output(Destination(str(dest), atomic=True), b"new\n") is True
    info = dest.stat()
    assert info.st_ino != inode
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert dest.read_bytes() == b"new\n"
    assert leftovers(dest.parent, {"out.conf"}) == []


@needs_root
def test_atomic_keeps_owner(dest):
    os.chown(dest, 1234, 4321)
    os.chmod(dest, 0o604)
    assert write_output(Destination(str(dest), atomic=True), b"new\n") is True
    info = dest.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 4321, 0o604)


@pytest.mark.parametrize("atomic", [False, True])
def test_new_file_gets_0644_masked_by_umask(tmp_path, umask_027, atomic):
    path = tmp_path / "fresh.conf"
    assert write_output(Destination(str(path), atomic=atomic), b"hello\n") is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_bytes() == b"hello\n"
    assert leftovers(tmp_path, {"fresh.conf"}) == []


@pytest.mark.parametrize("atomic", [False, True])
def test_new_file_default_umask(tmp_path, atomic):
    previous = os.umask(0o022)
    try:
        path = tmp_path / "fresh.conf"
        write_output(Destination(str(path), atomic=atomic), b"hello\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize("atomic", [False, True])
def test_symlink_destination_is_followed(tmp_path, atomic):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "target.conf"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o600)
    link = tmp_path / "link.conf"
    link.symlink_to(target)
    assert write_output(Destination(str(link), atomic=atomic), b"new\n") is True
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(real_dir, {"target.conf"}) == []
    assert leftovers(tmp_path, {"real", "link.conf"}) == []
    # unchanged through the link too
    assert write_output(Destination(str(link), atomic=atomic), b"new\n") is False


@pytest.mark.parametrize("atomic", [False, True])
def test_relative_symlink_destination(tmp_path, monkeypatch, atomic):
    (tmp_path / "target.conf").write_bytes(b"old\n")
    (tmp_path / "link.conf").symlink_to("target.conf")
    monkeypatch.chdir(tmp_path)
    assert write_output(Destination("link.conf", atomic=atomic), b"new\n") is True
    assert (tmp_path / "link.conf").is_symlink()
    assert (tmp_path / "target.conf").read_bytes() == b"new\n"


# ----------------------------------------------------------------------------- check command


def check_cmd(template: str):
    """A check-command builder like the engine's: ``{src}`` is the staged path."""
    return lambda staged: template.replace("{src}", shlex.quote(staged))


@pytest.mark.parametrize("atomic", [False, True])
def test_check_success_writes(dest, atomic):
    inode = dest.stat().st_ino
    assert write_output(Destination(str(dest), atomic=atomic), b"good\n", check_cmd("grep -q good {src}")) is True
    assert dest.read_bytes() == b"good\n"
    assert (dest.stat().st_ino == inode) is (not atomic)
    assert leftovers(dest.parent, {"out.conf"}) == []


@pytest.mark.parametrize("atomic", [False, True])
def test_check_failure_leaves_dest_intact(dest, atomic):
    before = snapshot(dest)
    with pytest.raises(CheckError) as caught:
        write_output(
            Destination(str(dest), atomic=atomic),
            b"bad\n",
            check_cmd("echo 'syntax error near line 3'; echo second >&2; exit 3"),
        )
    message = str(caught.value)
    assert "syntax error near line 3" in message
    assert "second" in message
    assert "exit status 3" in message
    assert snapshot(dest) == before
    assert leftovers(dest.parent, {"out.conf"}) == []


def test_check_failure_on_new_file_creates_nothing(tmp_path):
    path = tmp_path / "fresh.conf"
    with pytest.raises(CheckError):
        write_output(Destination(str(path)), b"bad\n", check_cmd("false"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("atomic", [False, True])
def test_check_receives_staged_path_with_new_content(dest, tmp_path_factory, atomic):
    capture = tmp_path_factory.mktemp("capture")
    seen: list[str] = []

    def build(staged: str) -> str:
        seen.append(staged)
        return (
            f"cp {shlex.quote(staged)} {capture}/copy && "
            f'printf %s "$PYGEN_SRC" > {capture}/env && stat -c %a {shlex.quote(staged)} > {capture}/mode'
        )

    os.chmod(dest, 0o640)
    assert write_output(Destination(str(dest), atomic=atomic), b"the new content\n", build) is True
    [staged] = seen
    assert os.path.dirname(staged) == str(dest.parent)
    assert staged != str(dest)
    assert (capture / "copy").read_bytes() == b"the new content\n"
    assert (capture / "env").read_text() == staged
    assert (capture / "mode").read_text().strip() == "640"
    assert not os.path.exists(staged)


def test_check_not_run_when_unchanged(dest, tmp_path_factory):
    marker = tmp_path_factory.mktemp("m") / "ran"
    assert write_output(Destination(str(dest)), b"old content\n", check_cmd(f"touch {marker}")) is False
    assert not marker.exists()


# ----------------------------------------------------------------------------- failures


@pytest.mark.parametrize("atomic", [False, True])
@pytest.mark.parametrize("with_check", [False, True])
def test_missing_parent_directory(tmp_path, atomic, with_check):
    path = tmp_path / "missing" / "out.conf"
    with pytest.raises(WriteError) as caught:
        write_output(Destination(str(path), atomic=atomic), b"x", check_cmd("true") if with_check else None)
    assert str(path) in str(caught.value)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("atomic", [False, True])
def test_dest_is_a_directory(tmp_path, atomic):
    path = tmp_path / "adir"
    path.mkdir()
    (path / "inside").write_text("keep")
    with pytest.raises(WriteError) as caught:
        write_output(Destination(str(path), atomic=atomic), b"x")
    assert str(path) in str(caught.value)
    assert "compare" in str(caught.value)
    assert path.is_dir() and (path / "inside").read_text() == "keep"


@pytest.mark.parametrize("atomic", [False, True])
def test_unreadable_dest_not_a_directory(tmp_path, atomic):
    # Root can read any mode-000 file; a path through a regular file fails with ENOTDIR instead.
    blocker = tmp_path / "file"
    blocker.write_bytes(b"intact")
    path = blocker / "out.conf"
    with pytest.raises(WriteError) as caught:
        write_output(Destination(str(path), atomic=atomic), b"x")
    assert "Unable to compare current file contents" in str(caught.value)
    assert str(path) in str(caught.value)
    assert blocker.read_bytes() == b"intact"


def test_symlink_loop(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(WriteError):
        write_output(Destination(str(tmp_path / "a")), b"x")
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files")
def test_unreadable_dest_permission(dest):
    os.chmod(dest, 0)
    try:
        with pytest.raises(WriteError):
            write_output(Destination(str(dest)), b"x")
    finally:
        os.chmod(dest, 0o644)
    assert dest.read_bytes() == b"old content\n"


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 12 KiB tmpfs, so that "read-only" and "disk full" can really happen."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12k,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.parametrize("atomic", [False, True])
def test_read_only_filesystem_leaves_old_file(small_tmpfs, atomic):
    path = small_tmpfs / "out.conf"
    path.write_bytes(b"old content\n")
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    with pytest.raises(WriteError) as caught:
        write_output(Destination(str(path), atomic=atomic), b"new\n")
    assert str(path) in str(caught.value)
    assert "Read-only file system" in str(caught.value)
    assert path.read_bytes() == b"old content\n"
    assert os.listdir(small_tmpfs) == ["out.conf"]


def fill(mount_point: Path) -> None:
    """Fill the tmpfs completely."""
    with open(mount_point / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"f" * 1024)
        except OSError:
            pass
    vfs = os.statvfs(mount_point)
    assert vfs.f_bavail == 0


def test_disk_full_in_place_restores_old_content(small_tmpfs):
    path = small_tmpfs / "out.conf"
    old = b"o" * 5000  # two 4 KiB pages
    path.write_bytes(old)
    inode = path.stat().st_ino
    fill(small_tmpfs)
    # The first 8 KiB of the new content fit in the file's own pages, then ENOSPC half-way.
    with pytest.raises(WriteError) as caught:
        write_output(Destination(str(path)), b"N" * 10000)
    assert "No space left on device" in str(caught.value)
    assert "restored" in str(caught.value)
    assert path.read_bytes() == old
    assert path.stat().st_ino == inode


def test_disk_full_new_file_leaves_nothing(small_tmpfs):
    (small_tmpfs / "space").write_bytes(b"s" * 4096)
    fill(small_tmpfs)
    os.unlink(small_tmpfs / "space")  # one page free: part of the file is written, then ENOSPC
    path = small_tmpfs / "new.conf"
    with pytest.raises(WriteError):
        write_output(Destination(str(path)), b"N" * 20000)
    assert not path.exists()


def test_disk_full_atomic_leaves_old_file_and_no_staged(small_tmpfs):
    path = small_tmpfs / "out.conf"
    path.write_bytes(b"old\n")
    fill(small_tmpfs)
    with pytest.raises(WriteError):
        write_output(Destination(str(path), atomic=True), b"N" * 20000)
    assert path.read_bytes() == b"old\n"
    assert sorted(os.listdir(small_tmpfs)) == ["filler", "out.conf"]


def test_disk_full_new_file_content_fits_exactly(small_tmpfs):
    (small_tmpfs / "space").write_bytes(b"s" * 4096)
    fill(small_tmpfs)
    os.unlink(small_tmpfs / "space")
    path = small_tmpfs / "new.conf"
    assert write_output(Destination(str(path)), b"N" * 4096) is True
    assert path.read_bytes() == b"N" * 4096


# ----------------------------------------------------------------------------- stdout


def test_stdout_destination(capsysbinary):
    assert write_output(Destination(""), b"rendered\n") is True
    assert write_output(Destination(""), b"rendered\n") is True  # always "changed"
    assert capsysbinary.readouterr().out == b"rendered\nrendered\n"


def test_stdout_with_check(capsysbinary):
    assert write_output(Destination(""), b"ok\n", check_cmd("grep -q ok {src}")) is True
    assert capsysbinary.readouterr().out == b"ok\n"
    with pytest.raises(CheckError):
        write_output(Destination(""), b"bad\n", check_cmd("grep -q ok {src}"))
    assert capsysbinary.readouterr().out == b""


def test_destination_is_stdout():
    assert Destination("").is_stdout
    assert not Destination("x").is_stdout
