"""docker-gen's context model (spec §5.2): GoTime, the dataclasses and container_from_inspect.

Two kinds of input: hand-built inspect dicts for the reference tests and edge cases, and real
``docker inspect`` output captured by ``tests/fixtures/capture_inspect.py`` from dockerd 20.10.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from pygen.docker.gotime import GoTime, parse_go_time
from pygen.docker.model import (
    Address,
    Device,
    DockerImage,
    DockerInfo,
    Health,
    Mount,
    Network,
    NodeAddress,
    RuntimeContainer,
    State,
    SwarmNode,
    Volume,
    container_from_inspect,
    docker_info_from,
    internal_network_names,
    raw_inspect,
    sort_addresses,
    sort_networks,
    split_env,
)
from pygen.functions.gojson import NilDict, NilList

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# =========================================================================================== GoTime
class TestGoTime:
    @pytest.mark.parametrize(
        "raw, string, js",
        [
            ("2026-11-25T19:53:45.123456789Z", "2026-11-25 19:53:45.123456789 +0000 UTC",
             "2026-11-25T19:53:45.123456789Z"),
            ("2026-11-25T20:04:48.04449098Z", "2026-11-25 20:04:48.04449098 +0000 UTC",
             "2026-11-25T20:04:48.04449098Z"),
            ("2026-11-25T19:53:45.120000000Z", "2026-11-25 19:53:45.12 +0000 UTC",
             "2026-11-25T19:53:45.12Z"),
            ("2026-11-25T19:53:45.000000000Z", "2026-11-25 19:53:45 +0000 UTC",
             "2026-11-25T19:53:45Z"),
            ("2026-11-25T19:53:45Z", "2026-11-25 19:53:45 +0000 UTC", "2026-11-25T19:53:45Z"),
            ("2026-11-25T19:53:45.000000001Z", "2026-11-25 19:53:45.000000001 +0000 UTC",
             "2026-11-25T19:53:45.000000001Z"),
            ("2026-11-25T21:53:45.5+02:00", "2026-11-25 19:53:45.5 +0000 UTC",
             "2026-11-25T19:53:45.5Z"),
            ("2026-11-25T00:30:00-01:30", "2026-11-25 02:00:00 +0000 UTC", "2026-11-25T02:00:00Z"),
            ("2026-12-31T23:30:00-01:00", "2027-01-01 00:30:00 +0000 UTC", "2027-01-01T00:30:00Z"),
            ("1969-12-31T23:59:59.9Z", "1969-12-31 23:59:59.9 +0000 UTC", "1969-12-31T23:59:59.9Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01 00:00:00 +0000 UTC", "0001-01-01T00:00:00Z"),
            ("2026-11-25t19:53:45z", "2026-11-25 19:53:45 +0000 UTC", "2026-11-25T19:53:45Z"),
        ],
    )
    def test_parse_and_print(self, raw: str, string: str, js: str) -> None:
        t = GoTime.parse(raw)
        assert str(t) == string
        assert t.String() == string
        assert t.go_json_value() == js
        assert t.isoformat() == js

    def test_more_than_nine_fraction_digits_truncate(self) -> None:
        assert GoTime.parse("2026-01-02T03:04:05.1234567899Z").nanosecond == 123456789

    @pytest.mark.parametrize(
        "bad",
        ["", "2026-11-25", "2026-11-25 19:53:45Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
         "2026-11-25T24:00:00Z", "2026-11-25T19:53:45", "2026-11-25T19:53:45.Z", "garbage"],
    )
    def test_parse_rejects(self, bad: str) -> None:
        with pytest.raises(ValueError):
            GoTime.parse(bad)

    def test_lenient_parse_for_models(self) -> None:
        assert parse_go_time(None).IsZero()
        assert parse_go_time("").IsZero()
        assert parse_go_time("nonsense").IsZero()
        assert parse_go_time("2026-11-25T19:53:45Z") == GoTime.parse("2026-11-25T19:53:45Z")

    def test_zero(self) -> None:
        z = GoTime.zero()
        assert z.IsZero()
        assert GoTime() == z
        assert str(z) == "0001-01-01 00:00:00 +0000 UTC"
        assert z.go_json_value() == "0001-01-01T00:00:00Z"
        assert z.datetime.year == 1
        assert not GoTime.parse("1970-01-01T00:00:00Z").IsZero()

    def test_ordering_and_hash(self) -> None:
        a = GoTime.parse("2026-11-25T19:53:45.000000001Z")
        b = GoTime.parse("2026-11-25T19:53:45.000000002Z")
        c = GoTime.parse("2026-11-25T21:53:45.000000002+02:00")
        assert a < b and b > a and a <= b and b >= a and a != b
        assert b == c and hash(b) == hash(c)
        assert sorted([b, a, GoTime.zero()]) == [GoTime.zero(), a, b]
        assert len({a, b, c}) == 2
        assert (a == "x") is False

    def test_datetime_and_unix(self) -> None:
        t = GoTime.parse("2026-11-25T19:53:45.123456789Z")
        dt = t.datetime
        assert (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond) == (
            2026, 11, 25, 19, 53, 45, 123456)
        assert dt.utcoffset().total_seconds() == 0
        assert t.Unix() == int(dt.timestamp())
        assert t.UnixNano() == t.Unix() * 1_000_000_000 + 123456789
        assert t.UnixMilli() == t.Unix() * 1000 + 123
        assert GoTime.from_datetime(dt) == GoTime.from_unix_nanos(t.UnixNano() - 789)
        assert GoTime.from_unix_nanos(t.UnixNano()) == t
        assert t.UTC() is t
        assert bool(GoTime.zero()) is True

    def test_repr_and_pickle(self) -> None:
        import pickle

        t = GoTime.parse("2026-11-25T19:53:45.5Z")
        assert repr(t) == "GoTime('2026-11-25T19:53:45.5Z')"
        assert pickle.loads(pickle.dumps(t)) == t
        assert copy.deepcopy(t) == t

    @pytest.mark.parametrize(
        "layout, expected",
        [
            ("2006-01-02T15:04:05Z07:00", "2026-11-05T19:03:07Z"),
            ("2006-01-02 15:04:05.999999999 -0700 MST", "2026-11-05 19:03:07.12 +0000 UTC"),
            ("Mon Jan _2 15:04:05 2006", "Thu Nov  5 19:03:07 2026"),
            ("Monday, 02-Jan-06 15:04:05 MST", "Thursday, 05-Nov-26 19:03:07 UTC"),
            ("January 2, 2006 3:04:05 PM", "November 5, 2026 7:03:07 PM"),
            ("03:04pm", "07:03pm"),
            ("15:04:05.000", "19:03:07.120"),
            ("15:04:05,000000", "19:03:07,120000"),
            ("15:04:05.9", "19:03:07.1"),
            ("05.000000000", "07.120000000"),
            ("002 __2", "309 309"),
            ("_2006", "_2026"),
            ("-07 -07:00:00 Z0700 Z07", "+00 +00:00:00 Z Z"),
            ("Month", "Month"),
            ("1/2/06 3:4:5", "11/5/26 7:3:7"),
            ("literal text", "literal text"),
        ],
    )
    def test_format_go_layouts(self, layout: str, expected: str) -> None:
        t = GoTime.parse("2026-11-05T19:03:07.12Z")
        assert t.Format(layout) == expected

    def test_format_midnight_twelve_hour(self) -> None:
        assert GoTime.parse("2026-11-05T00:15:00Z").Format("3:04 PM") == "12:15 AM"


# ===================================================================================== field order
def names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


def test_go_field_orders() -> None:
    assert names(RuntimeContainer) == [
        "ID", "Created", "Addresses", "Networks", "Devices", "Gateway", "Name", "Hostname",
        "NetworkMode", "Image", "Env", "Volumes", "Node", "Labels", "IP", "IP6LinkLocal",
        "IP6Global", "Mounts", "State"]
    assert names(Address) == ["IP", "IP6LinkLocal", "IP6Global", "Port", "HostPort", "Proto", "HostIP"]
    assert names(Network) == [
        "IP", "Name", "Aliases", "Gateway", "EndpointID", "IPv6Gateway", "GlobalIPv6Address",
        "MacAddress", "GlobalIPv6PrefixLen", "IPPrefixLen", "Internal"]
    assert names(Volume) == ["Path", "HostPath", "ReadWrite"]
    assert names(Mount) == ["Name", "Source", "Destination", "Driver", "Mode", "RW"]
    assert names(Device) == ["PathOnHost", "PathInContainer", "Permissions"]
    assert names(State) == ["Running", "Health"]
    assert names(Health) == ["Status"]
    assert names(SwarmNode) == ["ID", "Name", "Address"]
    assert NodeAddress is Address  # docker-gen's SwarmNode.Address is a full context.Address
    assert names(DockerImage) == ["Registry", "Repository", "Tag"]
    assert names(DockerInfo) == [
        "Name", "NumContainers", "NumImages", "Version", "ApiVersion", "GoVersion",
        "OperatingSystem", "Architecture", "CurrentContainerID"]


def test_classes_use_slots() -> None:
    for cls in (RuntimeContainer, Address, Network, Volume, Mount, Device, State, Health,
                SwarmNode, DockerImage, DockerInfo):
        assert "__slots__" in cls.__dict__, cls
        assert not hasattr(cls(), "__dict__"), cls


def test_raw_inspect_is_hidden() -> None:
    raw = {"Id": "abc", "Name": "/x", "State": {"Status": "running"}}
    c = container_from_inspect(raw)
    assert raw_inspect(c) is raw
    assert c._inspect is raw
    assert "_inspect" not in names(RuntimeContainer)
    assert "_inspect" not in repr(c) and "running" not in repr(c)
    assert raw_inspect(RuntimeContainer()) == {}


def test_containers_compare_by_identity_and_hash() -> None:
    raw = {"Id": "abc"}
    a, b = container_from_inspect(raw), container_from_inspect(raw)
    assert a != b and a == a
    assert len({a, b}) == 2


def test_defaults_are_go_zero_values() -> None:
    c = RuntimeContainer()
    assert c.Created.IsZero()
    assert c.Labels == {} and isinstance(c.Labels, NilDict)
    assert c.Mounts == [] and isinstance(c.Mounts, NilList)
    assert type(c.Addresses) is list and type(c.Networks) is list and type(c.Devices) is list
    assert c.State == State(False, Health(""))
    assert c.Node == SwarmNode("", "", Address())


# ============================================================================ reference tests (§5.2)
def _ref_container(ports: dict | None, exposed: dict | None) -> dict:
    return {
        "Config": {"ExposedPorts": exposed},
        "NetworkSettings": {
            "IPAddress": "10.0.0.10",
            "LinkLocalIPv6Address": "24",
            "GlobalIPv6Address": "10.0.0.1",
            "Ports": ports,
        },
    }


def test_ref_a_ports_with_and_without_binding() -> None:
    c = container_from_inspect(_ref_container(
        {"80/tcp": [{"HostIp": "100.100.100.100", "HostPort": "8080"}], "443/tcp": []}, {}))
    assert c.Addresses == [
        Address("10.0.0.10", "24", "10.0.0.1", "80", "8080", "tcp", "100.100.100.100"),
        Address("10.0.0.10", "24", "10.0.0.1", "443", "", "tcp", ""),
    ]


def test_ref_b_ports_win_over_exposed() -> None:
    c = container_from_inspect(_ref_container(
        {"80/tcp": [], "443/tcp": []}, {"80/tcp": {}, "443/tcp": {}, "8080/tcp": {}}))
    assert [a.Port for a in c.Addresses] == ["80", "443"]


def test_ref_c_exposed_when_no_ports() -> None:
    c = container_from_inspect(_ref_container({}, {"8080/tcp": {}, "8443/tcp": {}}))
    assert c.Addresses == [
        Address("10.0.0.10", "24", "10.0.0.1", "8080", "", "tcp", ""),
        Address("10.0.0.10", "24", "10.0.0.1", "8443", "", "tcp", ""),
    ]


def test_ref_d_sort() -> None:
    keys = ["8080/tcp", "80/tcp", "443/tcp", "53/udp", "53/tcp"]
    c = container_from_inspect(_ref_container({k: None for k in keys}, None))
    assert [f"{a.Port}/{a.Proto}" for a in c.Addresses] == [
        "53/tcp", "53/udp", "80/tcp", "443/tcp", "8080/tcp"]
    shuffled = [Address(Port=k.split("/")[0], Proto=k.split("/")[1]) for k in keys]
    assert [f"{a.Port}/{a.Proto}" for a in sort_addresses(shuffled)] == [
        "53/tcp", "53/udp", "80/tcp", "443/tcp", "8080/tcp"]


def test_ref_e_nil_sections() -> None:
    exposed = {"Config": {"ExposedPorts": {"80/tcp": {}}}}
    assert container_from_inspect({**exposed, "NetworkSettings": None}).Addresses == []
    assert container_from_inspect(exposed).Addresses == []  # absent = Go nil pointer
    # present but empty NetworkSettings: ExposedPorts apply
    assert container_from_inspect({**exposed, "NetworkSettings": {}}).Addresses == [
        Address(Port="80", Proto="tcp")]
    assert container_from_inspect({"Config": None, "NetworkSettings": None}).Addresses == []
    assert container_from_inspect({}).Addresses == []


def test_sort_networks() -> None:
    nets = [Network(Name="frontend"), Network(Name="bridge"), Network(Name="app_net")]
    assert [n.Name for n in sort_networks(nets)] == ["app_net", "bridge", "frontend"]
    c = container_from_inspect({"NetworkSettings": {"Networks": {
        "frontend": {}, "bridge": {}, "app_net": {}}}})
    assert [n.Name for n in c.Networks] == ["app_net", "bridge", "frontend"]


# ================================================================================== rule details
def test_address_sort_tiebreaks() -> None:
    addrs = [
        Address(IP="b", Port="80", Proto="tcp", HostPort="9", HostIP="1"),
        Address(IP="a", Port="80", Proto="tcp", HostPort="9", HostIP="1"),
        Address(IP="a", Port="80", Proto="tcp", HostPort="9", HostIP="0"),
        Address(IP="a", Port="80", Proto="tcp", HostPort="10", HostIP="9"),  # string compare: "10" < "9"
        Address(IP="a", Port="x", Proto="tcp"),  # non-numeric port sorts as 0
        Address(IP="a", Port="+7", Proto="tcp"),  # Atoi accepts a sign
    ]
    out = sort_addresses(list(addrs))
    assert [(a.Port, a.HostPort, a.HostIP, a.IP) for a in out] == [
        ("x", "", "", "a"), ("+7", "", "", "a"), ("80", "10", "9", "a"), ("80", "9", "0", "a"),
        ("80", "9", "1", "a"), ("80", "9", "1", "b")]


def test_port_key_without_proto_is_tcp_and_first_binding_wins() -> None:
    c = container_from_inspect({"NetworkSettings": {"Ports": {
        "80": [{"HostIp": "0.0.0.0", "HostPort": "1"}, {"HostIp": "::", "HostPort": "1"}],
        "53/udp": None, "9/sctp": [None]}}})
    assert [(a.Port, a.Proto, a.HostIP, a.HostPort) for a in c.Addresses] == [
        ("9", "sctp", "", ""), ("53", "udp", "", ""), ("80", "tcp", "0.0.0.0", "1")]


@pytest.mark.parametrize(
    "env, expected",
    [
        (["K"], {"K": ""}),
        (["K="], {"K": ""}),
        (["K=V3"], {"K": "V3"}),
        (["K=V4=V5"], {"K": "V4=V5"}),
        (["A=1", "A=2"], {"A": "2"}),
        (["=x", ""], {"": ""}),
        (None, {}),
        ([], {}),
    ],
)
def test_env_split(env: list[str] | None, expected: dict[str, str]) -> None:
    assert split_env(env) == expected
    c = container_from_inspect({"Config": {"Env": env}})
    assert c.Env == expected and type(c.Env) is dict


def test_labels_nil_and_copy() -> None:
    assert isinstance(container_from_inspect({"Config": {"Labels": None}}).Labels, NilDict)
    assert isinstance(container_from_inspect({"Config": {}}).Labels, NilDict)
    assert isinstance(container_from_inspect({}).Labels, NilDict)
    empty = container_from_inspect({"Config": {"Labels": {}}}).Labels
    assert empty == {} and type(empty) is dict  # Go: empty non-nil map prints {}
    raw = {"Config": {"Labels": {"a.b": "1"}}}
    c = container_from_inspect(raw)
    c.Labels["x"] = "mutated by a template"
    assert raw["Config"]["Labels"] == {"a.b": "1"}


def test_mounts_devices_volumes() -> None:
    c = container_from_inspect({
        "Mounts": [{"Type": "volume", "Name": "v", "Source": "/s", "Destination": "/d",
                    "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
                   {"Type": "bind", "Source": "/h", "Destination": "/b", "Mode": "ro",
                    "RW": False, "Propagation": "rprivate"}],
        "HostConfig": {"Devices": [{"PathOnHost": "/dev/a", "PathInContainer": "/dev/b",
                                    "CgroupPermissions": "rw"}]},
        "Volumes": {"/old": "/var/lib/docker/vfs/x", "/ro": "/y"},
        "VolumesRW": {"/old": True},
    })
    assert c.Mounts == [Mount("v", "/s", "/d", "local", "z", True), Mount("", "/h", "/b", "", "ro", False)]
    assert type(c.Mounts) is list
    assert c.Devices == [Device("/dev/a", "/dev/b", "rw")]
    assert c.Volumes == {"/old": Volume("/old", "/var/lib/docker/vfs/x", True),
                         "/ro": Volume("/ro", "/y", False)}
    bare = container_from_inspect({"Mounts": [], "HostConfig": {"Devices": None}})
    assert isinstance(bare.Mounts, NilList) and bare.Devices == [] and bare.Volumes == {}
    assert isinstance(container_from_inspect({"Mounts": None}).Mounts, NilList)


@pytest.mark.parametrize("raw, expected", [("/web", "web"), ("//web", "web"), ("web", "web"),
                                           ("/a/b", "a/b"), ("", ""), (None, "")])
def test_name_strips_all_leading_slashes(raw: str | None, expected: str) -> None:
    assert container_from_inspect({"Name": raw}).Name == expected


def test_networks_fields_and_internal() -> None:
    c = container_from_inspect(
        {"NetworkSettings": {"Networks": {
            "back": {"IPAddress": "172.22.0.2", "Aliases": ["x", "y"], "Gateway": "172.22.0.1",
                     "EndpointID": "ep", "IPv6Gateway": "fe80::1", "GlobalIPv6Address": "2001::2",
                     "MacAddress": "02:42:ac:16:00:02", "GlobalIPv6PrefixLen": 64,
                     "IPPrefixLen": 16, "NetworkID": "nid"},
            "front": {"Aliases": None},
            "empty": None}}},
        frozenset({"back", "nonexistent"}),
    )
    assert c.Networks == [
        Network("172.22.0.2", "back", ["x", "y"], "172.22.0.1", "ep", "fe80::1", "2001::2",
                "02:42:ac:16:00:02", 64, 16, True),
        Network(Name="empty", Aliases=[]),
        Network(Name="front", Aliases=[]),
    ]


def test_internal_network_names() -> None:
    assert internal_network_names(None) == frozenset()
    assert internal_network_names([{"Name": "a", "Internal": True}, {"Name": "b"},
                                   {"Name": "c", "Internal": False}]) == {"a"}


def test_state_health_node_image_misc() -> None:
    c = container_from_inspect({
        "Id": "f" * 64,
        "Created": "2026-11-25T19:53:45.1Z",
        "Config": {"Hostname": "h", "Image": "localhost:5000/app:1"},
        "HostConfig": {"NetworkMode": "container:abc"},
        "State": {"Running": True, "Health": {"Status": "starting"}},
        "NetworkSettings": {"Gateway": "172.17.0.1", "IPAddress": "172.17.0.2",
                            "GlobalIPv6Address": "2001::1", "LinkLocalIPv6Address": "fe80::2"},
        "Node": {"ID": "n1", "Name": "node-1", "IP": "192.168.0.7", "Addr": "192.168.0.7:2375"},
    })
    assert c.ID == "f" * 64
    assert str(c.Created) == "2026-11-25 19:53:45.1 +0000 UTC"
    assert (c.Hostname, c.NetworkMode, c.Gateway, c.IP, c.IP6Global, c.IP6LinkLocal) == (
        "h", "container:abc", "172.17.0.1", "172.17.0.2", "2001::1", "fe80::2")
    assert c.Image == DockerImage("localhost:5000", "app", "1")
    assert c.State == State(True, Health("starting"))
    assert c.Node == SwarmNode("n1", "node-1", Address(IP="192.168.0.7"))


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"Config": None, "NetworkSettings": None, "HostConfig": None, "State": None},
        {"Config": {}, "NetworkSettings": {}, "HostConfig": {}, "State": {}},
        {"State": {"Health": None}, "NetworkSettings": {"Ports": None, "Networks": None}},
        {"Config": {"Env": None, "Labels": None, "ExposedPorts": None, "Image": None},
         "Mounts": [None], "HostConfig": {"Devices": [None]}, "Node": None, "Volumes": None},
        {"Created": "not a time", "Name": None, "Id": None},
    ],
)
def test_never_crashes_on_missing_sections(raw: dict) -> None:
    c = container_from_inspect(raw)
    assert c.ID == "" and c.Addresses == [] and c.Networks == [] and c.Devices == []
    assert c.Mounts == [] and c.Env == {} and c.Labels == {} and c.Volumes == {}
    assert c.Created.IsZero() and c.State == State()


def test_docker_info_from() -> None:
    version = load("version_sample.json")
    info = docker_info_from({"Name": "host1", "Containers": 7, "Images": 3}, version, "c" * 64)
    assert info == DockerInfo("host1", 7, 3, version["Version"], version["ApiVersion"],
                              version["GoVersion"], version["Os"], version["Arch"], "c" * 64)
    assert info.OperatingSystem == "linux"
    assert docker_info_from(None, None) == DockerInfo()


# ================================================================================ real fixtures
@pytest.fixture(scope="module")
def raw_containers() -> dict[str, dict]:
    return {c["Name"].lstrip("/").removeprefix("pygen-cap-"): c for c in load("inspect_sample.json")}


@pytest.fixture(scope="module")
def internal() -> frozenset[str]:
    return internal_network_names(load("networks_sample.json"))


@pytest.fixture(scope="module")
def model(raw_containers: dict[str, dict], internal: frozenset[str]) -> dict[str, RuntimeContainer]:
    return {k: container_from_inspect(v, internal) for k, v in raw_containers.items()}


def test_fixture_has_expected_containers(raw_containers: dict[str, dict]) -> None:
    assert set(raw_containers) == {"web", "plain", "stopped", "host", "none", "internal",
                                   "created", "publishall"}


def test_fixture_internal_networks(internal: frozenset[str]) -> None:
    assert internal == {"pygen-cap-aback"}


def test_fixture_created_strings(raw_containers: dict[str, dict],
                                 model: dict[str, RuntimeContainer]) -> None:
    for key, c in model.items():
        raw = raw_containers[key]["Created"]  # dockerd writes RFC3339Nano in UTC, zeros trimmed
        assert c.Created.go_json_value() == raw
        date, clock = raw[:-1].split("T")
        assert str(c.Created) == f"{date} {clock} +0000 UTC"
    created = sorted(model.values(), key=lambda c: c.Created)
    assert created[0].Name == "pygen-cap-web" and created[-1].Name == "pygen-cap-publishall"


def test_fixture_web(raw_containers: dict[str, dict], model: dict[str, RuntimeContainer]) -> None:
    raw, c = raw_containers["web"], model["web"]
    ns = raw["NetworkSettings"]
    ip = ns["IPAddress"]
    assert ip.startswith("172.") and c.IP == ip and c.Gateway == ns["Gateway"]
    assert (c.Name, c.Hostname, c.NetworkMode, c.ID) == ("pygen-cap-web", "webhost", "bridge", raw["Id"])
    assert c.Image == DockerImage("", "local/whoami", "latest")
    udp = ns["Ports"]["5353/udp"][0]["HostPort"]
    tcp = ns["Ports"]["8000/tcp"][0]["HostPort"]
    assert c.Addresses == [
        Address(ip, "", "", "5353", udp, "udp", "127.0.0.1"),
        Address(ip, "", "", "8000", tcp, "tcp", "127.0.0.1"),
        Address(ip, "", "", "9000", "", "tcp", ""),
    ]
    assert [n.Name for n in c.Networks] == ["bridge", "pygen-cap-aback", "pygen-cap-zfront"]
    assert [n.Internal for n in c.Networks] == [False, True, False]
    for n in c.Networks:
        ep = ns["Networks"][n.Name]
        assert (n.IP, n.Gateway, n.EndpointID, n.MacAddress, n.IPPrefixLen) == (
            ep["IPAddress"], ep["Gateway"], ep["EndpointID"], ep["MacAddress"], ep["IPPrefixLen"])
        assert n.IP and n.EndpointID
    assert c.Networks[0].Aliases == []  # null in inspect for the default bridge
    assert "web-alias" in c.Networks[2].Aliases
    assert c.Env == {"K": "", "K2": "", "K3": "a=b", "DUP": "second", "VIRTUAL_HOST": "web.local"}
    assert c.Labels["com.example.dotted.key"] == "dotted"
    assert c.Labels["virtual.port"] == "8000" and c.Labels["empty"] == ""
    assert c.Labels["pygen.test"] == "capture"
    bind_src = raw["Mounts"][1]["Source"]
    assert c.Mounts == [
        Mount("pygen-cap-vol", "/var/lib/docker/volumes/pygen-cap-vol/_data", "/data", "local", "rw", True),
        Mount("", bind_src, "/bind", "", "ro", False),
    ]
    assert c.Devices == [Device("/dev/null", "/dev/xnull", "rwm")]
    assert c.State == State(True, Health("healthy"))
    assert c.Volumes == {} and c.Node == SwarmNode()
    assert c.IP6LinkLocal == "" and c.IP6Global == ""


def test_fixture_plain(model: dict[str, RuntimeContainer], raw_containers: dict[str, dict]) -> None:
    c = model["plain"]
    ip = raw_containers["plain"]["NetworkSettings"]["IPAddress"]
    assert c.Addresses == [Address(ip, "", "", "8000", "", "tcp", "")]  # Ports {"8000/tcp": null}
    assert [n.Name for n in c.Networks] == ["bridge"] and c.Networks[0].IP == ip
    assert isinstance(c.Mounts, NilList) and c.Mounts == []
    assert c.Devices == [] and type(c.Devices) is list
    assert c.Env == {}  # Config.Env is null for an image without ENV
    assert c.State == State(True, Health(""))


def test_fixture_stopped_uses_exposed_ports(model: dict[str, RuntimeContainer]) -> None:
    c = model["stopped"]
    assert c.State.Running is False
    assert c.Addresses == [Address(Port="8000", Proto="tcp")]
    assert [(n.Name, n.IP, n.Internal) for n in c.Networks] == [("pygen-cap-zfront", "", False)]


@pytest.mark.parametrize("key, mode", [("host", "host"), ("none", "none")])
def test_fixture_host_and_none(model: dict[str, RuntimeContainer], key: str, mode: str) -> None:
    c = model[key]
    assert c.NetworkMode == mode and c.State.Running
    assert c.Addresses == [Address(Port="8000", Proto="tcp")]
    assert [n.Name for n in c.Networks] == [mode]
    assert c.IP == "" and c.Networks[0].IP == ""


def test_fixture_internal_only(model: dict[str, RuntimeContainer]) -> None:
    c = model["internal"]
    assert c.Addresses == [Address(Port="8000", Proto="tcp")]  # no Ports on an internal network
    assert [(n.Name, n.Internal) for n in c.Networks] == [("pygen-cap-aback", True)]
    assert c.Networks[0].IP.startswith("172.") and c.IP == ""


def test_fixture_created(model: dict[str, RuntimeContainer]) -> None:
    c = model["created"]
    assert c.State == State(False, Health(""))
    assert c.Addresses == [Address(Port="8000", Proto="tcp")]
    assert [(n.Name, n.IP) for n in c.Networks] == [("bridge", "")]
    assert c.NetworkMode == "default"


def test_fixture_publish_all_first_binding(model: dict[str, RuntimeContainer],
                                           raw_containers: dict[str, dict]) -> None:
    bindings = raw_containers["publishall"]["NetworkSettings"]["Ports"]["8000/tcp"]
    assert [b["HostIp"] for b in bindings] == ["0.0.0.0", "::"]
    (a,) = model["publishall"].Addresses
    assert (a.Port, a.HostIP, a.HostPort) == ("8000", "0.0.0.0", bindings[0]["HostPort"])


def _go_json():
    gojson = pytest.importorskip("pygen.functions.gojson")
    if not callable(getattr(gojson, "go_json", None)):
        pytest.skip("gojson encoder not written yet")
    return gojson.go_json


def test_fixture_json_shape(model: dict[str, RuntimeContainer]) -> None:
    out = json.loads(_go_json()(model["plain"]))
    assert list(out) == names(RuntimeContainer)
    assert out["Mounts"] is None and out["Devices"] == [] and out["Volumes"] == {}
    assert out["Created"] == model["plain"].Created.go_json_value()
    assert list(out["Node"]["Address"]) == names(Address)
    assert "_inspect" not in out


def test_go_json_bytes() -> None:
    """The exact bytes Go's json.Marshal writes for this RuntimeContainer."""
    c = container_from_inspect({
        "Id": "abc", "Created": "2026-11-25T19:53:45.50Z", "Name": "/web",
        "Config": {"Image": "nginx:1", "Env": ["A=1"]}, "State": {"Running": True},
        "NetworkSettings": {"Ports": {"80/tcp": None},
                            "Networks": {"bridge": {"IPAddress": "172.17.0.2"}}}})
    empty_addr = '"IP":"","IP6LinkLocal":"","IP6Global":"","Port":"","HostPort":"","Proto":"","HostIP":""'
    assert _go_json()(c) == (
        '{"ID":"abc","Created":"2026-11-25T19:53:45.5Z",'
        '"Addresses":[{"IP":"","IP6LinkLocal":"","IP6Global":"","Port":"80","HostPort":"",'
        '"Proto":"tcp","HostIP":""}],'
        '"Networks":[{"IP":"172.17.0.2","Name":"bridge","Aliases":[],"Gateway":"","EndpointID":"",'
        '"IPv6Gateway":"","GlobalIPv6Address":"","MacAddress":"","GlobalIPv6PrefixLen":0,'
        '"IPPrefixLen":0,"Internal":false}],'
        '"Devices":[],"Gateway":"","Name":"web","Hostname":"","NetworkMode":"",'
        '"Image":{"Registry":"","Repository":"nginx","Tag":"1"},"Env":{"A":"1"},"Volumes":{},'
        '"Node":{"ID":"","Name":"","Address":{' + empty_addr + '}},'
        '"Labels":null,"IP":"","IP6LinkLocal":"","IP6Global":"","Mounts":null,'
        '"State":{"Running":true,"Health":{"Status":""}}}'
    )
    info = docker_info_from({"Name": "h", "Containers": 2, "Images": 1}, {"Version": "20.10"})
    assert _go_json()(info) == (
        '{"Name":"h","NumContainers":2,"NumImages":1,"Version":"20.10","ApiVersion":"",'
        '"GoVersion":"","OperatingSystem":"","Architecture":"","CurrentContainerID":""}')


def test_model_building_is_fast(raw_containers: dict[str, dict], internal: frozenset[str]) -> None:
    raws = [copy.deepcopy(raw_containers[k]) for k in ("web", "plain", "publishall", "internal")] * 125
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for raw in raws:
            container_from_inspect(raw, internal)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05, f"500 containers took {best * 1000:.1f} ms"


def test_containers_copy_and_pickle(raw_containers: dict[str, dict]) -> None:
    import pickle

    for c in (RuntimeContainer(), container_from_inspect(raw_containers["web"])):
        for clone in (copy.deepcopy(c), pickle.loads(pickle.dumps(c)), copy.copy(c)):
            assert clone.Name == c.Name and clone.Addresses == c.Addresses
            assert clone.Created == c.Created and type(clone.Labels) is type(c.Labels)
            assert raw_inspect(clone) == raw_inspect(c)
