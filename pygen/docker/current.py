"""Detect the ID of the container pygen itself runs in (spec §5.4).

Templates use ``.Docker.CurrentContainerID`` / ``.CurrentContainer`` (nginx-proxy finds its own
networks this way), so the detection must give exactly docker-gen's answer, including its quirks:
the "ID" is the leftmost run of 64 ASCII alphanumerics (not hex-only), and mountinfo lines are only
trusted in the shapes Docker and Podman use for the container's own files, because the other
64-character strings there are overlay layer and volume IDs.

There are two passes over the same files. Pass 1 (only when ``$HOSTNAME`` is a 12-character short
ID, i.e. Docker's default hostname) looks for an ID that *starts with* the hostname, which avoids
picking a parent container's ID in nested setups. Pass 2 takes the first 64-character hit.
Detection is cheap and re-run on every render, as docker-gen does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

__all__ = ["DEFAULT_FILES", "MAX_LINE", "current_container_id"]

DEFAULT_FILES: tuple[str, ...] = ("/proc/1/cpuset", "/proc/self/cgroup", "/proc/self/mountinfo")

# A file with a line longer than this is ignored entirely (docker-gen's scanner limit).
MAX_LINE = 1 << 20

_HOSTNAME_RE = re.compile(rb"[A-Za-z0-9]{12}")
_MOUNTINFO_RE = re.compile(rb"[0-9]+ [0-9]+ [0-9]+:[0-9]+ /")
_ANY_ID = rb"[A-Za-z0-9]{64}"


def _patterns(id_re: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """(pattern for ordinary lines, pattern for mountinfo lines) for one ID expression."""
    plain = re.compile(b"(" + id_re + b")")
    mountinfo = re.compile(
        b"containers/(" + id_re + b")"
        b"|/(" + id_re + b")/(?:userdata/)?(?:hostname|hosts|resolv\\.conf)"
    )
    return plain, mountinfo


_PASS2 = _patterns(_ANY_ID)


def _read_lines(path: str) -> list[bytes]:
    """The file's lines (``\\n``-split, one trailing ``\\r`` dropped), or ``[]`` if unreadable/too long."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for line in lines:
        if len(line) > MAX_LINE:
            return []
        out.append(line[:-1] if line.endswith(b"\r") else line)
    return out


def _search(files: Sequence[list[bytes]], pats: tuple[re.Pattern[bytes], re.Pattern[bytes]]) -> str:
    plain, mountinfo = pats
    for lines in files:
        for line in lines:
            if _MOUNTINFO_RE.match(line):
                m = mountinfo.search(line)
                if m:
                    return (m.group(1) or m.group(2)).decode("ascii")
            else:
                m = plain.search(line)
                if m:
                    return m.group(1).decode("ascii")
    return ""


def current_container_id(hostname: str | None = None,
                         files: Iterable[str] = DEFAULT_FILES) -> str:
    """The 64-character ID of the container this process runs in, or ``""``.

    ``hostname`` defaults to ``$HOSTNAME`` (read at call time; pass ``""`` to skip pass 1).
    ``files`` are read in order; unreadable files contribute nothing.
    """
    if hostname is None:
        hostname = os.environ.get("HOSTNAME", "")
    contents = [_read_lines(p) for p in files]
    if hostname and hostname.isascii() and _HOSTNAME_RE.fullmatch(hostname.encode("ascii")):
        found = _search(contents, _patterns(hostname.encode("ascii") + rb"[A-Za-z0-9]{52}"))
        if found:
            return found
    return _search(contents, _PASS2)
