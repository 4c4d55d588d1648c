"""Service-discovery benchmark: the demo's pipeline on real dockerd, etcd and haproxy.

One backend host and the client host, configured as examples/service-discovery/run-demo.sh:

* a private etcd on free loopback ports (tests.helpers.etcd_util, temp data dir);
* backend host A: ``HOST_IP=127.0.0.2 pygen -watch -interval 5 -container-filter label=...
  -notify "python register.py" templates/register.py.j2 register.py`` (REGISTER_TTL=15);
* the client host: ``etcd-gen -prefix /backends -watch -min-keys 2 -atomic -check-cmd "haproxy -c
  -q -f {{ src }}" -notify "python haproxy_reload.py master.sock" templates/haproxy.cfg.j2
  haproxy.cfg`` and a master-worker haproxy whose ``whoami`` listener binds 127.0.0.1:<free port>.

whoami containers listen on that port (WHOAMI_PORT) and publish it on 127.0.0.2 (an ephemeral
host port). One base container stays up throughout (so a removal never drops below -min-keys 2).

(a) ``docker run -d`` returns -> first request answered by the new container through haproxy,
    polling with a new connection every 2 ms (also: when its server line appeared in haproxy.cfg);
(b) ``docker stop`` / ``docker kill`` issued -> its server line gone from haproxy.cfg (and the
    haproxy reload that follows finished, from the master's reload counter); (a) and (b) share
    the runs: each probe container is stopped or killed, alternately;
(c) failed requests during churn: client threads (2 on new connections, 2 on keep-alive ones,
    a pause between requests, 5 s timeout) run while containers are started and removed, once
    with graceful stops (a whoami that closes its listener on SIGTERM and exits a second later,
    as tests/helpers/http_load.py's DRAINING_WHOAMI) and once with
    ``docker kill``; each phase ends after --churn-seconds or --churn-requests.

For (a) and (b), a second table splits each latency into the pipeline's stages, from the
millisecond timestamps of pygen's and etcd-gen's logs (``-log-format json``) and the bench's own
etcd watch on /backends: docker event -> register.py written -> its run put/deleted the key ->
etcd-gen wrote haproxy.cfg (after ``haproxy -c``) -> haproxy_reload.py started -> answer/reload.
All Python children get a private PYTHONPYCACHEPREFIX (bytecode cached, as in an installed package).

Every container is labelled ``pygen.bench=discovery`` (and ``pygen.bench.run=<pid>``) and removed
at the end; every process started here is stopped. Only 127.0.0.0/8 is used.

    .venv/bin/python bench/discovery.py [--runs 20] [--churn-seconds 60] [--churn-requests 20000]

Targets (issue 5): (a) p50 < 0.5 s (the seed: 3.2 s median, up to 4.7 s); (b) < 1 s (the seed:
15.6 s); (c) 0 failed requests with graceful stops, < 0.1 % with SIGKILL (the seed: 2.1 %).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.helpers import proc_util
from tests.helpers.etcd_util import EtcdSingle
from tests.helpers.haproxy_util import HAProxy
from tests.helpers.http_load import DRAINING_WHOAMI, LoadClients, get
from tests.helpers.net_util import free_port

PYTHON = ROOT / ".venv/bin/python"
PYGEN = ROOT / ".venv/bin/pygen"
ETCD_GEN = ROOT / ".venv/bin/etcd-gen"
REGISTER_TEMPLATE = ROOT / "templates/register.py.j2"
HAPROXY_TEMPLATE = ROOT / "templates/haproxy.cfg.j2"
RELOAD = ROOT / "examples/service-discovery/haproxy_reload.py"
IMAGE = "local/whoami:latest"
LABEL = "pygen.bench=discovery"
RUN_LABEL = "pygen.bench.run"
HOST_IP = "127.0.0.2"
INTERVAL = 5
TTL = 15
PYCACHE: Path = Path()  # set in main(): inside the work directory
MASTER_LINE = re.compile(r"^\s*\d+\s+master\s+(\d+)", re.MULTILINE)  # "show proc": pid, reloads



# ------------------------------------------------------------------------------ helpers


def machine_facts() -> list[str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())

    def version(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=10).stdout
        except OSError:
            return "?"
        return out.splitlines()[0].strip() if out else "?"

    return [
        f"nproc {os.cpu_count()}, CPU {model}, kernel {platform.release()}",
        (f"Python {platform.python_version()}, {version(['etcd', '--version'])}, {version(['haproxy', '-v'])}, "
         f"Docker {version(['docker', 'version', '--format', '{{.Server.Version}}'])}"),
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """For pygen, etcd-gen and the scripts they run: none of the settings of this shell, and
    compiled bytecode cached (in a private PYTHONPYCACHEPREFIX, as an installed package has its
    .pyc files; this matters: every run of register.py is a new Python process)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKER_", "ETCD_", "HAPROXY_", "REGISTER_", "HOST_IP", "PYTHONDONTWRITEBYTECODE",
                                "PYTHONPYCACHEPREFIX"))
           and "proxy" not in k.lower()}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def remove_containers(run_id: str | None) -> None:
    """Ours (``run_id``), or with None those of bench runs whose process is gone."""
    owner_format = "{{.ID}} {{.Label \"" + RUN_LABEL + "\"}}"
    out = docker("ps", "-a", "--filter", f"label={LABEL}", "--format", owner_format)
    doomed = []
    for line in out.splitlines():
        cid, _, owner = line.partition(" ")
        mine = run_id is not None and owner == run_id
        orphaned = run_id is None and owner.isdigit() and not proc_util.pid_alive(int(owner))
        if mine or orphaned:
            doomed.append(cid)
    if doomed:
        subprocess.run(["docker", "rm", "-f", *doomed], check=False, capture_output=True)


