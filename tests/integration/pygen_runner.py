"""Drive the real ``pygen`` command in a subprocess, one-shot or in the background.

* :func:`run_pygen` - one-shot: ``pygen ARGS`` to completion -> :class:`Result` (rc, stdout, stderr).
* :class:`PygenProcess` - a long-running ``pygen -watch ...`` with its stderr (the log) captured in a
  file: ``wait_log(text)``, ``count(text)``, ``send_signal(sig)``, ``stop()`` -> (exit code, log, seconds).
* :func:`wait_file` - poll a file until its content satisfies a predicate (or contains a string).
* :class:`PygenFactory` - starts PygenProcess objects with their logs in one directory and kills
  whatever is left on ``cleanup()`` (the test modules' ``pygen_bg`` fixture).

Every process is started in its own session, registered with ``tests.helpers.proc_util`` (killed at the
end of the session and when pytest dies), and killed with its process group at teardown.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import proc_util

PYGEN = [sys.executable, "-m", "pygen"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def pygen_env(extra: dict | None = None, drop: Sequence[str] = ()) -> dict:
    """The environment for pygen: the test's own, without Docker variables that would redirect it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTAINER_FILTERS",
                                                            "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")}
    for key in drop:
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return f"rc={self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_pygen(*args: str, env: dict | None = None, cwd: str | os.PathLike | None = None,
              timeout: float = 30.0) -> Result:
    """Run ``pygen ARGS`` one-shot and return its exit code and output."""
    t0 = time.monotonic()
    proc = subprocess.run([*PYGEN, *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False,
                          env=pygen_env(env), cwd=cwd or REPO_ROOT, stdin=subprocess.DEVNULL)
    return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)


def read(path: str | os.PathLike) -> str | None:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        return None


def wait_file(path: str | os.PathLike, expect: str | Callable[[str], bool], timeout: float = 5.0,
              message: str | None = None) -> str:
    """Wait until ``path`` exists and contains ``expect`` (or ``expect(content)`` is true); return it."""
    check = (lambda text: expect in text) if isinstance(expect, str) else expect
    last: list = [None]

    def ready():
        text = read(path)
        last[0] = text
        return text is not None and check(text)

    try:
        proc_util.wait_until(ready, timeout, 0.02, message or f"{path} to contain {expect!r}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last content: {last[0]!r}") from None
    return last[0]


def count_lines(path: str | os.PathLike) -> int:
    text = read(path)
    return 0 if text is None else len([line for line in text.splitlines() if line.strip()])


class PygenProcess:
    """``pygen ARGS`` running in the background, its stdout and stderr appended to ``log_path``."""

    def __init__(self, args: Sequence[str], log_path: str | os.PathLike, env: dict | None = None,
                 cwd: str | os.PathLike | None = None):
        self.args = [str(a) for a in args]
        self.log_path = Path(log_path)
        self.log_path.write_text("")
        self.proc = proc_util.spawn([*PYGEN, *self.args], self.log_path, cwd=cwd or REPO_ROOT,
                                    env=pygen_env(env), die_with_parent=signal.SIGKILL)
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def count(self, pattern: str, regex: bool = False) -> int:
        """Log lines containing ``pattern`` (or matching the regex)."""
        lines = self.log().splitlines()
        if regex:
            compiled = re.compile(pattern)
            return sum(1 for line in lines if compiled.search(line))
        return sum(1 for line in lines if pattern in line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_log(self, pattern: str, count: int = 1, timeout: float = 10.0, regex: bool = False) -> str:
        """Wait until ``count`` log lines contain ``pattern``; fail at once if pygen exits."""
        def ready():
            if self.count(pattern, regex) >= count:
                return True
            if not self.alive():
                raise AssertionError(f"pygen exited ({self.proc.returncode}) while waiting for "
                                     f"{pattern!r} x{count}:\n{self.log()}")
            return False

        try:
            proc_util.wait_until(ready, timeout, 0.02, f"{count} log line(s) with {pattern!r}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- pygen log\n{self.log()}") from None
        return self.log()

    def send_signal(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int | None, str, float]:
        """Send ``sig``, wait up to ``timeout`` s -> (exit code or None if it had to be killed, log,
        seconds it took to exit). The process group is killed afterwards in any case."""
        t0 = time.monotonic()
        rc: int | None = self.proc.poll()
        if rc is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                rc = None
        elapsed = time.monotonic() - t0
        proc_util.terminate(self.proc, timeout=0.1, sig=signal.SIGKILL)
        self.returncode = rc
        return rc, self.log(), elapsed

    def kill(self) -> None:
        proc_util.terminate(self.proc, timeout=0.1, sig=signal.SIGKILL)


class PygenFactory:
    """``start(*args, env=None)`` -> PygenProcess with its log in ``tmp_path``; ``cleanup()`` kills all."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.started: list[PygenProcess] = []

    def start(self, *args: str, env: dict | None = None, ready: str | None = None,
              ready_timeout: float = 10.0) -> PygenProcess:
        """Start pygen; with ``ready``, wait for a first log line containing it."""
        log_path = self.directory / f"pygen-{len(self.started) + 1}.log"
        process = PygenProcess(args, log_path, env=env)
        self.started.append(process)
        if ready is not None:
            process.wait_log(ready, timeout=ready_timeout)
        return process

    def cleanup(self) -> None:
        for process in self.started:
            process.kill()

