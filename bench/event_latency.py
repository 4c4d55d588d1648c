"""Watch-mode benchmark: Docker event -> destination rewritten, and the idle cost.

With N labelled containers running, ``pygen -watch`` renders the nginx-proxy-like template.
One extra container is started and killed repeatedly; each time, the latency is the file's
mtime minus the ``timeNano`` of the daemon's start/die event for it (both wall clock).
The bench starts and kills it with the docker CLI (``--driver cli``, the default: a Go
process per start and kill, whose start-up and exit compete with pygen for this machine's 2
cores) or through the Engine API on a kept-alive connection (``--driver api``). The slowest
events are listed per action on stderr: a ``die`` is handled while dockerd tears the
container's network down on the same cores (``--probe-network none`` takes that work away).
Then pygen sits idle for a while and its CPU time and RSS are read from /proc. pygen logs in
JSON (millisecond stamps), which splits each latency in two: the event's ``timeNano`` -> pygen's
"Received event" line (the daemon's delivery), and that line -> the file's mtime (inspect,
render, write).

    .venv/bin/python bench/event_latency.py 10 100 500 [--rounds 40] [--idle 30] [--driver api|cli]
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
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


def event_times(container_id: str, stop: threading.Event, sink: list[tuple[str, int]]) -> None:
    """Record (action, timeNano) of start/die events of one container via `docker events`."""
    process = subprocess.Popen(
        ["docker", "events", "--format", "{{json .}}", "--filter", f"container={container_id}",
         "--filter", "event=start", "--filter", "event=die"],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    while not stop.is_set():
        line = process.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        sink.append((event["Action"], int(event["timeNano"])))
    process.terminate()


def wait_for_mtime_change(path: str, previous: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            current = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            current = 0
        if current != previous:
            return current
        time.sleep(0.0005)
    raise TimeoutError(f"{path} was not rewritten within {timeout}s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def split_by_log(log: Path, probe: str, marks: list[tuple[str, int, int]]) -> tuple[list[float], list[float]]:
    """(event -> "Received event" line, that line -> dest mtime) in ms, for each mark in order."""
    received: dict[str, list[int]] = {"start": [], "die": []}
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        for action, stamps in received.items():
            if entry.get("msg") == f"Received event {action} for container {probe[:12]}":
                stamp = time.strptime(entry["time"][:19], "%Y-%m-%dT%H:%M:%S")
                millis = int(entry["time"][20:23])
                stamps.append(int(calendar.timegm(stamp) * 1e9) + millis * 1_000_000)
    seen = {"start": 0, "die": 0}
    delivery, handling = [], []
    for action, event_ns, mtime in marks:
        stamp = received[action][seen[action]]
        seen[action] += 1
        delivery.append((stamp - event_ns) / 1e6)
        handling.append((mtime - stamp) / 1e6)
    return delivery, handling


def start_and_kill(driver: str, container_id: str) -> list[Callable[[], object]]:
    """The two steps of a round: start the probe container, then SIGKILL it."""
    if driver == "cli":
        return [lambda: subprocess.run(["docker", "start", container_id], check=True, capture_output=True),
                lambda: subprocess.run(["docker", "kill", container_id], check=True, capture_output=True)]
    client: DockerClient = client_from_environment()
    return [lambda: client.request("POST", f"/containers/{container_id}/start"),
            lambda: client.kill(container_id, 9)]


def measure(count: int, rounds: int, idle: float, driver: str, probe_network: str) -> dict[str, float]:
    containers.ensure(count)
    probe = subprocess.run(
        ["docker", "create", "--label", containers.LABEL, "-e", "VIRTUAL_HOST=probe.example.com",
         "--network", probe_network, containers.IMAGE], check=True, capture_output=True, text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as directory:
        dest = os.path.join(directory, "nginx.conf")
        log_path = os.path.join(directory, "pygen.log")
        log_file = open(log_path, "w")  # noqa: SIM115 - closed after pygen exits
        pygen = subprocess.Popen(
            [str(PYGEN), "-watch", "-log-format", "json", "-container-filter", f"label={containers.LABEL}",
             str(TEMPLATE), dest],
            stderr=log_file,
        )
        try:
            mtime = wait_for_mtime_change(dest, 0, timeout=60)
            time.sleep(1.0)  # let the initial sync settle
            events: list[tuple[str, int]] = []
            stop = threading.Event()
            listener = threading.Thread(target=event_times, args=(probe, stop, events), daemon=True)
            listener.start()
            time.sleep(0.5)
            latencies = []
            marks: list[tuple[str, int, int]] = []  # (action, event timeNano, dest mtime)
            steps = start_and_kill(driver, probe)
            for _ in range(rounds):
                for step in steps:
                    seen = len(events)
                    step()
                    mtime = wait_for_mtime_change(dest, mtime)
                    deadline = time.monotonic() + 5
                    while len(events) <= seen and time.monotonic() < deadline:
                        time.sleep(0.001)
                    latencies.append((mtime - events[seen][1]) / 1e6)
                    marks.append((events[seen][0], events[seen][1], mtime))
            stop.set()
            time.sleep(1.0)
            cpu_before = cpu_seconds(pygen.pid)
            time.sleep(idle)
            idle_cpu = cpu_seconds(pygen.pid) - cpu_before
            rss = rss_mib(pygen.pid)
        finally:
            pygen.send_signal(signal.SIGTERM)
            pygen.wait(timeout=10)
            log_file.close()
            subprocess.run(["docker", "rm", "-f", probe], capture_output=True, check=False)
        delivery, handling = split_by_log(Path(log_path), probe, marks)
    for action in ("start", "die"):
        mine = sorted((mtime - event_ns) / 1e6 for kind, event_ns, mtime in marks if kind == action)
        slow = sorted(((handled, delivered) for (kind, *_), delivered, handled in zip(marks, delivery, handling)
                       if kind == action), reverse=True)[:3]
        print(f"#   {count} containers, {action}: p50 {statistics.median(mine):.1f} max {mine[-1]:.1f} ms; "
              "slowest handling (received -> file, event -> received): "
              + ", ".join(f"{h:.0f} / {d:.0f}" for h, d in slow), file=sys.stderr, flush=True)
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
    parser.add_argument("--rounds", type=int, default=40, help="start+kill pairs per count")
    parser.add_argument("--idle", type=float, default=30.0, help="idle seconds for the CPU figure")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--driver", choices=("api", "cli"), default="cli",
                        help="start and kill the probe through the Engine API or the docker CLI")
    parser.add_argument("--probe-network", default="bridge",
                        help="the probe's network: 'none' spares dockerd the veth and iptables work of each "
                             "start and kill (the file still changes: its header counts the containers)")
    options = parser.parse_args()
    print("| containers | p50 ms | p99 ms | max ms | event -> received p50 / max | received -> file p50 / max "
          "| idle CPU s | RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    try:
        for count in options.counts:
            r = measure(count, options.rounds, options.idle, options.driver, options.probe_network)
            print(f"| {count} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} "
                  f"| {r['delivery_p50']:.0f} / {r['delivery_max']:.0f} | {r['handling_p50']:.0f} / {r['handling_max']:.0f} "
                  f"| {r['idle_cpu']:.3f} | {r['rss']:.1f} |", flush=True)
    finally:
        if not options.keep:
            containers.remove_all()


if __name__ == "__main__":
    main()
