"""Watch-mode benchmark: Docker event -> destination rewritten, and the idle cost.

With N labelled containers running, ``pygen -watch`` renders the nginx-proxy-like template.
One extra container is started and killed repeatedly; each time, the latency is the
``timeNano`` of the daemon's start/die event for it -> pygen's "Generated" log line for the
file, which pygen logs right after the write (JSON log, microsecond stamps; both wall clock).
Nothing of the bench's own runs beside pygen while it handles an event: the bench sleeps in
inotify until the file is written, and asks dockerd to replay the events every 10 rounds
instead of following them live.
The bench starts and kills it through the Engine API on a kept-alive connection (``--driver
api``, the default) or with the docker CLI (``--driver cli``: a Go process per start and kill,
whose exit competes with pygen for this machine's 2 cores just when the event arrives). The slowest
events are listed per action on stderr: a ``die`` is handled while dockerd tears the
container's network down on the same cores (``--probe-network none`` takes that work away).
Then pygen sits idle for a while and its CPU time and RSS are read from /proc. pygen's
"Received event" line splits each latency in two: the event's ``timeNano`` -> that line (the
daemon's delivery), and that line -> "Generated" (inspect, render, write).

    .venv/bin/python bench/event_latency.py 10 100 500 [--rounds 100] [--idle 30] [--driver api|cli] [--raw FILE]
"""

from __future__ import annotations

import argparse
import calendar
import collections
import ctypes
import json
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import containers

