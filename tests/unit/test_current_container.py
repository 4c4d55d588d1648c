"""Current container ID detection: every sample and expected result of spec §5.4."""

from __future__ import annotations

from pathlib import Path

import pytest

from pygen.docker.current import DEFAULT_FILES, MAX_LINE, current_container_id

D = Path(__file__).resolve().parent.parent / "fixtures" / "current"

IDS = [
    "0fa939e22e6938e7517f663de83e79a5087a18b1b997a36e0c933a917cddb295",
    "e881f8c51a72db7da515e9d5cab8ed105b869579eb9923fdcf4ee80933160802",
    "eede6bd9e72f5d783a4bfb845bd71f310e974cb26987328a5d15704e23a8d6cb",
]
OVERLAY = "e1fab975d5ffd51474b11a964c82c3bfda1c0e82aec6845a1f12c8150bf61419"


def files(*names: str) -> tuple[str, ...]:
    return tuple(str(D / n) for n in names)


FULL = files("cpuset", "cgroup", "mountinfo")
V2 = ("cpuset_root", "cgroup_v2")


def test_default_files_order() -> None:
    assert DEFAULT_FILES == ("/proc/1/cpuset", "/proc/self/cgroup", "/proc/self/mountinfo")


@pytest.mark.parametrize(
    "hostname, expected",
    [
        (IDS[0][:12], IDS[0]),
        (IDS[1][:12], IDS[1]),  # found in cgroup
        (IDS[2][:12], IDS[2]),  # found in mountinfo (line 713, containers/<ID>/resolv.conf)
        ("customhostname", IDS[0]),  # pass 2: the first file wins
    ],
)
def test_get_current_container_id(hostname: str, expected: str) -> None:
    assert current_container_id(hostname, FULL) == expected


@pytest.mark.parametrize(
    "mountinfo",
    ["mountinfo", "mountinfo_separate", "mountinfo_podman", "mountinfo_shm"],
    ids=["MountInfo", "SeparateMount", "PodmanUserdata", "LegacyContainersMatch"],
)
def test_mountinfo_shapes(mountinfo: str) -> None:
    result = current_container_id("customhostname", files(*V2, mountinfo))
    assert result == IDS[2]
    assert result != OVERLAY


def test_mountinfo_pass1_with_hostname() -> None:
    assert current_container_id(IDS[2][:12], files(*V2, "mountinfo_podman")) == IDS[2]


def test_empty_on_non_container_host() -> None:
    assert current_container_id("customhostname", files(*V2, "mountinfo_host")) == ""
    assert current_container_id("", files(*V2, "mountinfo_host")) == ""


def test_overlay_hash_only_gives_empty() -> None:
    assert current_container_id("customhostname", files(*V2, "mountinfo_overlay_only")) == ""


def test_volume_ids_only_gives_empty() -> None:
    assert current_container_id("customhostname", files(*V2, "mountinfo_volumes_only")) == ""


def test_systemd_scope_in_cgroup(tmp_path: Path) -> None:
    cg = tmp_path / "cgroup"
    cg.write_text(f"0::/system.slice/docker-{IDS[1]}.scope\n")
    assert current_container_id("customhostname", (str(D / "cpuset_root"), str(cg))) == IDS[1]


def test_thirteen_char_hostname_is_ignored() -> None:
    # pass 1 would pick ids[2] from mountinfo; with a 13-char hostname pass 2 takes cpuset's ids[0]
    assert current_container_id(IDS[2][:13], FULL) == IDS[0]


def test_hostname_must_be_alnum() -> None:
    assert current_container_id("eede6bd9e72-", FULL) == IDS[0]


def test_leftmost_alnum_window_not_hex(tmp_path: Path) -> None:
    f = tmp_path / "cgroup"
    f.write_text(f"x{IDS[0]}yz\n")
    assert current_container_id("customhostname", (str(f),)) == "x" + IDS[0][:63]


def test_63_chars_give_empty(tmp_path: Path) -> None:
    f = tmp_path / "cgroup"
    f.write_text(f"/docker/{IDS[0][:63]}\n")
    assert current_container_id("customhostname", (str(f),)) == ""


def test_unreadable_files_contribute_nothing(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    assert current_container_id("x", (missing, str(tmp_path), str(D / "cpuset"))) == IDS[0]


def test_file_with_overlong_line_contributes_nothing(tmp_path: Path) -> None:
    f = tmp_path / "cgroup"
    f.write_bytes(f"/docker/{IDS[1]}\n".encode() + b"a" * (MAX_LINE + 1) + b"\n")
    assert current_container_id("customhostname", (str(f), str(D / "cpuset"))) == IDS[0]


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    f = tmp_path / "cgroup"
    f.write_bytes(f"1:cpu:/\r\n2:cpuset:/docker/{IDS[1]}".encode())
    assert current_container_id(IDS[1][:12], (str(f),)) == IDS[1]


def test_pass1_prefers_hostname_match_over_earlier_id(tmp_path: Path) -> None:
    # nested containers: the parent's ID comes first, the hostname identifies ours
    f = tmp_path / "cgroup"
    f.write_text(f"1:cpuset:/docker/{IDS[0]}\n2:cpu:/docker/{IDS[0]}/docker/{IDS[1]}\n")
    assert current_container_id(IDS[1][:12], (str(f),)) == IDS[1]
    assert current_container_id("customhostname", (str(f),)) == IDS[0]


def test_hostname_defaults_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTNAME", IDS[2][:12])
    assert current_container_id(files=FULL) == IDS[2]
    monkeypatch.delenv("HOSTNAME")
    assert current_container_id(files=FULL) == IDS[0]


def test_mountinfo_other_ids_ignored_even_in_pass1(tmp_path: Path) -> None:
    # a mountinfo line whose only 64-char string is a volume ID starting with the hostname
    f = tmp_path / "mountinfo"
    f.write_text(f"716 705 8:3 /var/lib/docker/volumes/{IDS[2]}/_data /data rw - ext4 /dev/sda3 rw\n")
    assert current_container_id(IDS[2][:12], (str(f),)) == ""
