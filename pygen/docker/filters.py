"""Docker's ``GET /containers/json`` filters, evaluated locally on inspect dicts.

pygen keeps every container's inspect data up to date from events, so it can answer docker-gen's
per-render "list with filters" without asking the daemon, as long as the answer is exactly the
daemon's. The rules below were checked against a real dockerd 20.10 (API 1.41) with
``docker ps -a --filter ...`` (see ``tests/unit/test_filters.py``); several differ from what the
docs suggest:

* ``id``: a *unique* prefix of the full ID (the daemon's truncindex): an empty value or a prefix that
  matches several containers (among **all** containers, not just the listed ones) matches nothing.
  Not a regex, not a substring.
* ``name``: Go regex *search* on the name, tried with and without the leading ``/``; an exact string
  match also counts; an invalid regex matches nothing; case-sensitive.
* ``expose``: the container ports that are keys of ``NetworkSettings.Ports`` (not
  ``Config.ExposedPorts``): a stopped, created, ``--net host``/``none`` or internal-network-only
  container exposes nothing.
* ``publish``: the **host** port of each binding in ``NetworkSettings.Ports`` with the container
  port's protocol (``publish=32768`` matches ``8000/tcp -> 0.0.0.0:32768``, ``publish=8000`` does
  not); a port with no binding counts as host port ``0``, so ``publish=0`` matches it.
* ``expose``/``publish`` values: ``80``, ``80/udp``, ``8000-8100/tcp``; the protocol is
  case-sensitive, leading zeros are fine, ``:`` or a bad number is a daemon error.
* ``exited``: ``State.ExitCode`` for containers that are not running and were started at least once
  (a ``created`` container has exit code 0 but never matches).
* ``health``: ``none`` when ``State.Health`` is absent (no healthcheck, or never started); a stopped
  container with a healthcheck is ``unhealthy``.
* ``network``: exact network name (a key of ``NetworkSettings.Networks``) or a prefix of an
  endpoint's ``NetworkID``; a never-started container has empty NetworkIDs so only the name works.
* ``volume``: a mount's destination, or its ``Name`` (``Source`` for bind mounts); tmpfs is not a
  mount.
* ``is-task``: ``true``/``false``; when both are given, ``true`` wins.
* A key given with an **empty list** of values: no filtering, except ``volume``/``network`` (match
  nothing) and ``is-task`` (acts as ``true``), as the daemon does.

Values of one key are OR'ed (``label``: AND); keys are AND'ed. Keys pygen cannot evaluate locally
(``ancestor``, ``before``, ``since``, ``isolation``, unknown keys) raise ``UnsupportedFilter``; a
value the daemon would reject raises ``InvalidFilter`` (a subclass), so in both cases the caller
falls back to the daemon, which then applies or reports it with its own message.

Known limits: ``is-task`` uses the ``com.docker.swarm.task`` label as the swarm "managed" flag (the
flag itself is not in inspect data); ``id`` ambiguity is only detected when the caller passes the
IDs of all containers (``known_ids``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "DAEMON_ONLY_KEYS",
    "SUPPORTED_KEYS",
    "ContainerFilter",
    "InvalidFilter",
    "UnsupportedFilter",
    "compile_filters",
    "container_matches",
    "parse_port_filter",
]

SUPPORTED_KEYS = frozenset(
    {"status", "label", "name", "id", "expose", "publish", "network", "health", "exited",
     "volume", "is-task"}
)
DAEMON_ONLY_KEYS = frozenset({"ancestor", "before", "since", "isolation"})

VALID_STATUS = frozenset({"created", "running", "paused", "restarting", "removing", "exited", "dead"})
VALID_HEALTH = frozenset({"starting", "healthy", "unhealthy", "none"})

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_ZERO_TIME = "0001-01-01T00:00:00Z"
_UINT_RE = re.compile(r"[0-9]+")
_ATOI_RE = re.compile(r"[+-]?[0-9]+")


class UnsupportedFilter(Exception):
    """This filter cannot be evaluated locally: ask the daemon instead."""

    def __init__(self, key: str, reason: str | None = None) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"filter {key!r} not supported locally" + (f": {reason}" if reason else ""))


class InvalidFilter(UnsupportedFilter):
    """The daemon would reject this filter value; let it produce the user-facing error."""


# ----------------------------------------------------------------------------------- parsing
def _parse_uint16(s: str) -> int | None:
    """Go ``strconv.ParseUint(s, 10, 16)``: ASCII digits only, 0..65535, else ``None``."""
    if not s or not _UINT_RE.fullmatch(s):
        return None
    v = int(s)
    return v if v <= 0xFFFF else None


def _split_proto_port(raw: str) -> tuple[str, str]:
    """docker/go-connections ``nat.SplitProtoPort``: ``"80"`` -> ``("tcp", "80")``."""
    parts = raw.split("/")
    if not raw or not parts[0]:
        return "", ""
    if len(parts) == 1 or not parts[1]:
        return "tcp", parts[0]
    return parts[1], parts[0]


def parse_port_filter(key: str, value: str) -> tuple[int, int, str]:
    """An ``expose``/``publish`` value -> ``(start, end, proto)``, with the daemon's validation.

    Raises ``InvalidFilter`` where dockerd answers 400.
    """
    if ":" in value:
        raise InvalidFilter(key, f"filter for '{key}' should not contain ':': {value}")
    proto, port = _split_proto_port(value)
    if not port:
        raise InvalidFilter(key, f"empty port in {value!r}")
    if "-" not in port:
        start = _parse_uint16(port)
        if start is None:
            raise InvalidFilter(key, f"bad port {value!r}")
        return start, start, proto
    parts = port.split("-")
    start, end = _parse_uint16(parts[0]), _parse_uint16(parts[1])
    if start is None or end is None or end < start:
        raise InvalidFilter(key, f"bad port range {value!r}")
    return start, end, proto


def _port_key(key: str) -> tuple[int, str] | None:
    """A ``NetworkSettings.Ports`` key -> ``(port, proto)`` as the daemon's list snapshot parses it."""
    proto, port = _split_proto_port(key)
    if not port:
        return (0, proto)
    p = _parse_uint16(port)
    return None if p is None else (p, proto)


