"""docker-gen's template context model, built from Docker inspect data.

Templates ported from docker-gen address these objects by Go field name (``.Addresses``,
``$network.IP``, ``.State.Health.Status``) and debug templates dump them with ``json``; so every class
here uses docker-gen's exact field names **and field order** (Go's JSON encoder writes struct fields
in declaration order), and ``container_from_inspect`` reproduces every rule of spec §5.2, including
the quirks (legacy top-level IP fields, ``Ports`` winning over ``ExposedPorts``, Go-nil ``Mounts``).

Go-nil slices/maps that must print as JSON ``null`` but iterate as empty are ``NilList``/``NilDict``.

Performance: a render of 500 containers builds 500 of these, so the classes are ``slots=True``
dataclasses built positionally, and nothing is deep-copied (maps and lists are shallow copies, so a
template that mutates ``Labels`` cannot corrupt a cached inspect dict).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pygen.docker.gotime import GoTime, parse_go_time
from pygen.docker.imagename import DockerImage, split_image_name
from pygen.functions.gojson import NilDict, NilList

__all__ = [
    "Address",
    "Device",
    "DockerImage",
    "DockerInfo",
    "Health",
    "Mount",
    "Network",
    "NodeAddress",
    "RuntimeContainer",
    "State",
    "SwarmNode",
    "Volume",
    "container_from_inspect",
    "docker_info_from",
    "internal_network_names",
    "raw_inspect",
    "sort_addresses",
    "sort_networks",
    "split_env",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(slots=True)
class Address:
    """One port of a container (Go ``context.Address``).

    ``IP``/``IP6LinkLocal``/``IP6Global`` are the *legacy top-level* NetworkSettings fields, which
    are only filled for the default bridge network: that is docker-gen's behaviour, kept on purpose.
    """

    IP: str = ""
    IP6LinkLocal: str = ""
    IP6Global: str = ""
    Port: str = ""
    HostPort: str = ""
    Proto: str = ""
    HostIP: str = ""


# docker-gen's SwarmNode.Address is a full ``context.Address`` with only ``IP`` set, so its JSON
# carries all seven Address keys. ``NodeAddress`` is kept as a name for that same type.
NodeAddress = Address


@dataclass(slots=True)
class Network:
    """One entry of ``NetworkSettings.Networks`` (Go ``context.Network``)."""

    IP: str = ""
    Name: str = ""
    Aliases: list[str] = field(default_factory=list)
    Gateway: str = ""
    EndpointID: str = ""
    IPv6Gateway: str = ""
    GlobalIPv6Address: str = ""
    MacAddress: str = ""
    GlobalIPv6PrefixLen: int = 0
    IPPrefixLen: int = 0
    Internal: bool = False


@dataclass(slots=True)
class Volume:
    """Legacy ``.Volumes``/``.VolumesRW`` entry; always absent on engines with API >= 1.21."""

    Path: str = ""
    HostPath: str = ""
    ReadWrite: bool = False


@dataclass(slots=True)
class Mount:
    """One ``.Mounts`` entry. docker-gen does not expose ``Type`` or ``Propagation``."""

    Name: str = ""
    Source: str = ""
    Destination: str = ""
    Driver: str = ""
    Mode: str = ""
    RW: bool = False


@dataclass(slots=True)
class Device:
    """One ``.HostConfig.Devices`` entry; ``Permissions`` comes from ``CgroupPermissions``."""

    PathOnHost: str = ""
    PathInContainer: str = ""
    Permissions: str = ""


@dataclass(slots=True)
class Health:
    """``.State.Health``: ``Status`` is ``""`` without a healthcheck."""

    Status: str = ""


@dataclass(slots=True)
class State:
    """docker-gen exposes only ``Running`` and ``Health`` (not Docker's ``Status`` string)."""

    Running: bool = False
    Health: Health = field(default_factory=Health)


@dataclass(slots=True)
class SwarmNode:
    """Legacy *Swarm classic* ``.Node`` block; all empty on a plain engine."""

    ID: str = ""
    Name: str = ""
    Address: Address = field(default_factory=Address)


@dataclass(slots=True)
class DockerInfo:
    """``.Docker`` in templates: daemon info, version info and the current container ID."""

    Name: str = ""
    NumContainers: int = 0
    NumImages: int = 0
    Version: str = ""
    ApiVersion: str = ""
    GoVersion: str = ""
    OperatingSystem: str = ""
    Architecture: str = ""
    CurrentContainerID: str = ""


class _RawInspectSlot:
    """Gives ``RuntimeContainer`` a ``_inspect`` slot that is not a dataclass field.

    Local list filters (``filters.container_matches``) need Docker's raw inspect data (State.Status,
    ExitCode, NetworkID, ...) that docker-gen's model drops. A slot on a base class keeps it out of
    ``fields()``, ``repr``, ``==`` and therefore out of the Go JSON output.
    """

    __slots__ = ("_inspect",)


@dataclass(slots=True, eq=False)
class RuntimeContainer(_RawInspectSlot):
    """One container as docker-gen's templates see it (Go ``*context.RuntimeContainer``).

    ``eq=False``: docker-gen hands templates pointers, so two containers are the same only if they
    are the same object; this also keeps containers hashable (usable in sets / as dict keys).
    """

    ID: str = ""
    Created: GoTime = field(default_factory=GoTime.zero)
    Addresses: list[Address] = field(default_factory=list)
    Networks: list[Network] = field(default_factory=list)
    Devices: list[Device] = field(default_factory=list)
    Gateway: str = ""
    Name: str = ""
    Hostname: str = ""
    NetworkMode: str = ""
    Image: DockerImage = field(default_factory=DockerImage)
    Env: dict[str, str] = field(default_factory=dict)
    Volumes: dict[str, Volume] = field(default_factory=dict)
    Node: SwarmNode = field(default_factory=SwarmNode)
    Labels: dict[str, str] = field(default_factory=NilDict)
    IP: str = ""
    IP6LinkLocal: str = ""
    IP6Global: str = ""
    Mounts: list[Mount] = field(default_factory=NilList)
    State: State = field(default_factory=State)

    def __post_init__(self) -> None:
        self._inspect = {}  # a real dict (not a shared proxy) so copy/pickle keep working


def raw_inspect(container: RuntimeContainer) -> Mapping[str, Any]:
    """The Docker inspect dict a container was built from (``{}`` if built by hand)."""
    return container._inspect


# ------------------------------------------------------------------------------------- helpers
def _atoi(s: str) -> int:
    """Go ``strconv.Atoi`` for sorting: optional sign and ASCII digits, anything else is 0."""
    if s.isascii() and s.isdigit():
        return int(s)
    if len(s) > 1 and s[0] in "+-" and s[1:].isascii() and s[1:].isdigit():
        return int(s)
    return 0


def _address_key(a: Address) -> tuple[int, str, str, str, str]:
    return (_atoi(a.Port), a.Proto, a.HostPort, a.HostIP, a.IP)


def sort_addresses(addresses: list[Address]) -> list[Address]:
    """Sort in place by port number, then Proto, HostPort, HostIP, IP; returns the list."""
    addresses.sort(key=_address_key)
    return addresses


def sort_networks(networks: list[Network]) -> list[Network]:
    """Sort in place by Name (plain string order); returns the list."""
    networks.sort(key=lambda n: n.Name)
    return networks


def internal_network_names(networks: list[Mapping[str, Any]] | None) -> frozenset[str]:
    """Names of the ``internal`` networks in a ``GET /networks`` list.

    docker-gen matches a container's networks to this list **by name**, so only names matter.
    """
    if not networks:
        return frozenset()
    return frozenset(n.get("Name", "") for n in networks if n and n.get("Internal"))


def _split_port_key(key: str) -> tuple[str, str]:
    """``"80/tcp"`` -> ``("80", "tcp")``; no ``/`` means tcp (go-dockerclient's Port/Proto)."""
    parts = key.split("/")
    return parts[0], parts[1] if len(parts) > 1 else "tcp"


def _addresses(config: Mapping[str, Any], ns: Mapping[str, Any], ip: str, ip6ll: str,
               ip6g: str) -> list[Address]:
    """Spec §5.2 Addresses: Ports first, ExposedPorts only when Ports gave nothing, then sorted."""
    out: list[Address] = []
    ports = ns.get("Ports")
    if ports:
        for key, bindings in ports.items():
            port, proto = _split_port_key(key)
            if bindings:
                first = bindings[0] or _EMPTY
                out.append(Address(ip, ip6ll, ip6g, port, first.get("HostPort") or "", proto,
                                   first.get("HostIp") or ""))
            else:
                out.append(Address(ip, ip6ll, ip6g, port, "", proto, ""))
    if not out:
        exposed = config.get("ExposedPorts")
        if exposed:
            for key in exposed:
                port, proto = _split_port_key(key)
                out.append(Address(ip, ip6ll, ip6g, port, "", proto, ""))
    if len(out) > 1:
        out.sort(key=_address_key)
    return out


def _networks(ns: Mapping[str, Any], internal: frozenset[str]) -> list[Network]:
    nets = ns.get("Networks")
    if not nets:
        return []
    out = []
    for name, v in nets.items():
        v = v or _EMPTY
        out.append(Network(
            v.get("IPAddress") or "",
            name,
            list(v.get("Aliases") or ()),
            v.get("Gateway") or "",
            v.get("EndpointID") or "",
            v.get("IPv6Gateway") or "",
            v.get("GlobalIPv6Address") or "",
            v.get("MacAddress") or "",
            v.get("GlobalIPv6PrefixLen") or 0,
            v.get("IPPrefixLen") or 0,
            name in internal,
        ))
    if len(out) > 1:
        out.sort(key=lambda n: n.Name)
    return out


def split_env(env: list[str] | None) -> dict[str, str]:
    """``["K", "K=", "K=a=b"]`` -> split at the first ``=``; a bare key maps to ``""``; later wins."""
    out: dict[str, str] = {}
    if env:
        for entry in env:
            key, _, value = entry.partition("=")
            out[key] = value
    return out


def _volumes(inspect: Mapping[str, Any]) -> dict[str, Volume]:
    vols = inspect.get("Volumes")
    if not vols:
        return {}
    rw = inspect.get("VolumesRW") or _EMPTY
    return {path: Volume(path, host or "", bool(rw.get(path, False))) for path, host in vols.items()}


def _mounts(mounts: list[Mapping[str, Any]] | None) -> list[Mount]:
    if not mounts:
        return NilList()
    return [
        Mount(m.get("Name") or "", m.get("Source") or "", m.get("Destination") or "",
              m.get("Driver") or "", m.get("Mode") or "", bool(m.get("RW")))
        for m in mounts if m is not None
    ] or NilList()


def _devices(devices: list[Mapping[str, Any]] | None) -> list[Device]:
    if not devices:
        return []
    return [
        Device(d.get("PathOnHost") or "", d.get("PathInContainer") or "",
               d.get("CgroupPermissions") or "")
        for d in devices if d is not None
    ]


def _node(node: Mapping[str, Any] | None) -> SwarmNode:
    if not node:
        return SwarmNode()
    return SwarmNode(node.get("ID") or "", node.get("Name") or "", Address(IP=node.get("IP") or ""))


# ------------------------------------------------------------------------------------- builders
def container_from_inspect(inspect: Mapping[str, Any],
                           internal_networks: frozenset[str] = frozenset()) -> RuntimeContainer:
    """Build docker-gen's ``RuntimeContainer`` from a ``GET /containers/{id}/json`` dict.

    ``internal_networks`` is the set of names of networks whose ``/networks`` entry has
    ``Internal: true`` (see ``internal_network_names``). Missing or null ``Config``,
    ``NetworkSettings``, ``HostConfig`` or ``State`` are treated as empty; this never raises on
    a well-typed dict.
    """
    config = inspect.get("Config") or _EMPTY
    raw_ns = inspect.get("NetworkSettings")
    ns = raw_ns or _EMPTY
    host = inspect.get("HostConfig") or _EMPTY
    state = inspect.get("State") or _EMPTY
    health = state.get("Health") or _EMPTY

    ip = ns.get("IPAddress") or ""
    ip6ll = ns.get("LinkLocalIPv6Address") or ""
    ip6g = ns.get("GlobalIPv6Address") or ""
    registry, repository, tag = split_image_name(config.get("Image") or "")
    labels = config.get("Labels")

    c = RuntimeContainer(
        inspect.get("Id") or "",
        parse_go_time(inspect.get("Created")),
        # nil NetworkSettings: no addresses at all, not even from ExposedPorts (reference test e)
        _addresses(config, ns, ip, ip6ll, ip6g) if raw_ns is not None else [],
        _networks(ns, internal_networks),
        _devices(host.get("Devices")),
        ns.get("Gateway") or "",
        (inspect.get("Name") or "").lstrip("/"),
        config.get("Hostname") or "",
        host.get("NetworkMode") or "",
        DockerImage(registry, repository, tag),
        split_env(config.get("Env")),
        _volumes(inspect),
        _node(inspect.get("Node")),
        dict(labels) if labels is not None else NilDict(),
        ip,
        ip6ll,
        ip6g,
        _mounts(inspect.get("Mounts")),
        State(bool(state.get("Running")), Health(health.get("Status") or "")),
    )
    c._inspect = inspect
    return c


def docker_info_from(info: Mapping[str, Any] | None, version: Mapping[str, Any] | None,
                     current_container_id: str = "") -> DockerInfo:
    """``.Docker`` from ``GET /info`` and ``GET /version`` (either may be ``None`` after an error).

    docker-gen reads /version once per process and /info on every render; the caller decides
    how often to call each and passes the latest results here.
    """
    info = info or _EMPTY
    version = version or _EMPTY
    return DockerInfo(
        info.get("Name") or "",
        int(info.get("Containers") or 0),
        int(info.get("Images") or 0),
        version.get("Version") or "",
        version.get("ApiVersion") or "",
        version.get("GoVersion") or "",
        version.get("Os") or "",
        version.get("Arch") or "",
        current_container_id,
    )
