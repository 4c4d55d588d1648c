"""Shared by the benchmarks: keep exactly N labelled whoami containers running.

Containers are created in parallel batches through the docker CLI and reused between runs, so
a sweep over 10, 100 and 500 only starts what is missing. ``remove_all`` cleans up.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

LABEL = "pygen.bench=1"
IMAGE = "local/whoami:latest"


def running_ids() -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-q", "--no-trunc", "--filter", f"label={LABEL}"],
        check=True, capture_output=True, text=True,
    ).stdout
    return out.split()


def _start(index: int) -> None:
    subprocess.run(
        [
            "docker", "run", "-d", "--label", LABEL,
            "-e", f"VIRTUAL_HOST=app{index % 50}.example.com",
            "-e", "VIRTUAL_PORT=8000",
            "--label", f"com.example.index={index}",
            IMAGE,
        ],
        check=True, capture_output=True,
    )


def ensure(count: int) -> list[str]:
    """Start or remove labelled containers until exactly ``count`` run; return their IDs."""
    ids = running_ids()
    if len(ids) > count:
        subprocess.run(["docker", "rm", "-f", *ids[count:]], check=True, capture_output=True)
    elif len(ids) < count:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(_start, range(len(ids), count)))
    return running_ids()


def remove_all() -> None:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={LABEL}"], check=True, capture_output=True, text=True
    ).stdout.split()
    if out:
        subprocess.run(["docker", "rm", "-f", *out], check=True, capture_output=True)