# Go RE2 and Python ``re`` agree on the common subset; anything outside it goes to the daemon.
_ESCAPE_OK = set("dDwWsSbB")


def _compile_go_regex(pattern: str) -> re.Pattern[str] | None:
    """Compile a Go regexp that means the same in Python, ``None`` if Go would reject it too.

    Raises ``UnsupportedFilter`` for constructs whose meaning differs between the two engines
    (group flags, POSIX classes, ``\\A``/``\\z``, ``{,n}``, possessive quantifiers, ...).
    """
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1] if i + 1 < n else ""
            if nxt.isalnum() and nxt not in _ESCAPE_OK:
                raise UnsupportedFilter("name", f"regex escape \\{nxt}")
            i += 2
            continue
        if c == "(" and pattern.startswith("(?", i):
            raise UnsupportedFilter("name", "regex group flags")
        if c == "[" and pattern.startswith("[:", i + 1):
            raise UnsupportedFilter("name", "POSIX class")
        if c == "{" and pattern.startswith("{,", i):
            raise UnsupportedFilter("name", "{,n} quantifier")
        if c in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise UnsupportedFilter("name", "possessive quantifier")
        i += 1
    try:
        return re.compile(pattern, re.ASCII)
    except (re.error, RecursionError, OverflowError):
        return None


def _atoi(value: str) -> int:
    if not _ATOI_RE.fullmatch(value):
        raise InvalidFilter("exited", f"strconv.Atoi: parsing {value!r}: invalid syntax")
    v = int(value)
    if not -(1 << 63) <= v < (1 << 63):
        raise InvalidFilter("exited", f"strconv.Atoi: parsing {value!r}: value out of range")
    return v


