"""One-shot render benchmark: wall time and peak RSS of a whole ``pygen`` run.

The run includes interpreter start-up, imports, list, inspect, render and write, with the
nginx-proxy-like template in examples/nginx-proxy. Usage (after scripts/bootstrap.sh):

    .venv/bin/python bench/oneshot.py 10 100 500 [--runs 7] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import containers

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples/nginx-proxy/nginx.conf.j2"
PYGEN = ROOT / ".venv/bin/pygen"


def run_once(dest: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one pygen process (its own rusage, via wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(PYGEN), "-container-filter", f"label={containers.LABEL}", str(TEMPLATE), dest],
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"pygen exited with {process.returncode}")
    return wall, usage.ru_maxrss


def measure(count: int, runs: int) -> dict[str, float]:
    containers.ensure(count)
    walls = []
    peak = 0
    with tempfile.TemporaryDirectory() as directory:
        dest = os.path.join(directory, "nginx.conf")
        run_once(dest)  # warm the page cache and dockerd
        for _ in range(runs):
            os.unlink(dest)  # every run writes the file, as a first render does
            wall, rss = run_once(dest)
            walls.append(wall)
            peak = max(peak, rss)
    return {"count": count, "median": statistics.median(walls), "min": min(walls),
            "max": max(walls), "rss_mib": peak / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("counts", nargs="*", type=int, default=[10, 100, 500])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    options = parser.parse_args()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| containers | median s | min s | max s | peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|")
    try:
        for count in options.counts:
            result = measure(count, options.runs)
            print(f"| {count} | {result['median']:.3f} | {result['min']:.3f} | {result['max']:.3f} "
                  f"| {result['rss_mib']:.1f} |", flush=True)
    finally:
        if not options.keep:
            containers.remove_all()


if __name__ == "__main__":
    main()
