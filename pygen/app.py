"""What both front ends do once they have configs and a source: one-shot or the long-running loop."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pygen.config import TemplateConfig, load_config_files, runs_forever
from pygen.engine import Engine
from pygen.job import Job
from pygen.notify import NotifyRunner
from pygen.prefetch import BackgroundRefresh
from pygen.source import Source


def run_configs(configs: list[TemplateConfig], source: Source, config_files: list[str],
                functions: Mapping[str, Callable[..., Any]],
                prefetch: BackgroundRefresh | None = None) -> int:
    """One-shot when no config watches or ticks; otherwise the loop, until SIGTERM/SIGINT."""
    loaded = {"first": True}

    def build_jobs() -> list[Job]:
        """The jobs of the configs given; on later calls (SIGHUP, edits) the files are re-read."""
        current = configs
        if config_files and not loaded["first"]:
            current = load_config_files(config_files)
            if hasattr(source, "configs"):
                source.configs = current  # type: ignore[attr-defined]
        loaded["first"] = False
        return [Job(config, functions) for config in current]

    runner = NotifyRunner(source if hasattr(source, "signal_container") else None)  # type: ignore[arg-type]
    engine = Engine(build_jobs, source, runner, config_files=list(config_files))
    if not runs_forever(configs):
        return engine.run_once(prefetch)
    from pygen.filewatch import FileWatcher

    engine.install_signal_handlers()
    return engine.run_forever(FileWatcher())
