"""Service registration in etcd: what the script generated from ``templates/register.py.j2`` runs.

The template decides the *names* (registrator's conventions, in Jinja where users can read and
change them) and embeds the result as JSON; this module does the etcd side, the same way on
every run (each container change and each ``-interval`` tick of pygen):

``/backends/<service>/<container id, 12 chars>`` = ``HOST_IP:<host port>``
    One key per registration, attached to **one lease per host**. The lease ID is kept in a
    state file next to the script (``/tmp/register.py.lease``) and kept alive on every run; if
    it expired (pygen was down longer than the TTL), a new one is granted and every key is put
    again. A key is only written when its value or lease differ, so a refresh is one
    keep-alive and no watch event: etcd-gen (and haproxy) see a change only when something
    changed. Keys of this host whose container is gone are deleted at once, in the same
    transaction as the puts. If pygen or the whole host dies, the lease expires and etcd
    deletes every key of the host within the TTL.

``/backends/<service>/port`` = ``<container port>``
    Shared by every host that serves the service, so it must not belong to any one host. It
    carries a **per-service lease** that every serving host keeps alive on each run (any client
    may keep any lease alive). While one host still serves the service the key stays; when the
    last serving host dies, nobody refreshes the lease and the key expires within the TTL. A
    host that removes the last registration of a service deletes the key at once, but only in a
    transaction that checks nothing under the service changed since it read it (another host
    that just registered keeps it). When hosts disagree on the port, the key keeps its value
    (the first writer wins) and the others print a warning; a host that is alone in the
    service sets its own port.

Ownership: a registration key belongs to this host if it carries this host's lease, or if its
value starts with ``HOST_IP:`` (that also cleans up what a previous run left under a lease
whose state file was lost). Nothing else is ever deleted.

etcd v2 (``ETCD_API=v2``, the seed's etcd, python-etcd): the same layout with per-key TTLs.
An unchanged key gets a TTL refresh (``refresh=true``, no watch event) instead of a re-set;
ownership is by value prefix only; the port key is refreshed by every serving host.

Settings come from the environment (see ``settings_from_env``); ``main`` prints one line and
returns non-zero on failure, which pygen logs before carrying on.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

DEFAULT_PREFIX = "/backends"
DEFAULT_TTL = 15
DEFAULT_ENDPOINT = "http://127.0.0.1:2379"
DEFAULT_TIMEOUT = 3.0
PORT_LEAF = "port"
MAX_TXN_OPS = 128  # etcd's default --max-txn-ops

#: Service names and ids: one path segment that haproxy also accepts as a proxy / server name.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
PORT_RE = re.compile(r"[1-9][0-9]{0,4}\Z")
PREFIX_RE = re.compile(r"(/[A-Za-z0-9_.-]+)+\Z")


class RegistrationError(Exception):
    """A failure the operator must see: one line, no traceback."""


# ----------------------------------------------------------------------------- data model


@dataclass(frozen=True, slots=True, order=True)
class Registration:
    """One published port of one container, as named by the template."""

    service: str
    id: str
    port: str
    host_port: str
    container: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs besides the registrations."""

    host_ip: str
    prefix: str = DEFAULT_PREFIX
    ttl: int = DEFAULT_TTL
    endpoints: tuple[str, ...] = (DEFAULT_ENDPOINT,)
    api: str = "v3"
    state_file: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    cacert: str | None = None
    cert: str | None = None
    key: str | None = None
    user: str | None = None
    password: str | None = None


@dataclass(slots=True)
class Report:
    """What a run did (printed as one line with ``REGISTER_VERBOSE=1``, used by tests)."""

    put: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    lease: int = 0
    new_lease: bool = False
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lease = f" lease {self.lease:x}{' (new)' if self.new_lease else ''}" if self.lease else ""
        return (f"register: {len(self.put)} put, {len(self.deleted)} deleted, "
                f"{self.unchanged} unchanged{lease}")


def _one_line(text: Any) -> str:
    """Data in a message: JSON-quoted, so a newline or a quote in it cannot forge output lines."""
    return json.dumps(str(text))


