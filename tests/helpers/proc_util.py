"""Child processes started by test fixtures: own session, log file, reliable termination.

Every process started through :func:`spawn` is registered; :func:`kill_all` (called at the end of the
pytest session and from ``atexit``) kills whatever a fixture's teardown missed. With ``die_with_parent``
the kernel also kills the child when pytest itself dies (``PR_SET_PDEATHSIG``), so a crashed test run
leaves no etcd or haproxy behind.
"""
from __future__ import annotations

import atexit
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Sequence

_PR_SET_PDEATHSIG = 1
_registry: dict[int, subprocess.Popen] = {}


def _pdeathsig(sig: int):
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return preexec


def spawn(
    argv: Sequence[str],
    log_path: str | os.PathLike,
    *,
    cwd: str | os.PathLike | None = None,
    env: dict | None = None,
    die_with_parent: int | None = signal.SIGKILL,
) -> subprocess.Popen:
    """Start ``argv`` in a new session (its own process group), stdout+stderr appended to
    ``log_path``, stdin from /dev/null. ``die_with_parent``: signal sent to the child when this
    process dies (None: no parent-death signal)."""
    log = open(log_path, "ab", buffering=0)
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
            preexec_fn=_pdeathsig(die_with_parent) if die_with_parent else None,
        )
    finally:
        log.close()
    _registry[proc.pid] = proc
    return proc


def alive(proc: subprocess.Popen | None) -> bool:
    return proc is not None and proc.poll() is None


def terminate(proc: subprocess.Popen | None, timeout: float = 5.0, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to the process, wait up to ``timeout`` s, then SIGKILL its whole process group."""
    if proc is None:
        return
    try:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        _killpg(proc.pid)
        if proc.poll() is None:
            proc.wait(5)
    finally:
        _registry.pop(proc.pid, None)


def kill(proc: subprocess.Popen | None) -> None:
    """SIGKILL the process (only the process, not its group) and reap it."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)
    _registry.pop(proc.pid, None)


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> None:
    """Kill every process started by :func:`spawn` that is still registered (and its group)."""
    for pid, proc in list(_registry.items()):
        if proc.poll() is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _killpg(pid)
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            pass
        _registry.pop(pid, None)


atexit.register(kill_all)


def log_tail(path: str | os.PathLike, lines: int = 30) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def children_map() -> dict[int, list[int]]:
    """ppid -> [pid] for every process on the machine (from /proc)."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def descendants(pid: int, cmap: dict[int, list[int]] | None = None) -> list[int]:
    cmap = children_map() if cmap is None else cmap
    result, todo = [], [pid]
    while todo:
        for child in cmap.get(todo.pop(), []):
            result.append(child)
            todo.append(child)
    return result


def pids_with_cmdline(substring: str) -> list[int]:
    """PIDs whose command line contains ``substring``."""
    needle = substring.encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def sweep_stale_dirs(patterns: Sequence[str], min_age: float = 600.0) -> list[Path]:
    """Delete directories matching the glob ``patterns`` (e.g. ``/tmp/pygen-etcd-*``) that no running
    process mentions on its command line and that were not touched for ``min_age`` s: what a test run
    killed with SIGKILL left behind (its processes died with it, via PR_SET_PDEATHSIG)."""
    import glob
    import shutil

    removed = []
    for pattern in patterns:
        for path in map(Path, glob.glob(pattern)):
            try:
                if not path.is_dir() or time.time() - path.stat().st_mtime < min_age:
                    continue
            except OSError:
                continue
            if pids_with_cmdline(str(path)):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def wait_until(predicate, timeout: float, interval: float = 0.02, message: str = "condition"):
    """Poll ``predicate()`` until it returns a truthy value (returned) or ``timeout`` s pass
    (AssertionError naming ``message``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {message}")
        time.sleep(interval)
