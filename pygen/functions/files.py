"""docker-gen's file functions: dir, exists, include.

They read the filesystem docker-gen runs on (typically certificate and vhost.d directories that
nginx-proxy templates probe). Their error policies differ on purpose, following docker-gen: `dir`
logs and returns [], `include` returns "", `exists` fails the render on errors other than
"not found" (a permission problem should not silently look like a missing certificate).
"""

from __future__ import annotations

import errno
import logging
import os
from typing import Any

from pygen.errors import TemplateFunctionError
from pygen.functions.values import as_str

log = logging.getLogger(__name__)


def _go_error_text(exc: OSError) -> str:
    """Go's syscall error texts are lowercase ("no such file or directory")."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def dir_list(path: Any) -> list[str]:
    """Names of the entries in a directory, sorted, hidden ones included; [] (and a log line) on error."""
    path = as_str("dir", "path", path)
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        log.warning("Template error: open %s: %s", path, _go_error_text(exc))
        return []


def exists(path: Any) -> bool:
    """stat succeeds -> True; ENOENT -> False; any other error (EACCES, ENOTDIR...) fails the render."""
    path = as_str("exists", "path", path)
    try:
        os.stat(path)
        return True
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise TemplateFunctionError(f"stat {path}: {_go_error_text(exc)}") from None


def include(path: Any) -> str:
    """The file's content, or "" on any error (missing file, directory, permissions)."""
    try:
        with open(as_str("include", "file", path), encoding="utf-8", errors="replace", newline="") as handle:
            return handle.read()
    except (OSError, TemplateFunctionError, ValueError):
        return ""