def parse_registrations(data: Mapping[str, Any], warnings: list[str]) -> list[Registration]:
    """The template's JSON, validated again here: a hand-edited template must not be able to
    write outside ``<prefix>/<service>/``. Invalid entries are dropped with a warning."""
    out: list[Registration] = []
    seen: set[tuple[str, str]] = set()
    for skipped in data.get("skipped") or []:
        if isinstance(skipped, Mapping):
            warnings.append(
                f"skipped container {_one_line(skipped.get('container', ''))} port "
                f"{_one_line(skipped.get('port', ''))}: {skipped.get('reason', 'skipped')} "
                f"{_one_line(skipped.get('value', ''))}")
    for item in data.get("registrations") or []:
        if not isinstance(item, Mapping):
            warnings.append(f"ignored a registration that is not an object: {_one_line(item)}")
            continue
        fields = {name: str(item.get(name, "")) for name in ("service", "id", "port", "host_port", "container")}
        problem = (
            "invalid service name" if not NAME_RE.match(fields["service"])
            else "invalid id" if not NAME_RE.match(fields["id"]) or fields["id"] == PORT_LEAF
            else "invalid container port" if not PORT_RE.match(fields["port"]) or int(fields["port"]) > 65535
            else "invalid host port" if not PORT_RE.match(fields["host_port"]) or int(fields["host_port"]) > 65535
            else "duplicate" if (fields["service"], fields["id"]) in seen
            else ""
        )
        if problem:
            warnings.append(f"ignored registration {_one_line(json.dumps(fields, sort_keys=True))}: {problem}")
            continue
        seen.add((fields["service"], fields["id"]))
        out.append(Registration(**fields))
    return sorted(out)


# ----------------------------------------------------------------------------- settings


def _endpoints_from_env(environ: Mapping[str, str]) -> tuple[str, ...]:
    """etcd-gen's rule (pygen.etcd.connect): ETCD_ENDPOINTS, else ETCD_HOST, else 127.0.0.1:2379."""
    from pygen.etcd.connect import default_endpoints
    from pygen.etcd.endpoints import parse_endpoint

    scheme = "https" if environ.get("ETCD_CACERT") or environ.get("ETCD_CERT") else "http"
    try:
        return tuple(parse_endpoint(text, scheme).url for text in default_endpoints(environ))
    except ValueError as error:
        raise RegistrationError(f"ETCD_ENDPOINTS/ETCD_HOST: {error}") from None


