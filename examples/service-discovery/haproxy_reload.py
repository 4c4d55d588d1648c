"""Reload a master-worker haproxy and wait until the reload is over: etcd-gen's notify command.

    etcd-gen ... -notify "python haproxy_reload.py /run/haproxy-master.sock" haproxy.cfg.j2 haproxy.cfg

Why not just ``kill -USR2 $(cat haproxy.pid)``: haproxy 2.6 drops a SIGUSR2 that arrives while
the master is still re-executing for the previous one (measured: two signals 10 ms apart, the
second change never loaded, in 4 of 5 tries). Registrations often change twice within
milliseconds (two hosts, or a put and a delete), so the second reload would be lost and haproxy
would keep serving a stale list until the next change.

This command makes a reload synchronous: it reads the master's reload counter from the master
CLI (``-S <socket>``), sends SIGUSR2 to the master, and returns once the counter moved. pygen and
etcd-gen never run the same notify command twice at once and run it once more when a change
came in meanwhile, so every change is loaded, and a burst costs at most two reloads.

With ``--state-file PATH`` (the ``server-state-file`` of the configuration: templates/haproxy.cfg.j2
writes it when ``HAPROXY_STATE_FILE`` is set), the servers' state is saved first (``show servers
state`` of the current worker, through the master CLI), so the new worker starts with each
server's last known health: a server that failed its checks stays out of the rotation instead of
being taken for up and sent requests until it fails ``fall`` checks again. A failed save is
reported and the reload goes on: the state only saves those seconds.

Exit status: 0 when the new configuration is loaded, 1 when haproxy reports the reload failed
(the old workers keep serving) or it did not finish within the timeout, 2 on bad usage.
Only the standard library is used.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sys
import time

MASTER_LINE = re.compile(r"^\s*(\d+)\s+master\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?", re.MULTILINE)


def master_status(path: str, timeout: float = 1.0) -> tuple[int, int, int] | None:
    """(master pid, reloads, failed reloads) from ``show proc``; None while the socket is not
    there (it is gone for 40-90 ms during each reload)."""
    try:
        answer = master_command(path, "show proc", timeout)
    except OSError:
        return None
    match = MASTER_LINE.search(answer)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def master_command(path: str, command: str, timeout: float = 1.0) -> str:
    """One command on the master CLI; its whole answer. OSError when the socket fails."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(command.encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def save_server_state(path: str, state_file: str) -> bool:
    """Write the current worker's ``show servers state`` to ``state_file`` (replaced atomically)."""
    try:
        state = master_command(path, "@1 show servers state")
    except OSError as error:
        print(f"haproxy_reload: server state not saved: {path}: {error}", file=sys.stderr)
        return False
    if not state.startswith("1\n# be_id "):  # format version 1, as haproxy 1.6 to 3.x write it
        print(f"haproxy_reload: server state not saved: unexpected answer {state[:60]!r}", file=sys.stderr)
        return False
    staged = f"{state_file}.{os.getpid()}.tmp"
    try:
        with open(staged, "w", encoding="utf-8") as handle:
            handle.write(state.rstrip("\n") + "\n")
        os.replace(staged, state_file)
    except OSError as error:
        print(f"haproxy_reload: server state not saved: {state_file}: {error.strerror}", file=sys.stderr)
        try:
            os.unlink(staged)
        except OSError:
            pass
        return False
    return True


def wait_status(path: str, deadline: float) -> tuple[int, int, int] | None:
    while True:
        status = master_status(path)
        if status is not None or time.monotonic() >= deadline:
            return status
        time.sleep(0.01)


def reload(path: str, timeout: float, state_file: str = "") -> int:
    deadline = time.monotonic() + timeout
    before = wait_status(path, deadline)  # waits out a reload already in progress
    if before is None:
        print(f"haproxy_reload: no haproxy master answers on {path}", file=sys.stderr)
        return 1
    pid, reloads, failed = before
    if state_file:
        save_server_state(path, state_file)
    os.kill(pid, signal.SIGUSR2)
    while time.monotonic() < deadline:
        time.sleep(0.01)
        status = master_status(path)
        if status is None:
            continue
        if status[2] > failed:
            print(f"haproxy_reload: haproxy could not load the new configuration (failed reloads: {status[2]})",
                  file=sys.stderr)
            return 1
        if status[1] > reloads:
            return 0
    print(f"haproxy_reload: the reload did not finish within {timeout:g}s", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reload a master-worker haproxy and wait for it.")
    parser.add_argument("socket", help="the master CLI socket (haproxy -W -S <socket>)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default 10)")
    parser.add_argument("--state-file", default="",
                        help="save the servers' state here first (the configuration's server-state-file)")
    args = parser.parse_args(argv)
    return reload(args.socket, args.timeout, args.state_file)


if __name__ == "__main__":
    sys.exit(main())
