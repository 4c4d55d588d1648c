"""haproxy (Debian's 2.6) in master-worker mode, for tests.

``HAProxy(workdir, config)`` writes ``<workdir>/haproxy.cfg`` and runs
``haproxy -W -S <workdir>/master.sock,mode,600 -f <workdir>/haproxy.cfg -p <workdir>/haproxy.pid``
in the foreground (the master is the process we started). ``reload()`` sends SIGUSR2 to the master and
waits for a new worker; ``master_cmd()`` talks to the master CLI socket (``show proc``, ``reload``,
``@1 show stat`` ...). Do not put ``pidfile`` in the config: ``-p`` is passed.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from . import proc_util

HAPROXY_BIN = shutil.which("haproxy") or "/usr/sbin/haproxy"


class HAProxyError(RuntimeError):
    pass


def check_config(path: str | os.PathLike, binary: str = HAPROXY_BIN) -> tuple[bool, str]:
    """``haproxy -c -q -f PATH`` -> (ok, output)."""
    res = subprocess.run([binary, "-c", "-q", "-f", str(path)], capture_output=True, text=True, timeout=30)
    return res.returncode == 0, (res.stdout + res.stderr).strip()


class HAProxy:
    """One haproxy master-worker instance.

    Attributes: ``workdir``, ``config_path``, ``master_sock``, ``pid_file``, ``log_path``,
    ``master_pid``, ``proc``. Methods: ``write_config(text)``, ``check()``, ``start()``, ``reload()``,
    ``stop()``, ``kill()``, ``master_cmd(cmd)``, ``workers()`` / ``worker_pids()``,
    ``old_worker_pids()``.
    """

    def __init__(self, workdir: str | os.PathLike, config: str | None = None, binary: str = HAPROXY_BIN):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.config_path = self.workdir / "haproxy.cfg"
        self.master_sock = self.workdir / "master.sock"
        self.pid_file = self.workdir / "haproxy.pid"
        self.log_path = self.workdir / "haproxy.log"
        self.proc: subprocess.Popen | None = None
        if config is not None:
            self.write_config(config)

    # ---------------------------------------------------------------- config
    def write_config(self, text: str) -> Path:
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, self.config_path)
        return self.config_path

    def check(self) -> tuple[bool, str]:
        return check_config(self.config_path, self.binary)

    # ---------------------------------------------------------------- process
    @property
    def argv(self) -> list[str]:
        return [self.binary, "-W", "-S", f"{self.master_sock},mode,600", "-f", str(self.config_path),
                "-p", str(self.pid_file)]

    @property
    def master_pid(self) -> int | None:
        return self.proc.pid if proc_util.alive(self.proc) else None

    def is_running(self) -> bool:
        return proc_util.alive(self.proc)

    def start(self, timeout: float = 10.0) -> "HAProxy":
        """Start and wait until the master socket lists a worker."""
        if self.is_running():
            return self
        ok, out = self.check()
        if not ok:
            raise HAProxyError(f"invalid haproxy config {self.config_path}:\n{out}")
        self.proc = proc_util.spawn(self.argv, self.log_path, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while not self.worker_pids():
            if not self.is_running():
                raise HAProxyError(f"haproxy exited ({self.proc.returncode}):\n{proc_util.log_tail(self.log_path)}")
            if time.monotonic() >= deadline:
                raise HAProxyError(f"haproxy has no worker after {timeout}s:\n{proc_util.log_tail(self.log_path)}")
            time.sleep(0.02)
        return self

    def reload(self, timeout: float = 10.0, wait: bool = True) -> bool:
        """SIGUSR2 to the master. With ``wait``: True once a worker with a new pid serves, False when
        none came within ``timeout`` s (a bad config leaves the old worker serving)."""
        if not self.is_running():
            raise HAProxyError("haproxy is not running")
        before = set(self.worker_pids())
        os.kill(self.proc.pid, signal.SIGUSR2)
        if not wait:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = set(self.worker_pids())
            if now and now - before:
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Hard stop (SIGTERM to the master, which stops the workers), SIGKILL to the group after
        ``timeout``."""
        proc_util.terminate(self.proc, timeout=timeout)

    def kill(self) -> None:
        proc_util.terminate(self.proc, timeout=0, sig=signal.SIGKILL)

    # ---------------------------------------------------------------- master CLI
    def master_cmd(self, command: str, timeout: float = 2.0) -> str:
        """Send one command to the master socket and return its answer ('' if the socket is not
        there, e.g. for the 40-90 ms of a reload)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(str(self.master_sock))
                sock.sendall(command.encode() + b"\n")
                sock.shutdown(socket.SHUT_WR)
                chunks = []
                while True:
                    data = sock.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
            return b"".join(chunks).decode(errors="replace")
        except OSError:
            return ""

    def processes(self) -> list[dict]:
        """``show proc`` parsed: [{'pid', 'type', 'reloads', 'section'}], section being 'master',
        'workers', 'old workers' or 'programs'."""
        out, section = [], "master"
        for line in self.master_cmd("show proc").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                title = line.lstrip("#").strip()
                if not title.startswith("<PID>"):
                    section = title
                continue
            parts = line.split()
            if len(parts) >= 3 and parts[0].isdigit():
                out.append({"pid": int(parts[0]), "type": parts[1], "reloads": parts[2], "section": section})
        return out

    def reload_counts(self) -> tuple[int, int]:
        """(reloads, failed reloads) of the master, from ``show proc``."""
        for line in self.master_cmd("show proc").splitlines():
            m = re.match(r"\s*\d+\s+master\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?", line)
            if m:
                return int(m.group(1)), int(m.group(2) or 0)
        return 0, 0

    def worker_pids(self) -> list[int]:
        return [p["pid"] for p in self.processes() if p["type"] == "worker" and p["section"] == "workers"]

    def old_worker_pids(self) -> list[int]:
        return [p["pid"] for p in self.processes() if p["type"] == "worker" and p["section"] == "old workers"]

    def __repr__(self) -> str:
        return f"<HAProxy {self.config_path} master={self.master_pid}>"
