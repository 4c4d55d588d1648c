"""etcd-gen benchmark: etcd put -> destination rewritten, and a prefix of 10,000 keys.

A private etcd (Debian's etcd 3.4, via tests.helpers.etcd_util: free loopback ports, a temp
data dir removed afterwards) serves two prefixes. The template prints one line per key
(``{{ key }} {{ value }}``) of its prefix; etcd-gen runs with its defaults (no ``-wait``, so
no debounce; in-place writes). Keys are written through etcd's JSON gateway with one
persistent ``requests.Session`` (``trust_env=False``), so no client start-up is measured.

(a) put -> dest: ``etcd-gen -watch`` on a prefix of 10 keys; ``--puts`` times (after 10 warm-up
    puts), one key gets a new value. Latency = dest ``st_mtime_ns``, read once the file holds
    the new value, minus ``time.time_ns()`` just before the put was sent. The put's own round
    trip (etcd's commit plus the HTTP exchange) is shown beside it: the file is usually
    rewritten before the writer has its answer, and the tail follows etcd's commit latency.
(b) 10,000 keys under one prefix:
    * one-shot ``etcd-gen`` (no ``-watch``), process start to exit, ``--runs`` times after one
      unmeasured warm-up run; the same with an empty prefix (the fixed start-up cost), and with
      10,000 keys under ``PYTHONDONTWRITEBYTECODE=1`` without the private cache: every module
      that has no .pyc file is compiled at every start (in an editable checkout used with that
      setting, as this one, those are pygen's own ~40 modules);
    * ``etcd-gen -watch -log-format json`` (3 starts): process start -> dest written, and from
      the log's millisecond timestamps "Read 10000 keys" -> "Generated" (render and write);
    * one change with the 10,000 keys present: put one key, dest rewritten, ``--changes`` times.

    .venv/bin/python bench/etcd_latency.py [--puts 200] [--keys 10000] [--runs 7] [--changes 30]
        [--profile]   # then time each step of a 10k render around pygen's functions and
                      # sample etcd-gen with py-spy (pip install py-spy): where the time of
                      # (b) goes; the profiled runs are not the measured ones

etcd-gen's children get a private ``PYTHONPYCACHEPREFIX`` (bytecode cached, as for an installed
package; nothing is written into the repository). The destination is polled (``os.stat``
every 0.2 ms); the kernel's fine-grained (multigrain) timestamps make ``st_mtime_ns`` exact to
microseconds once it has been queried. Targets (issue 4): (a) p99 < 20 ms; (b) first render
< 300 ms, one change < 50 ms.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.helpers.etcd_util import EtcdSingle

ETCD_GEN = ROOT / ".venv/bin/etcd-gen"
PYTHON = ROOT / ".venv/bin/python"
PY_SPY = ROOT / ".venv/bin/py-spy"
TEMPLATE = "{% for key, value in kv.items() %}{{ key }} {{ value }}\n{% endfor %}"
SMALL = "/bench/small/"
BIG = "/bench/big/"
EMPTY = "/bench/empty/"
POLL = 0.0002
PYCACHE: Path = Path()  # set in main(): a directory inside the work dir


# ------------------------------------------------------------------------------ helpers


def machine_facts() -> list[str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    try:
        etcd = subprocess.run(["etcd", "--version"], check=False, capture_output=True, text=True,
                              timeout=10).stdout.split("\n")[0]
    except OSError:
        etcd = "etcd ?"
    return [
        f"nproc {os.cpu_count()}, CPU {model}, kernel {platform.release()}",
        f"Python {platform.python_version()}, {etcd.strip()}",
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Etcd:
    """Writes through the JSON gateway on one kept-alive session (no proxies from the env)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.session = requests.Session()
        self.session.trust_env = False

    def put(self, key: str, value: str) -> None:
        response = self.session.post(f"{self.endpoint}/v3/kv/put", json={"key": b64(key), "value": b64(value)},
                                     timeout=5)
        response.raise_for_status()

    def put_many(self, items: list[tuple[str, str]], batch: int = 128) -> None:
        """In transactions of at most 128 puts (etcd's --max-txn-ops default)."""
        for start in range(0, len(items), batch):
            ops = [{"request_put": {"key": b64(k), "value": b64(v)}} for k, v in items[start:start + batch]]
            response = self.session.post(f"{self.endpoint}/v3/kv/txn", json={"success": ops}, timeout=10)
            response.raise_for_status()