from pygen.docker.api import DockerClient, client_from_environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples/nginx-proxy/nginx.conf.j2"
PYGEN = Path(os.environ.get("PYGEN_BIN", ROOT / ".venv/bin/pygen"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


EVENT_BATCH_ROUNDS = 10
"""dockerd replays only its last 256 events: they are fetched every 10 rounds (about 50)."""


def daemon_events(container_id: str, since_ns: int, until_ns: int) -> list[tuple[str, int]]:
    """(action, timeNano) of the probe's start/die events between two instants, in order.

    dockerd replays them after the fact, so no listener (a docker CLI process and a reader
    thread) wakes up on this machine's 2 cores at the very moment pygen handles the event.
    """
    output = subprocess.run(
        ["docker", "events", "--format", "{{json .}}", "--since", f"{since_ns / 1e9:.9f}",
         "--until", f"{until_ns / 1e9:.9f}", "--filter", f"container={container_id}",
         "--filter", "event=start", "--filter", "event=die"],
        check=True, capture_output=True, text=True,
    ).stdout
    return [(event["Action"], int(event["timeNano"])) for event in map(json.loads, output.splitlines())]


class FileWrites:
    """Waits for writes of one file, asleep in inotify: nothing polls beside pygen."""

    _IN_CLOSE_WRITE, _IN_MOVED_TO = 0x8, 0x80
    _EVENT = struct.Struct("iIII")

    def __init__(self, path: str) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.name = os.path.basename(path)
        self.fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        mask = self._IN_CLOSE_WRITE | self._IN_MOVED_TO
        if self.fd < 0 or libc.inotify_add_watch(self.fd, os.path.dirname(path).encode(), mask) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self._written: collections.deque[str] = collections.deque()

    def wait(self, timeout: float = 10.0) -> None:
        """Until the file is written once more than already waited for (pygen writes only changes)."""
        deadline = time.monotonic() + timeout
        while True:
            while self._written:
                if self._written.popleft() == self.name:
                    return
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError(f"{self.name} was not written within {timeout}s")
            data = os.read(self.fd, 65536)
            offset = 0
            while offset < len(data):
                _, _, _, length = self._EVENT.unpack_from(data, offset)
                start = offset + self._EVENT.size
                self._written.append(data[start:start + length].rstrip(b"\0").decode())
                offset = start + length

    def close(self) -> None:
        os.close(self.fd)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def log_stamps(log: Path, probe: str, dest: str) -> tuple[dict[str, list[int]], list[int]]:
    """From pygen's JSON log (microsecond stamps), in ns: when each start/die event of the probe
    was received, and when each render of ``dest`` was written ("Generated" is logged right
    after the write). A file's mtime is not precise enough: it lagged the write by up to a
    4 ms kernel tick here, which made some latencies at 10 containers negative."""
    received: dict[str, list[int]] = {"start": [], "die": []}
    generated: list[int] = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("msg", "")
        stamp = entry.get("time", "")
        nanos = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) * 10**9 + int(stamp[20:26]) * 1000
        if message.startswith(f"Generated '{dest}'"):
            generated.append(nanos)
        for action, stamps in received.items():
            if message == f"Received event {action} for container {probe[:12]}":
                stamps.append(nanos)
    return received, generated


def start_and_kill(driver: str, container_id: str) -> list[Callable[[], object]]:
    """The two steps of a round: start the probe container, then SIGKILL it."""
    if driver == "cli":
        return [lambda: subprocess.run(["docker", "start", container_id], check=True, capture_output=True),
                lambda: subprocess.run(["docker", "kill", container_id], check=True, capture_output=True)]
    client: DockerClient = client_from_environment()
    return [lambda: client.request("POST", f"/containers/{container_id}/start"),
            lambda: client.kill(container_id, 9)]


def measure(count: int, rounds: int, idle: float, driver: str, probe_network: str,
            raw: str | None = None) -> dict[str, float]:
    containers.ensure(count)
    probe = subprocess.run(
        ["docker", "create", "--label", containers.LABEL, "-e", "VIRTUAL_HOST=probe.example.com",
         "--network", probe_network, containers.IMAGE], check=True, capture_output=True, text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as directory:
        dest = os.path.join(directory, "nginx.conf")
        log_path = os.path.join(directory, "pygen.log")
        log_file = open(log_path, "w")  # noqa: SIM115 - closed after pygen exits
        writes = FileWrites(dest)
        pygen = subprocess.Popen(
            [str(PYGEN), "-watch", "-log-format", "json", "-container-filter", f"label={containers.LABEL}",
             str(TEMPLATE), dest],
            stderr=log_file,
        )
        try:
            writes.wait(timeout=60)
            time.sleep(1.0)  # let the initial sync settle
            events: list[tuple[str, int]] = []  # (action, timeNano), in order
            steps = start_and_kill(driver, probe)
            for first_round in range(0, rounds, EVENT_BATCH_ROUNDS):
                batch = min(EVENT_BATCH_ROUNDS, rounds - first_round)
                since = time.time_ns()
                for _ in range(batch):
                    for step in steps:
                        step()
                        writes.wait()
                replayed = daemon_events(probe, since, time.time_ns())
                if [action for action, _ in replayed] != ["start", "die"] * batch:
                    raise RuntimeError(f"unexpected probe events {replayed}")
                events += replayed
            time.sleep(1.0)
            cpu_before = cpu_seconds(pygen.pid)
            time.sleep(idle)
            idle_cpu = cpu_seconds(pygen.pid) - cpu_before
            rss = rss_mib(pygen.pid)
        finally:
            pygen.send_signal(signal.SIGTERM)
            pygen.wait(timeout=10)
            log_file.close()
            writes.close()
            subprocess.run(["docker", "rm", "-f", probe], capture_output=True, check=False)
        received, generated = log_stamps(Path(log_path), probe, dest)
    written = generated[1:]  # the first render is the start-up one
    if len(written) != len(events):
        raise RuntimeError(f"{len(events)} probe events but {len(written)} renders of {dest}")
    seen = {"start": 0, "die": 0}
    latencies, delivery, handling = [], [], []
    by_action: dict[str, list[tuple[float, float, float]]] = {"start": [], "die": []}
    for (action, event_ns), written_ns in zip(events, written, strict=True):
        received_ns = received[action][seen[action]]
        seen[action] += 1
        latencies.append((written_ns - event_ns) / 1e6)
        delivery.append((received_ns - event_ns) / 1e6)
        handling.append((written_ns - received_ns) / 1e6)
        by_action[action].append((latencies[-1], handling[-1], delivery[-1]))
    for action, rows in by_action.items():
        mine = sorted(total for total, _, _ in rows)
        slow = sorted(((handled, delivered) for _, handled, delivered in rows), reverse=True)[:3]
        print(f"#   {count} containers, {action}: p50 {statistics.median(mine):.1f} max {mine[-1]:.1f} ms; "
              "slowest handling (received -> file, event -> received): "
              + ", ".join(f"{h:.1f} / {d:.1f}" for h, d in slow), file=sys.stderr, flush=True)
    if raw is not None:
        with open(raw, "a") as out:
            for (action, _), total, delivered, handled in zip(events, latencies, delivery, handling, strict=True):
                out.write(json.dumps({"containers": count, "action": action, "latency_ms": round(total, 3),
                                      "delivery_ms": round(delivered, 3), "handling_ms": round(handled, 3)}) + "\n")
    latencies.sort()
    return {
        "delivery_p50": statistics.median(delivery), "delivery_max": max(delivery),
        "handling_p50": statistics.median(handling), "handling_max": max(handling),
        "count": count,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max": latencies[-1],
        "idle_cpu": idle_cpu,
        "rss": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("counts", nargs="*", type=int, default=[10, 100, 500])
    parser.add_argument("--rounds", type=int, default=100, help="start+kill pairs per count")
    parser.add_argument("--idle", type=float, default=30.0, help="idle seconds for the CPU figure")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--driver", choices=("api", "cli"), default="api",
                        help="start and kill the probe through the Engine API or the docker CLI")
    parser.add_argument("--probe-network", default="bridge",
                        help="the probe's network: 'none' spares dockerd the veth and iptables work of each "
                             "start and kill (the file still changes: its header counts the containers)")
    parser.add_argument("--raw", metavar="FILE",
                        help="append every event's latency to FILE as JSON lines (to pool several runs: "
                             "the p99 of one run's 200 events is its second-slowest)")
    options = parser.parse_args()
    print("| containers | p50 ms | p99 ms | max ms | event -> received p50 / max | received -> file p50 / max "
          "| idle CPU s | RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    try:
        for count in options.counts:
            r = measure(count, options.rounds, options.idle, options.driver, options.probe_network, options.raw)
            print(f"| {count} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} "
                  f"| {r['delivery_p50']:.0f} / {r['delivery_max']:.0f} | {r['handling_p50']:.0f} / {r['handling_max']:.0f} "
                  f"| {r['idle_cpu']:.3f} | {r['rss']:.1f} |", flush=True)
    finally:
        if not options.keep:
            containers.remove_all()


if __name__ == "__main__":
    main()
