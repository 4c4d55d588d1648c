"""Render-only benchmark: the work of one watch-mode re-render, without Docker.

N containers are built from the captured ``tests/fixtures/inspect_sample.json`` as the bench
containers look (tests/helpers/bench_inspects.py) into a real ``ContainerStore``.
Each repetition applies one event as the watcher does (alternately ``mark_stopped`` and ``put`` of
the newest container, so every render writes a changed file and the store's caches see a changed
container), then times ``Job.render``: context build, template render, blank-line removal, compare
and write.

    .venv/bin/python bench/render.py [10 100 500 1000] [--reps 50] [--template PATH] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pygen.config import TemplateConfig
from pygen.docker.state import ContainerStore, build_context
from pygen.functions.registry import docker_gen_functions
from pygen.job import Job
from pygen.source import RenderInput
from tests.helpers.bench_inspects import bench_inspects

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests/fixtures"
TEMPLATE = ROOT / "examples/nginx-proxy/nginx.conf.j2"
LABEL = "pygen.bench=1"
WARMUP = 10
"""Untimed renders first: the first few after a store is built run slower (caches, allocator)."""


class StoreSource:
    """The Docker source's render path over a store filled without a daemon."""

    def __init__(self, store: ContainerStore) -> None:
        self.store = store

    def render_input(self, config: TemplateConfig) -> RenderInput:
        return build_context(self.store, config, None, self.store.find)


def measure(count: int, reps: int, template: Path, profiler: cProfile.Profile | None) -> list[float]:
    """Milliseconds per ``Job.render``, one store event before each."""
    inspects = bench_inspects(count)
    networks = json.loads((FIXTURES / "networks_sample.json").read_text())
    store = ContainerStore()
    store.current_id = ""
    store.replace_all(inspects, networks)
    source = StoreSource(store)
    toggled: Mapping[str, Any] = inspects[0]
    with tempfile.TemporaryDirectory() as directory:
        config = TemplateConfig([str(template)], dest=f"{directory}/out.conf",
                                container_filter={"label": [LABEL]})
        job = Job(config, docker_gen_functions())
        job.render(source)  # compile the template and write the first file
        times = []
        for rep in range(WARMUP + reps):
            if rep % 2 == 0:
                store.mark_stopped(toggled["Id"], 137)
            else:
                store.put(toggled)
            if profiler is not None and rep >= WARMUP:
                profiler.enable()
            started = time.perf_counter()
            job.render(source)
            times.append((time.perf_counter() - started) * 1000)
            if profiler is not None:
                profiler.disable()
    return times[WARMUP:]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("counts", nargs="*", type=int, default=[10, 100, 500, 1000])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    options = parser.parse_args()
    logging.disable(logging.INFO)  # Job.render logs every write
    profiler = cProfile.Profile() if options.profile else None
    print("| containers | median ms | p99 ms | min ms |")
    print("|---:|---:|---:|---:|")
    for count in options.counts:
        times = measure(count, options.reps, options.template, profiler)
        print(f"| {count} | {statistics.median(times):.2f} | {percentile(times, 0.99):.2f} "
              f"| {min(times):.2f} |", flush=True)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
