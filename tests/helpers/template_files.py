"""Template sets written to a temporary directory, as ``-template a;b;c`` names them."""

from __future__ import annotations

from pathlib import Path

from pygen.functions.registry import docker_gen_functions
from pygen.templating import TemplateSet


def template_set(directory: Path, files: dict[str, str]) -> TemplateSet:
    """The files written to ``directory``; the first one is the entry, as in ``-template a;b``."""
    for name, text in files.items():
        (directory / name).write_text(text)
    return TemplateSet([str(directory / name) for name in files], docker_gen_functions())