def _credentials(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """ETCD_USER as name:password, or ETCD_USER and ETCD_PASSWORD (as etcd-gen reads them)."""
    text = environ.get("ETCD_USER", "")
    if not text:
        return None, None
    name, sep, password = text.partition(":")
    return name, password if sep else environ.get("ETCD_PASSWORD", "")


def settings_from_env(environ: Mapping[str, str], script_path: str | os.PathLike[str] | None) -> Settings:
    """Read the settings; a missing or bad one is a RegistrationError naming the variable.

    ``HOST_IP`` (required): the IPv4 address other hosts reach this host's published ports on.
    ``REGISTER_PREFIX`` (``/backends``), ``REGISTER_TTL`` (15 s; keep it above pygen's
    ``-interval`` plus a few seconds), ``ETCD_ENDPOINTS`` (``http://a:2379,http://b:2379``) or
    the seed's ``ETCD_HOST`` (``host:port``), ``ETCD_API`` (``v3``, or ``v2`` for python-etcd
    and TTL keys), ``REGISTER_STATE_FILE`` (default ``<script>.lease``), ``REGISTER_TIMEOUT``
    (3 s per request), ``ETCD_CACERT``/``ETCD_CERT``/``ETCD_KEY``, ``ETCD_USER`` (``name:password``, or with
    ``ETCD_PASSWORD``).
    """
    host_ip = environ.get("HOST_IP", "").strip()
    if not host_ip:
        raise RegistrationError("HOST_IP is not set: set it to the IPv4 address other hosts reach "
                                "this host's published ports on (e.g. HOST_IP=10.0.0.5)")
    try:
        address = ipaddress.IPv4Address(host_ip)
    except ValueError:
        raise RegistrationError(f"HOST_IP={_one_line(host_ip)} is not an IPv4 address") from None
    if address.is_unspecified:
        raise RegistrationError("HOST_IP=0.0.0.0 cannot be reached by other hosts; give this host's address")
    prefix = environ.get("REGISTER_PREFIX", "").strip() or DEFAULT_PREFIX
    prefix = prefix.rstrip("/") or "/"
    if not PREFIX_RE.match(prefix):
        raise RegistrationError(f"REGISTER_PREFIX={_one_line(prefix)} must look like /backends "
                                "(path segments of letters, digits, '_', '.', '-')")
    ttl_text = environ.get("REGISTER_TTL", "").strip() or str(DEFAULT_TTL)
    if not ttl_text.isdigit() or not 2 <= int(ttl_text) <= 86400:
        raise RegistrationError(f"REGISTER_TTL={_one_line(ttl_text)} must be a number of seconds from 2 to 86400")
    api = (environ.get("ETCD_API", "").strip() or "v3").lower()
    if api in ("3", "2"):
        api = "v" + api
    if api not in ("v3", "v2"):
        raise RegistrationError(f"ETCD_API={_one_line(api)} must be v3 or v2")
    timeout_text = environ.get("REGISTER_TIMEOUT", "").strip() or str(DEFAULT_TIMEOUT)
    try:
        timeout = float(timeout_text)
    except ValueError:
        raise RegistrationError(f"REGISTER_TIMEOUT={_one_line(timeout_text)} is not a number") from None
    user, password = _credentials(environ)
    state = environ.get("REGISTER_STATE_FILE", "").strip()
    state_file = Path(state) if state else (Path(f"{script_path}.lease") if script_path else None)
    return Settings(
        host_ip=str(address), prefix=prefix, ttl=int(ttl_text), endpoints=_endpoints_from_env(environ),
        api=api, state_file=state_file, timeout=timeout,
        cacert=environ.get("ETCD_CACERT") or None, cert=environ.get("ETCD_CERT") or None,
        key=environ.get("ETCD_KEY") or None, user=user, password=password,
    )


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class Entry:
    """A key under the prefix as read from etcd."""

    value: str
    lease: int = 0
    mod_revision: int = 0


def _layout(prefix: str, key: str) -> tuple[str, str] | None:
    """``<prefix>/<service>/<leaf>`` -> (service, leaf); anything else -> None (never touched)."""
    if not key.startswith(prefix + "/"):
        return None
    parts = key[len(prefix) + 1:].split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def desired_state(registrations: Iterable[Registration], settings: Settings,
                  warnings: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(registration key -> value, service -> container port) for this host.

    Two registrations of one service with different container ports (two images under one
    SERVICE_NAME) cannot share one listener port: the lowest port is announced, with a warning.
    """
    keys: dict[str, str] = {}
    ports: dict[str, set[int]] = {}
    for reg in registrations:
        keys[f"{settings.prefix}/{reg.service}/{reg.id}"] = f"{settings.host_ip}:{reg.host_port}"
        ports.setdefault(reg.service, set()).add(int(reg.port))
    chosen: dict[str, str] = {}
    for service, found in sorted(ports.items()):
        if len(found) > 1:
            warnings.append(f"service {service}: containers publish different container ports "
                            f"{sorted(found)}; announcing port {min(found)}")
        chosen[service] = str(min(found))
    return keys, chosen


def owned(settings: Settings, entry: Entry, lease: int) -> bool:
    """Is a registration key this host's? Its lease, or (v2, lost state file) its value."""
    return (lease != 0 and entry.lease == lease) or entry.value.startswith(settings.host_ip + ":")


# ----------------------------------------------------------------------------- etcd v3


class _V3:
    """The few v3 calls a run needs, through pygen.etcd.v3's client (failover, TLS, auth)."""

    def __init__(self, settings: Settings) -> None:
        from pygen.etcd.v3 import EtcdV3Client

        self.client = EtcdV3Client(list(settings.endpoints), cacert=settings.cacert, cert=settings.cert,
                                   key=settings.key, user=settings.user, password=settings.password,
                                   timeout=settings.timeout, connect_timeout=min(settings.timeout, 2.0))

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.post(path, body)

    def keepalive(self, lease: int) -> int:
        """Remaining TTL after a keep-alive; 0 or less when the lease no longer exists."""
        body = self.post("/lease/keepalive", {"ID": lease})
        result = body.get("result", body)
        return int(result.get("TTL") or 0)

    def grant(self, ttl: int) -> int:
        body = self.post("/lease/grant", {"TTL": ttl, "ID": 0})
        if body.get("error"):
            raise RegistrationError(f"etcd refused a lease: {body['error']}")
        return int(body["ID"])

    def read(self, prefix: str) -> tuple[int, dict[str, Entry]]:
        from pygen.etcd.keys import range_end, to_bytes
        from pygen.etcd.v3 import b64, unb64

        raw = to_bytes(prefix + "/")
        body = self.post("/kv/range", {"key": b64(raw), "range_end": b64(range_end(raw))})
        entries = {}
        for item in body.get("kvs") or []:
            key = unb64(item.get("key")).decode("utf-8", "surrogateescape")
            value = unb64(item.get("value")).decode("utf-8", "replace")
            entries[key] = Entry(value, int(item.get("lease") or 0), int(item.get("mod_revision") or 0))
        return int(body["header"]["revision"]), entries

    def txn(self, ops: list[dict[str, Any]], compare: list[dict[str, Any]] | None = None) -> bool:
        """Run ``ops`` atomically (in chunks of MAX_TXN_OPS when there is no compare)."""
        if compare:
            return bool(self.post("/kv/txn", {"compare": compare, "success": ops}).get("succeeded"))
        for start in range(0, len(ops), MAX_TXN_OPS):
            self.post("/kv/txn", {"success": ops[start:start + MAX_TXN_OPS]})
        return True


def _put_op(key: str, value: str, lease: int) -> dict[str, Any]:
    from pygen.etcd.v3 import b64

    op: dict[str, Any] = {"key": b64(key.encode("utf-8", "surrogateescape")), "value": b64(value.encode())}
    if lease:
        op["lease"] = lease
    return {"request_put": op}


def _delete_op(key: str) -> dict[str, Any]:
    from pygen.etcd.v3 import b64

    return {"request_delete_range": {"key": b64(key.encode("utf-8", "surrogateescape"))}}


def _unchanged_since(prefix: str, revision: int) -> dict[str, Any]:
    """A txn compare that holds when no key under ``prefix`` was created or modified after
    ``revision`` (etcd >= 3.3 compares every key of a range; an empty range holds too)."""
    from pygen.etcd.keys import range_end, to_bytes
    from pygen.etcd.v3 import b64

    raw = to_bytes(prefix)
    return {"key": b64(raw), "range_end": b64(range_end(raw)), "target": "MOD", "result": "LESS",
            "mod_revision": revision + 1}


def _read_state(path: Path | None, ttl: int) -> int:
    """The saved lease ID; 0 when there is none or it was granted with another TTL (a changed
    REGISTER_TTL takes effect at once: the keys move to a new lease, the old one runs out)."""
    if path is None:
        return 0
    try:
        state = json.loads(path.read_text())
        return int(state["lease"]) if int(state.get("ttl", ttl)) == ttl else 0
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return 0


def _write_state(path: Path, lease: int, settings: Settings) -> None:
    """Atomically (temp file + rename), so a crash mid-write never loses the lease ID."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"lease": lease, "ttl": settings.ttl, "host_ip": settings.host_ip,
                       "endpoints": list(settings.endpoints)}, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def host_lease(etcd: _V3, settings: Settings, report: Report) -> int:
    """This host's lease: the stored one kept alive, or a new one (saved) if it expired."""
    lease = _read_state(settings.state_file, settings.ttl)
    if lease and etcd.keepalive(lease) > 0:
        report.lease = lease
        return lease
    lease = etcd.grant(settings.ttl)
    report.lease, report.new_lease = lease, True
    if settings.state_file is None:
        report.warnings.append("no state file: a new lease on every run (pass the script path)")
        return lease
    try:
        _write_state(settings.state_file, lease, settings)
    except OSError as error:
        # Registering still works (with a new lease and a re-put of every key each run), so do
        # the work and fail the run afterwards, which makes pygen log it.
        report.warnings.append(f"cannot save the lease in {settings.state_file}: {error.strerror or error}")
        raise _StateNotSaved(str(settings.state_file)) from None
    return lease


class _StateNotSaved(Exception):
    pass


def sync_v3(registrations: Sequence[Registration], settings: Settings, etcd: _V3 | None = None) -> Report:
    """Make etcd hold exactly this host's registrations (see the module docstring)."""
    report = Report()
    etcd = etcd or _V3(settings)
    state_error: str | None = None
    try:
        lease = host_lease(etcd, settings, report)
    except _StateNotSaved as error:
        lease, state_error = report.lease, str(error)
    wanted, ports = desired_state(registrations, settings, report.warnings)
    revision, entries = etcd.read(settings.prefix)

    ops: list[dict[str, Any]] = []
    for key, value in sorted(wanted.items()):
        entry = entries.get(key)
        if entry is not None and entry.value == value and entry.lease == lease:
            report.unchanged += 1
            continue
        ops.append(_put_op(key, value, lease))
        report.put.append(key)

    # registrations of this host whose container is gone, and what the services hold after
    deleted: set[str] = set()
    services: dict[str, list[tuple[str, Entry]]] = {}
    for key, entry in sorted(entries.items()):
        place = _layout(settings.prefix, key)
        if place is None or place[1] == PORT_LEAF:
            continue
        services.setdefault(place[0], []).append((key, entry))
        if key not in wanted and owned(settings, entry, lease):
            ops.append(_delete_op(key))
            deleted.add(key)
            report.deleted.append(key)

    for service, port in sorted(ports.items()):
        port_key = f"{settings.prefix}/{service}/{PORT_LEAF}"
        current = entries.get(port_key)
        others = [key for key, entry in services.get(service, []) if not owned(settings, entry, lease)]
        if current is not None and current.value != port and others:
            report.warnings.append(
                f"service {service}: {port_key} is {_one_line(current.value)} (set by another host), "
                f"this host's containers listen on {port}; keeping {_one_line(current.value)}")
        if current is not None and current.lease and etcd.keepalive(current.lease) > 0:
            if current.value != port and not others:
                ops.append(_put_op(port_key, port, current.lease))
                report.put.append(port_key)
            else:
                report.unchanged += 1
            continue
        if current is not None and current.value != port and others:
            continue  # another host's port without a live lease: theirs to renew
        # missing, expired or without a lease: a new per-service lease that all servers renew
        ops.append(_put_op(port_key, port, etcd.grant(settings.ttl)))
        report.put.append(port_key)

    etcd.txn(ops)

    # services this host no longer serves and nobody else does: drop the port key now, unless
    # something under the service changed since the read (a host registering right now)
    for service, held in sorted(services.items()):
        if service in ports or not held or any(key not in deleted for key, _ in held):
            continue
        port_key = f"{settings.prefix}/{service}/{PORT_LEAF}"
        if port_key not in entries:
            continue
        if etcd.txn([_delete_op(port_key)], compare=[_unchanged_since(f"{settings.prefix}/{service}/", revision)]):
            report.deleted.append(port_key)
    if state_error:
        raise RegistrationError(
            f"registered, but cannot save the lease ID in {state_error}: every run now takes a new "
            "lease and rewrites every key; make its directory writable or set REGISTER_STATE_FILE")
    return report


# ----------------------------------------------------------------------------- etcd v2


def _v2_client(settings: Settings) -> Any:
    import logging

    import etcd

    from pygen.etcd.endpoints import parse_endpoint

    logging.getLogger("etcd").setLevel(logging.CRITICAL)  # it logs every failure at ERROR
    endpoints = [parse_endpoint(url) for url in settings.endpoints]
    hosts = tuple((e.host, e.port) for e in endpoints)
    try:
        return etcd.Client(host=hosts if len(hosts) > 1 else hosts[0][0],
                           port=hosts[0][1], protocol=endpoints[0].scheme,
                           allow_reconnect=len(hosts) > 1, read_timeout=settings.timeout,
                           ca_cert=settings.cacert,
                           cert=(settings.cert, settings.key) if settings.cert and settings.key else None,
                           username=settings.user, password=settings.password)
    except etcd.EtcdException as error:
        raise RegistrationError(f"etcd v2 unavailable at {', '.join(settings.endpoints)}: {error}") from None


def sync_v2(registrations: Sequence[Registration], settings: Settings, client: Any = None) -> Report:
    """The v2 flavour: TTL keys; unchanged keys get a TTL refresh, which wakes no watcher."""
    import etcd

    report = Report()
    client = client or _v2_client(settings)
    wanted, ports = desired_state(registrations, settings, report.warnings)
    try:
        try:
            result = client.read(settings.prefix, recursive=True, quorum=True)
            entries = {node.key: (node.value or "", int(node.modifiedIndex or 0))
                       for node in result.leaves if not node.dir and node.key}
        except etcd.EtcdKeyNotFound:
            entries = {}

        def put(key: str, value: str) -> None:
            current = entries.get(key)
            if current is not None and current[0] == value:
                try:
                    client.refresh(key, ttl=settings.ttl, prevExist=True)
                    report.unchanged += 1
                    return
                except etcd.EtcdKeyNotFound:
                    pass  # expired since the read
            client.write(key, value, ttl=settings.ttl)
            report.put.append(key)

        for key, value in sorted(wanted.items()):
            put(key, value)
        services: dict[str, list[tuple[str, str]]] = {}
        deleted: set[str] = set()
        for key, (value, _) in sorted(entries.items()):
            place = _layout(settings.prefix, key)
            if place is None or place[1] == PORT_LEAF:
                continue
            services.setdefault(place[0], []).append((key, value))
            if key not in wanted and value.startswith(settings.host_ip + ":"):
                try:
                    client.delete(key)
                except etcd.EtcdKeyNotFound:
                    pass
                deleted.add(key)
                report.deleted.append(key)
        for service, port in sorted(ports.items()):
            port_key = f"{settings.prefix}/{service}/{PORT_LEAF}"
            current = entries.get(port_key)
            others = [key for key, value in services.get(service, [])
                      if not value.startswith(settings.host_ip + ":")]
            if current is not None and current[0] != port and others:
                report.warnings.append(
                    f"service {service}: {port_key} is {_one_line(current[0])} (set by another host), "
                    f"this host's containers listen on {port}; keeping {_one_line(current[0])}")
                put(port_key, current[0])
            else:
                put(port_key, port)
        for service, held in sorted(services.items()):
            port_key = f"{settings.prefix}/{service}/{PORT_LEAF}"
            if service in ports or port_key not in entries or any(key not in deleted for key, _ in held):
                continue
            try:  # v2 cannot check the whole directory: compare-and-delete on the key itself
                client.delete(port_key, prevIndex=entries[port_key][1])
                report.deleted.append(port_key)
            except (etcd.EtcdCompareFailed, etcd.EtcdKeyNotFound):
                pass
    except etcd.EtcdException as error:
        first = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise RegistrationError(f"etcd v2 at {', '.join(settings.endpoints)}: {first}") from None
    return report


# ----------------------------------------------------------------------------- entry points


def sync(registrations: Sequence[Registration], settings: Settings) -> Report:
    """One registration run with the API the settings name."""
    if settings.api == "v2":
        return sync_v2(registrations, settings)
    return sync_v3(registrations, settings)


def main(data: Mapping[str, Any], script_path: str | None = None,
         environ: Mapping[str, str] | None = None, stderr: TextIO | None = None) -> int:
    """Run by the generated script: 0 on success, 1 with one line on stderr on failure.

    Warnings (skipped containers, port disagreements) are printed too but do not fail the run;
    pygen shows them with ``-notify-output``. ``REGISTER_VERBOSE=1`` adds a summary line.
    """
    environ = os.environ if environ is None else environ
    stderr = sys.stderr if stderr is None else stderr
    warnings: list[str] = []
    try:
        settings = settings_from_env(environ, script_path)
        registrations = parse_registrations(data, warnings)
        report = sync(registrations, settings)
    except RegistrationError as error:
        for line in warnings:
            print(f"register: warning: {line}", file=stderr)
        print(f"register: {error}", file=stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one line for pygen's log, not a traceback
        from pygen.etcd.store import StoreError

        text = str(error).splitlines()[0][:300] if str(error) else ""
        if not isinstance(error, StoreError):  # etcd's own errors read well; others need their type
            text = f"{type(error).__name__}: {text}" if text else type(error).__name__
        print(f"register: {text}", file=stderr)
        return 1
    for line in warnings + report.warnings:
        print(f"register: warning: {line}", file=stderr)
    if environ.get("REGISTER_VERBOSE", "") not in ("", "0", "false"):
        print(report.summary(), file=stderr)
    return 0
