"""Inspect data of N running containers shaped like those bench/containers.py starts, built from
the captured ``tests/fixtures/inspect_sample.json``: for render benchmarks and tests that need a
fleet without a daemon (bench/render.py, tests/unit/test_loopmemo_equivalence.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def bench_inspects(count: int) -> list[dict[str, Any]]:
    """``count`` running bridge containers, newest first: env ``VIRTUAL_HOST=app{i%50}.example.com``
    and ``VIRTUAL_PORT=8000``, labels ``pygen.bench=1`` and ``com.example.index=i``."""
    samples = json.loads((FIXTURES / "inspect_sample.json").read_text())
    base = next(s for s in samples if s["Name"] == "/pygen-cap-plain")
    inspects = []
    for index in range(count):
        inspect = copy.deepcopy(base)
        ip = f"172.17.{index // 250}.{index % 250 + 2}"
        inspect["Id"] = f"{index:064x}"
        inspect["Name"] = f"/bench-{index}"
        inspect["Created"] = f"2026-11-25T20:{index // 60 % 60:02d}:{index % 60:02d}.000000000Z"
        inspect["Config"]["Env"] = [f"VIRTUAL_HOST=app{index % 50}.example.com", "VIRTUAL_PORT=8000"]
        inspect["Config"]["Labels"] = {"pygen.bench": "1", "com.example.index": str(index)}
        inspect["NetworkSettings"]["IPAddress"] = ip
        inspect["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] = ip
        inspects.append(inspect)
    return inspects[::-1]