class EtcdEvents:
    """The bench's own watch on the registrations (etcd's JSON gateway, one streaming POST on a
    plain socket, so that ``close()`` can interrupt the blocked read): when each put or delete
    reached a watcher, as (wall clock, "put"/"delete", key)."""

    def __init__(self, endpoint: str, prefix: str) -> None:
        self.events: list[tuple[float, str, str]] = []
        host, port = endpoint.removeprefix("http://").rstrip("/").split(":")
        raw = prefix.encode()
        body = json.dumps({"create_request": {
            "key": base64.b64encode(raw).decode(),
            "range_end": base64.b64encode(raw[:-1] + bytes([raw[-1] + 1])).decode()}}).encode()
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.sock.settimeout(None)
        self.sock.sendall(b"POST /v3/watch HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (host.encode(), len(body), body))
        self.stream = self.sock.makefile("rb")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while self.stream.readline() not in (b"\r\n", b""):  # status line and headers
                pass
            pending = b""
            while True:  # chunked transfer encoding; one JSON object per line
                size = int(self.stream.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return
                pending += self.stream.read(size)
                self.stream.readline()
                *lines, pending = pending.split(b"\n")
                now = time.time()
                for line in lines:
                    for event in (json.loads(line).get("result") or {}).get("events") or []:
                        key = base64.b64decode(event["kv"]["key"]).decode(errors="replace")
                        self.events.append((now, "delete" if event.get("type") == "DELETE" else "put", key))
        except (OSError, ValueError):
            return  # closed

    def first(self, kind: str, needle: str, after: float) -> float | None:
        return next((t for t, k, key in list(self.events) if k == kind and needle in key and t >= after), None)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader up
        except OSError:
            pass
        self.thread.join(5)
        self.stream.close()
        self.sock.close()


def log_lines(path: Path) -> list[tuple[float, str]]:
    """(epoch seconds, message) of a -log-format json log (millisecond stamps)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            stamp = datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except (ValueError, KeyError):
            continue
        out.append((stamp.timestamp(), entry.get("msg", "")))
    return out


def first_log(lines: list[tuple[float, str]], needle: str, after: float) -> float | None:
    # log stamps are truncated to the millisecond: allow 1 ms
    return next((t for t, msg in lines if needle in msg and t >= after - 0.001), None)


@dataclass
class Stack:
    work: Path
    run_id: str = field(default_factory=lambda: str(os.getpid()))
    port: int = field(default_factory=free_port)
    stats_port: int = field(default_factory=free_port)
    etcd: EtcdSingle | None = None
    haproxy: HAProxy | None = None
    procs: list = field(default_factory=list)
    pygen_log: Path = Path()
    etcd_events: EtcdEvents | None = None

    @property
    def etcd_gen_log(self) -> Path:
        return self.work / "etcd-gen.log"

    @property
    def config(self) -> Path:
        assert self.haproxy is not None
        return self.haproxy.config_path

    def start(self) -> None:
        self.etcd = EtcdSingle()
        host = self.work / "host-a"
        host.mkdir()
        script = host / "register.py"
        env = clean_env({"HOST_IP": HOST_IP, "ETCD_ENDPOINTS": self.etcd.endpoint, "REGISTER_TTL": str(TTL)})
        self.pygen_log = host / "pygen.log"
        self.procs.append(proc_util.spawn(
            [str(PYGEN), "-watch", "-log-format", "json", "-interval", str(INTERVAL),
             "-container-filter", f"label={RUN_LABEL}={self.run_id}",
             "-notify", f"{PYTHON} {script}", str(REGISTER_TEMPLATE), str(script)],
            self.pygen_log, cwd=host, env=env))
        client_env = clean_env({"HAPROXY_BIND_IP": "127.0.0.1", "HAPROXY_STATS": f"127.0.0.1:{self.stats_port}"})
        etcd_gen = [str(ETCD_GEN), "-endpoints", self.etcd.endpoint, "-prefix", "/backends"]
        first = self.work / "first.cfg"
        subprocess.run([*etcd_gen, str(HAPROXY_TEMPLATE), str(first)], env=client_env, check=True,
                       capture_output=True, timeout=60)
        self.haproxy = HAProxy(self.work / "client", first.read_text()).start()
        self.procs.append(proc_util.spawn(
            [*etcd_gen, "-watch", "-log-format", "json", "-atomic", "-min-keys", "2",
             "-check-cmd", "haproxy -c -q -f {{ src }}", "-notify", f"{PYTHON} {RELOAD} {self.haproxy.master_sock}",
             str(HAPROXY_TEMPLATE), str(self.haproxy.config_path)],
            self.etcd_gen_log, cwd=self.work, env=client_env))
        self.etcd_events = EtcdEvents(self.etcd.endpoint, "/backends/")

    def run(self, command: list[str] | None = None) -> tuple[str, float]:
        """``docker run -d`` a whoami on host A; (short id, time.monotonic() when it returned)."""
        argv = ["docker", "run", "-d", "--label", LABEL, "--label", f"{RUN_LABEL}={self.run_id}",
                "-e", f"WHOAMI_PORT={self.port}", "-p", f"{HOST_IP}::{self.port}", IMAGE, *(command or [])]
        cid = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
        return cid[:12], time.monotonic()

    def servers(self) -> set[str]:
        try:
            text = self.config.read_text()
        except OSError:
            return set()
        return set(re.findall(r"^\s+server (\S+) ", text, re.MULTILINE))

    def reloads(self, timeout: float = 5.0) -> int:
        """The haproxy master's reload counter (its socket is gone for a moment during a reload)."""
        assert self.haproxy is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = MASTER_LINE.search(self.haproxy.master_cmd("show proc"))
            if match:
                return int(match.group(1))
            time.sleep(0.005)
        raise TimeoutError("the haproxy master socket did not answer")

    def wait_answer(self, short_id: str, timeout: float = 30.0) -> tuple[float, float]:
        """Poll through haproxy until ``short_id`` answers: (answered, in haproxy.cfg) monotonic."""
        deadline = time.monotonic() + timeout
        in_config = 0.0
        while time.monotonic() < deadline:
            if not in_config and short_id in self.servers():
                in_config = time.monotonic()
            try:
                if get(self.port, 1.0) == f"I'm {short_id}":
                    answered = time.monotonic()
                    return answered, in_config or answered
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.002)
        raise TimeoutError(f"{short_id} did not answer through haproxy within {timeout}s")

    def wait_gone(self, short_id: str, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if short_id not in self.servers():
                return time.monotonic()
            time.sleep(0.002)
        raise TimeoutError(f"{short_id} stayed in haproxy.cfg for {timeout}s")

    def wait_reloads(self, above: int, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.reloads() > above:
                return time.monotonic()
            time.sleep(0.005)
        raise TimeoutError("haproxy did not reload")

    def close(self) -> None:
        if self.etcd_events is not None:
            self.etcd_events.close()
        for proc in reversed(self.procs):
            proc_util.terminate(proc, timeout=5)
        if self.haproxy is not None:
            self.haproxy.stop()
        if self.etcd is not None:
            self.etcd.close()
        remove_containers(self.run_id)


# ------------------------------------------------------------------------------ (a) and (b)


def join_and_leave(stack: Stack, runs: int) -> tuple[dict[str, list[float]], list[dict[str, object]]]:
    """Measured times (seconds) and, per probe, the wall-clock marks for the breakdown."""
    out: dict[str, list[float]] = {k: [] for k in (
        "answer", "config_in", "run_cmd", "stop_cfg", "stop_reload", "stop_cmd",
        "kill_cfg", "kill_reload", "kill_cmd")}
    marks: list[dict[str, object]] = []
    wall = time.time() - time.monotonic()  # monotonic -> wall clock, for the logs
    for n in range(runs * 2):
        before = time.monotonic()
        short_id, returned = stack.run()
        answered, in_config = stack.wait_answer(short_id)
        out["run_cmd"].append(returned - before)
        out["answer"].append(answered - returned)
        out["config_in"].append(in_config - returned)
        time.sleep(0.3)  # the reload that added it is over (it answered through the new worker)
        reloads = stack.reloads()
        how = "stop" if n % 2 == 0 else "kill"
        issued = time.monotonic()
        docker(how, short_id)
        done = time.monotonic()
        gone = stack.wait_gone(short_id)
        reloaded = stack.wait_reloads(reloads)
        out[f"{how}_cmd"].append(done - issued)
        out[f"{how}_cfg"].append(gone - issued)
        out[f"{how}_reload"].append(reloaded - issued)
        marks.append({"id": short_id, "how": how, "returned": returned + wall, "answered": answered + wall,
                      "issued": issued + wall, "gone": gone + wall, "reloaded": reloaded + wall})
        docker("rm", "-f", short_id)
        time.sleep(0.3)
    return out, marks


def breakdown(stack: Stack, marks: list[dict[str, object]]) -> dict[str, dict[str, list[float]]]:
    """Per stage durations (s) from the JSON logs of pygen and etcd-gen (ms stamps) and the
    bench's own etcd watch. A stage whose marks are not found is left out for that probe."""
    pygen, etcd_gen = log_lines(stack.pygen_log), log_lines(stack.etcd_gen_log)
    assert stack.etcd_events is not None
    result: dict[str, dict[str, list[float]]] = {"join": {}, "stop": {}, "kill": {}}

    def add(kind: str, stage: str, a: float | None, b: float | None) -> None:
        if a is not None and b is not None:
            result[kind].setdefault(stage, []).append(b - a)

    for m in marks:
        sid = str(m["id"])
        for kind, action, zero, etcd_kind, end in (
                ("join", "start", m["returned"], "put", m["answered"]),
                (str(m["how"]), "die", m["issued"], "delete", m["reloaded"])):
            zero = float(zero)  # type: ignore[arg-type]
            event = first_log(pygen, f"event {action} for container {sid}", zero - 5.0)
            generated = first_log(pygen, "Generated '", event) if event else None
            running = first_log(pygen, "Running '", generated) if generated else None
            in_etcd = stack.etcd_events.first(etcd_kind, sid, event) if event else None
            rendered = first_log(etcd_gen, "Generated '", in_etcd) if in_etcd else None
            reload_run = first_log(etcd_gen, "Running '", rendered) if rendered else None
            add(kind, "1. docker run returned / stop or kill issued -> pygen got the start / die event",
                zero, event)
            add(kind, "2. -> register.py rendered and written (pygen)", event, generated)
            add(kind, "3. -> notify started (python register.py)", generated, running)
            add(kind, "4. -> key put / deleted in etcd (register.py: Python start-up, imports, etcd txn)",
                running, in_etcd)
            add(kind, "5. -> haproxy.cfg rendered, checked (haproxy -c) and written (etcd-gen)", in_etcd, rendered)
            add(kind, "6. -> notify started (python haproxy_reload.py)", rendered, reload_run)
            add(kind, "7. -> first answer from the new container / haproxy reload finished", reload_run,
                float(end))  # type: ignore[arg-type]
            add(kind, "total", zero, float(end))  # type: ignore[arg-type]
    return result


# ------------------------------------------------------------------------------ (c)


@dataclass
class Churn:
    requests: int = 0
    failures: list[tuple[float, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cycles: int = 0
    seconds: float = 0.0
    reloads: int = 0


def churn(stack: Stack, graceful: bool, seconds: float, max_requests: int, pause: float) -> Churn:
    load = LoadClients(stack.port, pause=pause, limit=max_requests)
    result = Churn()
    reloads_before = stack.reloads()
    timer = threading.Timer(seconds, load.finish)  # the time bound holds in the middle of a cycle too
    timer.start()
    load.start()
    try:
        while not load.done.is_set():
            short_id, _ = stack.run(DRAINING_WHOAMI if graceful else None)
            stack.wait_answer(short_id, timeout=30)
            load.done.wait(0.5)  # let it serve a share of the requests
            if graceful:
                docker("stop", "-t", "10", short_id)
            else:
                docker("kill", short_id)
            stack.wait_gone(short_id)
            docker("rm", "-f", short_id)
            if not load.done.is_set():  # a whole start/stop cycle under the client load
                result.cycles += 1
            load.done.wait(0.3)
    finally:
        load.join()
        timer.cancel()
    result.requests, result.failures, result.latencies = load.requests, load.failures, load.latencies
    result.seconds = load.ended - load.started
    time.sleep(1.0)
    result.reloads = stack.reloads() - reloads_before
    return result


# ------------------------------------------------------------------------------ report


def row(name: str, values: list[float], target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else ("met" if ok else "**missed**")
    return (f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | {pct(values, 0.99) * 1000:.0f} "
            f"| {max(values) * 1000:.0f} | {target} | {verdict} |")


def main() -> None:
    global PYCACHE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="probe containers per stop and per kill (2x for (a))")
    parser.add_argument("--churn-seconds", type=float, default=60.0, help="bound of each churn phase")
    parser.add_argument("--churn-requests", type=int, default=20000, help="bound of each churn phase")
    parser.add_argument("--pause", type=float, default=0.01, help="pause of each client thread between requests")
    parser.add_argument("--skip-churn", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep the work directory (logs)")
    options = parser.parse_args()
    for line in machine_facts():
        print(f"# {line}")
    remove_containers(None)
    work = Path(tempfile.mkdtemp(prefix="pygen-bench-sd-"))
    PYCACHE = work / "pycache"
    stack = Stack(work)
    try:
        stack.start()
        base, returned = stack.run()
        stack.wait_answer(base, timeout=60)
        print(f"# base container {base} answers through haproxy on 127.0.0.1:{stack.port}, "
              f"{time.monotonic() - returned:.2f} s after docker run (first registration, new listener)")
        time.sleep(1.0)

        r, marks = join_and_leave(stack, options.runs)
        print("\n(a), (b): join and leave (ms)\n")
        print("| measure | n | p50 | p99 | max | target | |")
        print("|---|---:|---:|---:|---:|---|---|")
        print(row("(a) docker run returned -> first answer through haproxy", r["answer"], "p50 < 500",
                  statistics.median(r["answer"]) < 0.5))
        print(row("    docker run returned -> server line in haproxy.cfg", r["config_in"], "", None))
        print(row("    docker run -d itself", r["run_cmd"], "", None))
        print(row("(b) docker stop issued -> gone from haproxy.cfg", r["stop_cfg"], "< 1000",
                  max(r["stop_cfg"]) < 1.0))
        print(row("    docker stop issued -> haproxy reload finished", r["stop_reload"], "", None))
        print(row("    docker stop itself", r["stop_cmd"], "", None))
        print(row("(b) docker kill issued -> gone from haproxy.cfg", r["kill_cfg"], "< 1000",
                  max(r["kill_cfg"]) < 1.0))
        print(row("    docker kill issued -> haproxy reload finished", r["kill_reload"], "", None))
        print(row("    docker kill itself", r["kill_cmd"], "", None))
        stages = breakdown(stack, marks)
        print("\nWhere the time goes (from pygen's and etcd-gen's JSON logs, ms stamps, and an etcd watch "
              "of /backends; ms)\n")
        print("| stage | join p50 | join max | stop p50 | stop max | kill p50 | kill max |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for stage in sorted(stages["join"]):
            cells = []
            for kind in ("join", "stop", "kill"):
                values = stages[kind].get(stage) or []
                if values:
                    cells += [f"{statistics.median(values) * 1000:.0f}", f"{max(values) * 1000:.0f}"]
                else:
                    cells += ["", ""]
            print(f"| {stage} | {' | '.join(cells)} |")
        sys.stdout.flush()

        if not options.skip_churn:
            print("\n(c) failed requests during churn\n")
            print("| stops | requests | failed | failed % | target | | seconds | cycles | reloads "
                  "| req p99 ms | req max ms |")
            print("|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|")
            failures = {}
            for graceful in (True, False):
                c = churn(stack, graceful, options.churn_seconds, options.churn_requests, options.pause)
                share = 100.0 * len(c.failures) / max(1, c.requests)
                ok = (len(c.failures) == 0) if graceful else share < 0.1
                name = "graceful (docker stop, draining whoami)" if graceful else "SIGKILL (docker kill)"
                lat = c.latencies or [0.0]
                print(f"| {name} | {c.requests} | {len(c.failures)} | {share:.3f} | "
                      f"{'0' if graceful else '< 0.1 %'} | {'met' if ok else '**missed**'} | {c.seconds:.0f} "
                      f"| {c.cycles} | {c.reloads} | {pct(lat, 0.99) * 1000:.0f} | {max(lat) * 1000:.0f} |",
                      flush=True)
                failures[name] = c.failures
            for name, items in failures.items():
                for at, text in items[:10]:
                    print(f"#   {name}: at {at:.1f} s: {text}")
        print(f"\n# load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        stack.close()
        if options.keep_logs:
            print(f"# logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