# ----------------------------------------------------------------------------------- evaluation
Predicate = Callable[[Mapping[str, Any]], bool]


def _config(inspect: Mapping[str, Any]) -> Mapping[str, Any]:
    return inspect.get("Config") or _EMPTY


def _ns(inspect: Mapping[str, Any]) -> Mapping[str, Any]:
    return inspect.get("NetworkSettings") or _EMPTY


def _state(inspect: Mapping[str, Any]) -> Mapping[str, Any]:
    return inspect.get("State") or _EMPTY


def _port_sets(inspect: Mapping[str, Any]) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(exposed, published) as ``(port, proto)`` sets, built like dockerd's list snapshot."""
    exposed: set[tuple[int, str]] = set()
    published: set[tuple[int, str]] = set()
    ports = _ns(inspect).get("Ports") or _EMPTY
    for key, bindings in ports.items():
        parsed = _port_key(key)
        if parsed is None:
            continue
        exposed.add(parsed)
        proto = parsed[1]
        if not bindings:
            published.add((0, proto))
            continue
        for b in bindings:
            host = (b or _EMPTY).get("HostPort") or ""
            h = 0 if host == "" else _parse_uint16(host)
            if h is not None:
                published.add((h, proto))
    return exposed, published


def _port_predicate(ranges: list[tuple[int, int, str]], published: bool) -> Predicate:
    def pred(inspect: Mapping[str, Any]) -> bool:
        sets = _port_sets(inspect)
        ports = sets[1] if published else sets[0]
        for port, proto in ports:
            for start, end, fproto in ranges:
                if proto == fproto and start <= port <= end:
                    return True
        return False

    return pred


class ContainerFilter:
    """A validated, pre-compiled filter set; call it with an inspect dict.

    Compile once per render (regexes, port ranges, resolved ID prefixes) and apply it to every
    container: this is what keeps local filtering cheap for hundreds of containers.
    """

    __slots__ = ("_preds", "filters")

    def __init__(self, filters: Mapping[str, list[str]], preds: list[Predicate]) -> None:
        self.filters = filters
        self._preds = preds

    def __call__(self, inspect: Mapping[str, Any]) -> bool:
        for pred in self._preds:
            if not pred(inspect):
                return False
        return True

    def __repr__(self) -> str:
        return f"ContainerFilter({dict(self.filters)!r})"