def mtime_of(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def wait_for(path: Path, token: str, previous_mtime: int, timeout: float = 10.0) -> int:
    """Wait until ``path`` holds ``token``; its st_mtime_ns then (after the in-place write's
    final ftruncate)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mtime_of(path) != previous_mtime:
            try:
                if token in path.read_text(errors="replace"):
                    return mtime_of(path)
            except FileNotFoundError:
                pass
        time.sleep(POLL)
    raise TimeoutError(f"{path} did not get {token!r} within {timeout}s")


def env(bytecode_cache: bool = True) -> dict[str, str]:
    """etcd-gen's environment: no ETCD_* or proxy variables; bytecode cached in PYCACHE unless
    ``bytecode_cache`` is False."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("ETCD_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"))
             and "proxy" not in k.lower()}
    if bytecode_cache:
        clean["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        clean["PYTHONDONTWRITEBYTECODE"] = "1"
    return clean


def etcd_gen_argv(endpoint: str, prefix: str, template: Path, dest: Path, *extra: str) -> list[str]:
    return [str(ETCD_GEN), "-endpoints", endpoint, "-prefix", prefix, *extra, str(template), str(dest)]


def sampled(argv: list[str], out: Path) -> list[str]:
    """``argv`` under py-spy (sampling, non-blocking, so the process is not paused)."""
    return [str(PY_SPY), "record", "--nonblocking", "--threads", "-r", "500", "-f", "raw", "-o", str(out), "--",
            str(PYTHON), *argv]


def log_times(log: Path) -> dict[str, float]:
    """Epoch seconds of the first "Read ..." and "Generated ..." lines (-log-format json: ms)."""
    found: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        stamp = datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
        for name in ("Read ", "Generated "):
            if entry.get("msg", "").startswith(name):
                found.setdefault(name, stamp)
    return found


class Watcher:
    """``etcd-gen -watch`` in the background, its stderr (JSON lines) in a log file."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.started_ns = time.time_ns()
        with open(log, "wb") as handle:
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=handle, env=env())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ------------------------------------------------------------------------------ (a)


def put_latency(etcd: Etcd, endpoint: str, work: Path, puts: int) -> dict[str, list[float]]:
    template = work / "small.j2"
    dest = work / "small.out"
    etcd.put_many([(f"{SMALL}k{n}", "initial") for n in range(10)])
    watcher = Watcher(etcd_gen_argv(endpoint, SMALL, template, dest, "-watch", "-log-format", "json"),
                      work / "small.log")
    try:
        mtime = wait_for(dest, "initial", 0, timeout=60)
        time.sleep(0.5)
        result: dict[str, list[float]] = {"latency": [], "rtt": []}
        for n in range(-10, puts):  # 10 warm-up puts, not counted
            token = f"v{n + 10}x{time.monotonic_ns()}"
            started = time.time_ns()
            etcd.put(f"{SMALL}k{n % 10}", token)
            answered = time.time_ns()
            mtime = wait_for(dest, token, mtime)
            if n >= 0:
                result["latency"].append((mtime - started) / 1e6)
                result["rtt"].append((answered - started) / 1e6)
            time.sleep(0.02)
        return result
    finally:
        watcher.stop()


# ------------------------------------------------------------------------------ (b)


def oneshot(endpoint: str, prefix: str, template: Path, dest: Path, token: str, runs: int,
            bytecode_cache: bool = True) -> list[float]:
    walls = []
    for run in range(runs + 1):  # the first one fills the bytecode and page caches
        dest.unlink(missing_ok=True)
        started = time.perf_counter()
        subprocess.run(etcd_gen_argv(endpoint, prefix, template, dest), check=True, env=env(bytecode_cache),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        if token not in dest.read_text():
            raise RuntimeError(f"one-shot render of {prefix} lacks {token!r}")
        if run:
            walls.append(wall * 1000)
    return walls


def changes_once(etcd: Etcd, dest: Path, changes: int) -> list[float]:
    latency = []
    for n in range(-3, changes):  # 3 warm-up changes
        token = f"changed{n + 3}x{time.monotonic_ns()}"
        mtime = mtime_of(dest)
        started = time.time_ns()
        etcd.put(f"{BIG}svc{(n * 37) % 100:03d}/node{(n * 11) % 100:02d}", token)
        mtime = wait_for(dest, token, mtime)
        if n >= 0:
            latency.append((mtime - started) / 1e6)
        time.sleep(0.05)
    return latency


def big_prefix(etcd: Etcd, endpoint: str, work: Path, keys: int, runs: int, changes: int) -> dict[str, object]:
    template = work / "big.j2"
    dest = work / "big.out"
    items = [(f"{BIG}svc{n // 100:03d}/node{n % 100:02d}", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}:8080")
             for n in range(keys)]
    etcd.put_many(items)
    last_key = items[-1][0]
    out: dict[str, object] = {"last_key": last_key}
    out["oneshot_big"] = oneshot(endpoint, BIG, template, dest, last_key, runs)
    out["oneshot_empty"] = oneshot(endpoint, EMPTY, template, work / "empty.out", "", runs)
    out["oneshot_nocache"] = oneshot(endpoint, BIG, template, dest, last_key, runs, bytecode_cache=False)
    out["lines"] = dest.read_text().count("\n")

    first_mtime, first_log, read_to_generated, change = [], [], [], []
    for round_ in range(3):
        dest.unlink(missing_ok=True)
        log = work / f"big-watch-{round_}.log"
        watcher = Watcher(etcd_gen_argv(endpoint, BIG, template, dest, "-watch", "-log-format", "json"), log)
        try:
            mtime = wait_for(dest, last_key, 0, timeout=60)
            time.sleep(0.3)
            times = log_times(log)
            first_mtime.append((mtime - watcher.started_ns) / 1e6)
            first_log.append((times["Generated "] - watcher.started_ns / 1e9) * 1000)
            read_to_generated.append((times["Generated "] - times["Read "]) * 1000)
            if round_ == 2:
                time.sleep(0.5)
                change = changes_once(etcd, dest, changes)
        finally:
            watcher.stop()
    out["watch_first_mtime"] = first_mtime
    out["watch_first_log"] = first_log
    out["watch_read_to_generated"] = read_to_generated
    out["change"] = change
    return out


# ------------------------------------------------------------------------------ profile (py-spy)


def _frame(text: str) -> str:
    name, _, where = text.partition(" (")
    return f"{where.split(':')[0]}:{name}"


def _samples(paths: list[Path]):  # type: ignore[no-untyped-def]
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if count.isdigit():
                yield stack.split(";"), int(count)


def _print_shares(title: str, counter: collections.Counter, total: int, top: int = 14) -> None:
    print(f"\n{title} ({total} samples)\n")
    print("| share | where (file:function) |")
    print("|---:|---|")
    for name, count in counter.most_common(top):
        print(f"| {100 * count / total:.1f} % | {name} |")


def phases(etcd: Etcd, endpoint: str, work: Path, runs: int) -> None:
    """Wall-clock time of each step of a 10k render, timed around pygen's own functions (in this
    process, nothing patched), plus the start-up of a fresh interpreter. Medians of ``runs``."""
    from pygen.config import TemplateConfig
    from pygen.etcd import v3proto
    from pygen.etcd.connect import make_store_client
    from pygen.etcd.keys import build_tree, decode_value, template_text
    from pygen.etcd.source import EtcdSource
    from pygen.functions.registry import confd_functions
    from pygen.grpc import unary_call
    from pygen.http1 import Address
    from pygen.job import Job
    from pygen.writer import Destination, remove_blank_lines, write_output

    times: dict[str, list[float]] = collections.defaultdict(list)
    imports = ("import pygen.etcd_cli, pygen.etcd.v3, pygen.etcd.source, pygen.app, pygen.functions.registry, "
               "pygen.etcd.connect, pygen.job")
    for _ in range(runs):
        for label, code in (("interpreter start-up and exit (python -c pass)", "pass"),
                            ("the same plus importing what etcd-gen imports", imports)):
            started = time.perf_counter()
            subprocess.run([str(PYTHON), "-c", code], check=True, env=env())
            times[label].append(time.perf_counter() - started)
    measure_import = "import time; t = time.perf_counter(); import pygen.etcd.v3; print(time.perf_counter() - t)"
    for _ in range(runs):
        out = subprocess.run([str(PYTHON), "-c", measure_import], check=True, env=env(), capture_output=True, text=True)
        times["  of which importing the v3 client (pygen.etcd.v3, pygen.http1), timed inside"].append(float(out.stdout))
    config = TemplateConfig(templates=[str(work / "big.j2")], dest=str(work / "phases.out"), prefixes=[BIG])
    client = make_store_client("v3", [endpoint])
    source = EtcdSource(client, [config])
    job = Job(config, confd_functions())
    body = {"key": base64.b64encode(BIG.encode()).decode(),
            "range_end": base64.b64encode(BIG[:-1].encode() + b"0").decode()}  # "/bench/big0": the prefix's end
    request = v3proto.txn_of_ranges([(BIG.encode(), BIG[:-1].encode() + b"0")])
    host, port = endpoint.rsplit("/", 1)[1].rsplit(":", 1)
    address = Address(host, int(port), scheme="http")

    def timed(label: str, step):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = step()
        times[label].append(time.perf_counter() - started)
        return result

    for _ in range(runs):
        timed("etcd range over the JSON gateway, HTTP only (etcd marshals ~1.3 MB of JSON)",
              lambda: etcd.session.post(f"{endpoint}/v3/kv/range", json=body, timeout=10).content)
        answer = timed("etcd Txn of the range over gRPC, the call only (pygen/grpc.py:unary_call, ~0.6 MB)",
                       lambda: unary_call(address, None, v3proto.TXN_METHOD, request, timeout=10))
        timed("pygen/etcd/v3proto.py:decode_txn_ranges (protobuf -> key/value dict)",
              lambda a=answer: v3proto.decode_txn_ranges(a, {}))
        snapshot = timed("pygen/etcd/v3.py:EtcdV3Client.read (gRPC call and decoding, as etcd-gen reads)",
                         lambda: client.read(source.store_prefixes))
        timed("pygen/etcd/mirror.py:Mirror.replace", lambda s=snapshot: source.mirror.replace(s, source.prefixes))
        source._valid = True  # the read above was complete, as EtcdSource._read marks it
        context = timed("pygen/etcd/source.py:EtcdSource.render_input", lambda: source.render_input(config)).context
        timed("  of which pygen/etcd/mirror.py:Mirror.select", lambda: source.mirror.select([BIG]))
        timed("  of which Mirror.select + the kv dict (template_text, decode_value, sorted)",
              lambda: {template_text(k): decode_value(v) for k, v in sorted(source.mirror.select([BIG]).items())})
        timed("  of which pygen/etcd/keys.py:build_tree", lambda c=context: build_tree(c["kv"]))
        text = timed("pygen/templating.py:TemplateSet.render (Jinja)", lambda c=context: job.templates.render(c))
        text = timed("pygen/writer.py:remove_blank_lines", lambda t=text: remove_blank_lines(t))
        Path(config.dest).unlink(missing_ok=True)
        timed("pygen/writer.py:write_output (new file)",
              lambda t=text: write_output(Destination(config.dest), t.encode()))
    print(f"\nWall-clock steps of a {BIG} render of 10,000 keys (median of {runs}, ms; the 'of which' "
          "rows are timed separately and overlap their parent)\n")
    print("| step | median | min |")
    print("|---|---:|---:|")
    for label, values in times.items():
        print(f"| {label} | {statistics.median(values) * 1000:.1f} | {min(values) * 1000:.1f} |")


def profile(etcd: Etcd, endpoint: str, work: Path, big: dict[str, object], changes: int, runs: int) -> None:
    """Sample the one-shot 10k render and watch-mode changes with py-spy; print the shares."""
    template, dest = work / "big.j2", work / "big-prof.out"
    raws = []
    for run in range(runs):
        raw = work / f"oneshot-{run}.raw"
        dest.unlink(missing_ok=True)
        subprocess.run(sampled(etcd_gen_argv(endpoint, BIG, template, dest), raw), check=True, env=env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        raws.append(raw)
    phases: collections.Counter = collections.Counter()
    total = 0
    for frames, count in _samples(raws):
        if not frames or "MainThread" not in frames[0]:
            continue
        total += count
        names = frames[1:]
        if not names:
            phases["(no Python frame: interpreter start-up / exit)"] += count
        elif any("_find_and_load" in f for f in names):
            top = next((f for f in names if f.startswith(("<module> (pygen", "run (pygen", "main (pygen"))
                        and "_find_and_load" not in f), "")
            importer = [f for f in names if f.startswith("<module> (")]
            phases[f"imports, via {_frame(importer[1]) if len(importer) > 1 else _frame(top or names[0])}"] += count
        elif any(f.startswith("EtcdV3Client.read ") for f in names):
            below = names[max(k for k, f in enumerate(names) if "pygen/" in f):]
            if any(f.startswith("loads ") for f in below):
                phases["etcd read: JSON decoding of the answer (pygen/etcd/v3.py:EtcdV3Client._send > "
                       "json.loads)"] += count
            elif any(f.startswith("b64decode ") for f in below):
                phases["etcd read: base64 decoding (pygen/etcd/v3.py:unb64, pygen/etcd/keys.py:from_bytes)"] += count
            elif any(f.startswith(("ConnectionPool.", "Connection.")) for f in below):
                phases[f"etcd read: HTTP exchange ({_frame(below[0])} > pygen/http1.py)"] += count
            else:
                phases[f"etcd read: {_frame(below[0])}"] += count
        elif any(f.startswith("Job.render ") for f in names):
            i = next(k for k, f in enumerate(names) if f.startswith("Job.render "))
            phases[f"render: {_frame(names[i + 1]) if i + 1 < len(names) else 'pygen/job.py:Job.render'}"] += count
        else:
            phases[f"other: {_frame(names[-1])}"] += count
    _print_shares(f"Profile: one-shot etcd-gen, {big['lines']} keys, {runs} runs, main thread", phases, total)

    raw = work / "watch.raw"
    dest.unlink(missing_ok=True)
    argv = etcd_gen_argv(endpoint, BIG, template, dest, "-watch", "-log-format", "json")
    watcher = Watcher(sampled(argv, raw), work / "watch-prof.log")
    try:
        wait_for(dest, str(big["last_key"]), 0, timeout=60)
        time.sleep(0.5)
        changes_once(etcd, dest, changes)
    finally:
        watcher.stop(signal.SIGINT)  # py-spy writes its file and ends etcd-gen
    inner: collections.Counter = collections.Counter()
    threads: collections.Counter = collections.Counter()
    total = 0
    for frames, count in _samples([raw]):
        names = frames[1:]
        if "MainThread" not in frames[0]:
            threads[f"other thread: {_frame(names[-1]) if names else frames[0]}"] += count
            continue
        if not any(f.startswith("Engine.render_pass ") for f in names):
            continue
        total += count
        if any(f.startswith("Job.render ") for f in names):
            i = next(k for k, f in enumerate(names) if f.startswith("Job.render "))
            inner[" > ".join(_frame(f) for f in names[i + 1:i + 3]) or "pygen/job.py:Job.render"] += count
        else:
            inner["pygen/engine.py:Engine.render_pass (outside Job.render)"] += count
    _print_shares(f"Profile: etcd-gen -watch, renders after one-key changes with {big['lines']} keys "
                  "(main thread inside Engine.render_pass, first 2 levels below Job.render)", inner, total, 18)
    print(f"\n(other threads: {sum(threads.values())} samples in all, i.e. "
          f"{100 * sum(threads.values()) / max(1, total):.0f} % of the render samples)")


# ------------------------------------------------------------------------------ report


def row(name: str, values: list[float], target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else ("met" if ok else "**missed**")
    return (f"| {name} | {len(values)} | {statistics.median(values):.1f} | {pct(values, 0.99):.1f} "
            f"| {max(values):.1f} | {target} | {verdict} |")


def main() -> None:
    global PYCACHE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--puts", type=int, default=200)
    parser.add_argument("--keys", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=7, help="one-shot runs for (b)")
    parser.add_argument("--changes", type=int, default=30, help="single-key changes with all keys present")
    parser.add_argument("--profile", action="store_true", help="sample (b) with py-spy and print the hot spots")
    options = parser.parse_args()
    if options.profile and not PY_SPY.exists():
        parser.error(f"--profile needs {PY_SPY} (.venv/bin/pip install py-spy)")
    for line in machine_facts():
        print(f"# {line}")
    work = Path(tempfile.mkdtemp(prefix="pygen-bench-etcd-"))
    PYCACHE = work / "pycache"
    (work / "small.j2").write_text(TEMPLATE)
    (work / "big.j2").write_text(TEMPLATE)
    cluster = None
    try:
        cluster = EtcdSingle()
        etcd = Etcd(cluster.endpoint)
        print(f"# etcd at {cluster.endpoint}, data dir {cluster.data_dir}")
        a = put_latency(etcd, cluster.endpoint, work, options.puts)
        print("\n(a) put -> dest rewritten, etcd-gen -watch, 10 keys, no -wait (ms)\n")
        print("| measure | n | p50 | p99 | max | target | |")
        print("|---|---:|---:|---:|---:|---|---|")
        print(row("put sent -> dest mtime", a["latency"], "p99 < 20", pct(a["latency"], 0.99) < 20))
        print(row("put round trip (etcd's commit), for comparison", a["rtt"], "", None))
        sys.stdout.flush()

        b = big_prefix(etcd, cluster.endpoint, work, options.keys, options.runs, options.changes)
        print(f"\n(b) {options.keys} keys under {BIG}, {b['lines']} lines rendered (ms)\n")
        print("| measure | n | p50 | p99 | max | target | |")
        print("|---|---:|---:|---:|---:|---|---|")
        big = b["oneshot_big"]
        print(row(f"one-shot etcd-gen, start to exit, {options.keys} keys", big, "< 300",
                  statistics.median(big) < 300))
        print(row("one-shot etcd-gen, start to exit, 0 keys (start-up cost)", b["oneshot_empty"], "", None))
        print(row(f"one-shot, {options.keys} keys, no bytecode cache", b["oneshot_nocache"], "", None))
        print(row("-watch: process start -> dest mtime", b["watch_first_mtime"], "", None))
        print(row("-watch: process start -> 'Generated' log line", b["watch_first_log"], "", None))
        print(row(f"-watch: 'Read {options.keys} keys' -> 'Generated' log lines", b["watch_read_to_generated"],
                  "", None))
        print(row("one change: put sent -> dest mtime", b["change"], "< 50", pct(b["change"], 0.99) < 50))
        print(f"\n# load average after the measurements {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        sys.stdout.flush()
        if options.profile:
            phases(etcd, cluster.endpoint, work, options.runs)
            profile(etcd, cluster.endpoint, work, b, options.changes, options.runs)
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