def compile_filters(filters: Mapping[str, Iterable[str]] | None,
                    known_ids: Collection[str] | None = None) -> ContainerFilter:
    """Validate ``filters`` like dockerd does and build a predicate over inspect dicts.

    ``known_ids``: full IDs of *all* containers the daemon knows, used to reject ambiguous ``id``
    prefixes as the daemon does; without it any matching prefix counts.
    Raises ``UnsupportedFilter`` / ``InvalidFilter`` (see module doc).
    """
    norm: dict[str, list[str]] = {}
    for key, values in (filters or {}).items():
        if isinstance(values, str):
            values = [values]
        norm[key] = list(dict.fromkeys(values))  # the daemon keeps a set of values per key
    for key in norm:
        if key in DAEMON_ONLY_KEYS:
            raise UnsupportedFilter(key)
        if key not in SUPPORTED_KEYS:
            raise InvalidFilter(key, f"Invalid filter '{key}'")

    preds: list[Predicate] = []

    # status / health: exact values, validated up front like the daemon does.
    if norm.get("status"):
        wanted = set(norm["status"])
        bad = wanted - VALID_STATUS
        if bad:
            raise InvalidFilter("status", f"Invalid filter 'status={min(bad)}'")
        preds.append(lambda i, w=frozenset(wanted): _state(i).get("Status", "") in w)
    if norm.get("health"):
        wanted = set(norm["health"])
        bad = wanted - VALID_HEALTH
        if bad:
            raise InvalidFilter("health", f"Unrecognised filter value for health: {min(bad)}")

        def health_pred(i: Mapping[str, Any], w: frozenset[str] = frozenset(wanted)) -> bool:
            h = _state(i).get("Health")
            return (h.get("Status", "") if h else "none") in w

        preds.append(health_pred)

    if "is-task" in norm:
        vals = norm["is-task"]
        if not vals or "true" in vals:
            want_task = True
        elif "false" in vals:
            want_task = False
        else:
            raise InvalidFilter("is-task", f"Invalid filter 'is-task={vals}'")
        preds.append(lambda i, w=want_task: ("com.docker.swarm.task" in (_config(i).get("Labels")
                                                                          or _EMPTY)) == w)

    if norm.get("exited"):
        codes = frozenset(_atoi(v) for v in norm["exited"])

        def exited_pred(i: Mapping[str, Any], codes: frozenset[int] = codes) -> bool:
            st = _state(i)
            started = st.get("StartedAt") or _ZERO_TIME
            return (st.get("ExitCode", 0) in codes and not st.get("Running")
                    and not started.startswith(_ZERO_TIME[:19]))

        preds.append(exited_pred)

    if norm.get("label"):
        tests = [(k, v if sep else None) for k, sep, v in (s.partition("=") for s in norm["label"])]

        def label_pred(i: Mapping[str, Any], tests: list[tuple[str, str | None]] = tests) -> bool:
            labels = _config(i).get("Labels") or _EMPTY
            if not labels:
                return False
            for k, v in tests:
                if k not in labels or (v is not None and labels[k] != v):
                    return False
            return True

        preds.append(label_pred)

    if norm.get("id"):
        prefixes = norm["id"]
        if known_ids is not None:
            allowed: set[str] = set()
            for p in prefixes:
                if not p:
                    continue
                hits = [cid for cid in known_ids if cid.startswith(p)]
                if len(hits) == 1:
                    allowed.add(hits[0])
            preds.append(lambda i, a=frozenset(allowed): (i.get("Id") or "") in a)
        else:
            nonempty = tuple(p for p in prefixes if p)
            preds.append(lambda i, ps=nonempty: bool(ps) and (i.get("Id") or "").startswith(ps))

    if norm.get("name"):
        exact = frozenset(norm["name"])
        regexes = [r for r in (_compile_go_regex(v) for v in norm["name"]) if r is not None]

        def name_pred(i: Mapping[str, Any]) -> bool:
            name = i.get("Name") or ""
            bare = name.removeprefix("/")
            if name in exact or bare in exact:
                return True
            for r in regexes:
                if r.search(name) or r.search(bare):
                    return True
            return False

        preds.append(name_pred)

    for key in ("expose", "publish"):
        if norm.get(key):
            ranges = [parse_port_filter(key, v) for v in norm[key]]
            preds.append(_port_predicate(ranges, key == "publish"))

    if "network" in norm:
        nets = norm["network"]

        def network_pred(i: Mapping[str, Any], nets: list[str] = nets) -> bool:
            networks = _ns(i).get("Networks") or _EMPTY
            for value in nets:
                if value in networks:
                    return True
                for ep in networks.values():
                    if ep is not None and (ep.get("NetworkID") or "").startswith(value):
                        return True
            return False

        preds.append(network_pred)

    if "volume" in norm:
        vols = norm["volume"]

        def volume_pred(i: Mapping[str, Any], vols: list[str] = vols) -> bool:
            names: set[str] = set()
            dests: set[str] = set()
            for m in i.get("Mounts") or ():
                if not m:
                    continue
                names.add(m.get("Name") or m.get("Source") or "")
                if m.get("Destination"):
                    dests.add(m["Destination"])
            return any(v in dests or v in names for v in vols)

        preds.append(volume_pred)

    return ContainerFilter(norm, preds)


def container_matches(inspect: Mapping[str, Any], filters: Mapping[str, Iterable[str]] | None,
                      known_ids: Collection[str] | None = None) -> bool:
    """True iff dockerd's list with ``filters`` would include this container.

    Convenience wrapper: compiles ``filters`` on every call; use ``compile_filters`` for many
    containers.
    """
    return compile_filters(filters, known_ids)(inspect)
