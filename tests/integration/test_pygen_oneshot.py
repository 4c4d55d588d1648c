"""The real ``pygen`` command, one-shot, against the real dockerd (issue 2).

Every pygen run selects only this test's containers with ``-container-filter label=pygen.case=<id>``
(other containers run on this daemon). Read-only tests share one module-scoped set of containers,
``fleet``; tests that signal or change containers start their own.
"""
from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace

import docker.errors
import pytest

from pygen import __version__
from tests.helpers import http_get, wait_until
from tests.helpers.docker_util import ContainerFactory
from tests.integration.pygen_runner import count_lines, run_pygen

pytestmark = pytest.mark.docker

CASE_LABEL = "pygen.case"
DUMP_KEYS = ["ID", "Created", "Addresses", "Networks", "Devices", "Gateway", "Name", "Hostname",
             "NetworkMode", "Image", "Env", "Volumes", "Node", "Labels", "IP", "IP6LinkLocal", "IP6Global",
             "Mounts", "State"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def select(case: str) -> list[str]:
    return ["-container-filter", f"label={CASE_LABEL}={case}"]


# ---------------------------------------------------------------------------- a shared fleet
@pytest.fixture(scope="module")
def noexpose_image(docker_api, whoami_image, test_token):
    """The whoami image re-imported without its EXPOSE, for -only-exposed."""
    tag = f"local/pygen-noexpose:{test_token}"
    created = docker_api.create_container(whoami_image, labels={"pygen.test": test_token})
    try:
        data = b"".join(docker_api.export(created["Id"]))
    finally:
        docker_api.remove_container(created["Id"], force=True)
    docker_api.import_image_from_data(data, repository=tag.split(":")[0], tag=test_token,
                                      changes=['CMD ["/bin/sh","/start.sh"]'])
    assert not docker_api.inspect_image(tag)["Config"].get("ExposedPorts")
    yield tag
    try:
        docker_api.remove_image(tag, force=True)
    except docker.errors.APIError:
        pass


@pytest.fixture(scope="module")
def fleet(docker_api, whoami_image, test_token, noexpose_image):
    """Read-only containers shared by this module's tests, all labelled pygen.case=<fleet.case>:

    web1  running, published on 127.0.0.1, app.group=web app.name=FOO, env TIER=front
    web2  running, published on 127.0.0.2, app.group=web app.name=bar, env TIER=back
    db1   running, exposed but not published, app.group=db app.name=foo, env TIER=front PORTNUM=notanumber
    bare  running, no exposed port (image without EXPOSE), app.group=bare
    gone  stopped (exited), app.group=web
    """
    case = secrets.token_hex(4)
    factory = ContainerFactory(docker_api, whoami_image, test_token)

    def run(suffix, labels, env=None, **kwargs):
        return factory.run(f"{case}-{suffix}", labels={CASE_LABEL: case, **labels}, env=env, **kwargs)

    try:
        ns = SimpleNamespace(case=case)
        ns.gone = run("gone", {"app.group": "web", "app.name": "gone"}, publish_ip=None)
        ns.gone.stop()
        ns.web1 = run("web1", {"app.group": "web", "app.name": "FOO", "com.example.x": "dotted-web1"},
                      {"TIER": "front", "GREETING": "hello web1"})
        ns.web2 = run("web2", {"app.group": "web", "app.name": "bar", "com.example.x": "dotted-web2"},
                      {"TIER": "back", "GREETING": "hi web2"}, publish_ip="127.0.0.2")
        ns.db1 = run("db1", {"app.group": "db", "app.name": "foo"},
                     {"TIER": "front", "PORTNUM": "notanumber"}, publish_ip=None)
        ns.bare = run("bare", {"app.group": "bare"}, publish_ip=None, port=None, image=noexpose_image)
        ns.running = [ns.bare, ns.db1, ns.web2, ns.web1]  # newest first, Docker's list order
        yield ns
    finally:
        factory.cleanup()


def names(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


NAMES_TMPL = "{% for c in containers %}{{ c.Name }}\n{% endfor %}"


# ---------------------------------------------------------------------------- rendering
def test_renders_names_addresses_dotted_labels_and_env(fleet, tmp_path):
    tmpl = write(tmp_path / "list.tmpl", """\
{% for c in containers %}
{{ c.Name }}|{{ c.Labels["com.example.x"] }}|{{ c.Env["GREETING"] }}|{{ c.Image.Repository }}:{{ c.Image.Tag }}
{%- for a in c.Addresses %}|{{ a.Port }}/{{ a.Proto }}={{ a.HostIP }}:{{ a.HostPort }}{% endfor %}

{% endfor %}
""")
    dest = tmp_path / "out.txt"
    r = run_pygen(*select(fleet.case), "-container-filter", "label=app.group=web", tmpl, dest)
    assert r.rc == 0, r
    assert dest.read_text() == (
        f"{fleet.web2.name}|dotted-web2|hi web2|local/whoami:latest|8000/tcp=127.0.0.2:{fleet.web2.host_port}\n"
        f"{fleet.web1.name}|dotted-web1|hello web1|local/whoami:latest|8000/tcp=127.0.0.1:{fleet.web1.host_port}\n"
    )
    assert f"Generated '{dest}' from 2 containers" in r.stderr


def test_docker_gen_functions_in_a_real_template(fleet, tmp_path):
    tmpl = write(tmp_path / "fn.tmpl", """\
{% set groups = groupByLabel(containers, "app.group") %}
{% for g in keys(groups) %}
group {{ g }}:{% for c in sortObjectsByKeysAsc(groups[g], "Name") %} {{ c.Name }}{% endfor %}
{% endfor %}
front:{% for c in sortObjectsByKeysAsc(where(containers, "Env.TIER", "front"), "Name") %} {{ c.Name }}{% endfor %}
foo:{% for c in containers | whereLabelValueMatches("app.name", "^(?i)foo$") | sortObjectsByKeysAsc("Name") %} {{ c.Name }}{% endfor %}
""")
    r = run_pygen(*select(fleet.case), tmpl)  # no dest: stdout
    assert r.rc == 0, r
    f = fleet
    assert r.stdout == (
        f"group bare: {f.bare.name}\n"
        f"group db: {f.db1.name}\n"
        f"group web: {f.web1.name} {f.web2.name}\n"
        f"front: {f.db1.name} {f.web1.name}\n"
        f"foo: {f.db1.name} {f.web1.name}\n"
    )


def test_several_templates_joined_with_semicolon(fleet, tmp_path):
    main = write(tmp_path / "a" / "main.tmpl", 'head\n{% include "second.tmpl" %}tail\n')
    second = write(tmp_path / "b" / "second.tmpl",
                   "{% for c in containers %}second:{{ c.Name }}\n{% endfor %}")
    dest = tmp_path / "out.txt"
    r = run_pygen(*select(fleet.case), "-container-filter", "label=app.group=db", f"{main};{second}", dest)
    assert r.rc == 0, r
    assert dest.read_text() == f"head\nsecond:{fleet.db1.name}\ntail\n"
    # without the second file in the list, it is not reachable (it lives in another directory)
    r = run_pygen(*select(fleet.case), str(main), tmp_path / "out2.txt")
    assert r.rc == 1, r
    assert "second.tmpl" in r.stderr
    assert not (tmp_path / "out2.txt").exists()


@pytest.mark.parametrize("flags, expected", [
    ([], ["bare", "db1", "web2", "web1"]),
    (["-only-published"], ["web2", "web1"]),
    (["-only-exposed"], ["db1", "web2", "web1"]),
    (["-only-exposed", "-only-published"], ["web2", "web1"]),
    (["-include-stopped"], ["bare", "db1", "web2", "web1", "gone"]),
    # as dockerd's expose filter: a stopped container has no port (NetworkSettings.Ports is empty)
    (["-include-stopped", "-only-exposed"], ["db1", "web2", "web1"]),
], ids=["default", "only-published", "only-exposed", "published-wins", "include-stopped",
        "stopped-exposed"])
def test_container_selection_flags(fleet, tmp_path, flags, expected):
    tmpl = write(tmp_path / "names.tmpl", NAMES_TMPL)
    r = run_pygen(*flags, *select(fleet.case), tmpl)
    assert r.rc == 0, r
    assert names(r.stdout) == [getattr(fleet, n).name for n in expected]


def test_docker_container_filters_env(fleet, tmp_path):
    tmpl = write(tmp_path / "names.tmpl", NAMES_TMPL)
    env = {"DOCKER_CONTAINER_FILTERS": f" label={CASE_LABEL}={fleet.case} ,, label=app.group=web,"}
    r = run_pygen(tmpl, env=env)
    assert r.rc == 0, r
    assert names(r.stdout) == [fleet.web2.name, fleet.web1.name]
    # a -container-filter flag wins: the variable is ignored entirely
    r = run_pygen(*select(fleet.case), tmpl,
                  env={"DOCKER_CONTAINER_FILTERS": "label=app.group=nothing-has-this"})
    assert r.rc == 0, r
    assert names(r.stdout) == [c.name for c in fleet.running]


def test_hostile_label_and_env_values_are_never_evaluated(containers, case, tmp_path):
    hostile = "q\"uo'te\nline2 {{ 7*7 }} {% raw %}r{% endraw %} {# c #} ${HOME} $(id) \\n"
    c = containers.run(labels={CASE_LABEL: case, "hostile": hostile, "k{{ 7*7 }}": "v"},
                       env={"HOSTILE": hostile}, publish_ip=None)
    tmpl = write(tmp_path / "h.tmpl", """\
{% for c in containers %}
L={{ c.Labels["hostile"] }}
E={{ c.Env.HOSTILE }}
K={{ keys(c.Labels) | join(",") }}
J={{ json(c.Env) }}
{% endfor %}
""")
    dest = tmp_path / "out.txt"
    r = run_pygen(*select(case), "-keep-blank-lines", tmpl, dest)
    assert r.rc == 0, r
    out = dest.read_text()
    assert f"L={hostile}\n" in out
    assert f"E={hostile}\n" in out
    assert "k{{ 7*7 }}" in out.split("K=")[1].splitlines()[0]
    assert json.loads(out.split("J=")[1].splitlines()[0])["HOSTILE"] == hostile
    assert "49" not in out
    assert c.name  # the container was selected, not an empty render
    assert out.count("L=") == 1


# ---------------------------------------------------------------------------- notify
def test_notify_runs_only_when_the_file_changed(containers, case, tmp_path):
    tmpl = write(tmp_path / "names.tmpl", "{% for c in containers %}{{ c.Name }}\n{% else %}none\n{% endfor %}")
    dest, marker = tmp_path / "out.txt", tmp_path / "notified"
    notify = ["-notify", f"echo run >> {marker}"]
    r = run_pygen(*select(case), *notify, tmpl, dest)
    assert r.rc == 0, r
    assert dest.read_text() == "none\n" and count_lines(marker) == 1
    r = run_pygen(*select(case), *notify, tmpl, dest)
    assert r.rc == 0, r
    assert count_lines(marker) == 1, "unchanged content must not notify"
    assert f"Contents of {dest} did not change. Skipping notification 'echo run >> {marker}'" in r.stderr
    c = containers.run(labels={CASE_LABEL: case}, publish_ip=None)
    r = run_pygen(*select(case), *notify, tmpl, dest)
    assert r.rc == 0, r
    assert dest.read_text() == f"{c.name}\n"
    assert count_lines(marker) == 2


def test_notify_output_is_logged_with_the_command(tmp_path):
    tmpl = write(tmp_path / "static.tmpl", "static\n")
    cmd = "echo out-line; echo err-line >&2"
    r = run_pygen("-notify", cmd, "-notify-output", tmpl, tmp_path / "out.txt")
    assert r.rc == 0, r
    assert f"[{cmd}]: out-line" in r.stderr
    assert f"[{cmd}]: err-line" in r.stderr
    assert f"Running '{cmd}'" in r.stderr
    # without -notify-output the output is not logged
    r = run_pygen("-notify", cmd, tmpl, tmp_path / "out2.txt")
    assert r.rc == 0, r
    assert "]: out-line" not in r.stderr and f"Running '{cmd}'" in r.stderr


def test_notify_sighup_reaches_the_container(containers, case, tmp_path):
    target = containers.run("hup-target", labels={CASE_LABEL: case})
    bystander = containers.run("hup-bystander", labels={CASE_LABEL: case})
    target.wait_http()
    tmpl = write(tmp_path / "names.tmpl", NAMES_TMPL)
    r = run_pygen(*select(case), "-notify-sighup", target.name, tmpl, tmp_path / "out.txt")
    assert r.rc == 0, r
    assert f"Sending container '{target.name}' signal '1'" in r.stderr
    # the whoami start script traps HUP and appends a line to /www/hup, served over its loopback port
    wait_until(lambda: http_get(target.url + "/hup")[0] == 200, 5, message="/hup on the target")
    assert len(target.get("/hup").splitlines()) == 1
    assert http_get(bystander.url + "/hup")[0] == 404
    assert target.signals("usr1") == []


def test_notify_container_and_filter_with_signal_10(containers, case, tmp_path):
    by_id = containers.run("usr1-id", labels={CASE_LABEL: case}, publish_ip=None)
    by_filter = containers.run("usr1-filter", labels={CASE_LABEL: case, "role": "filtered"}, publish_ip=None)
    bystander = containers.run("usr1-bystander", labels={CASE_LABEL: case}, publish_ip=None)
    tmpl = write(tmp_path / "names.tmpl", NAMES_TMPL)
    r = run_pygen(*select(case), "-notify-container", by_id.id, "-notify-signal", "10",
                  "-notify-filter", f"label={CASE_LABEL}={case}", "-notify-filter", "label=role=filtered",
                  tmpl, tmp_path / "out.txt")
    assert r.rc == 0, r
    wait_until(lambda: len(by_id.signals("usr1")) == 1, 5, message="USR1 recorded by the -notify-container target")
    wait_until(lambda: len(by_filter.signals("usr1")) == 1, 5, message="USR1 recorded by the filtered container")
    assert by_id.signals("hup") == [] and by_filter.signals("hup") == []
    assert bystander.signals("usr1") == [] and bystander.signals("hup") == []


@pytest.mark.parametrize("value", ["0", "-3"])
def test_notify_signal_zero_or_negative_is_rejected(tmp_path, value):
    tmpl = write(tmp_path / "static.tmpl", "static\n")
    dest = tmp_path / "out.txt"
    r = run_pygen("-notify-container", "whatever", "-notify-signal", value, tmpl, dest)
    assert r.rc == 2, r
    first = r.stderr.splitlines()[0]
    assert "-notify-signal" in first and f"signal {value} is not valid" in first
    assert not dest.exists()


# ---------------------------------------------------------------------------- writing
@pytest.mark.parametrize("atomic", [False, True], ids=["in-place", "atomic"])
def test_write_keeps_mode_and_owner(tmp_path, atomic):
    tmpl = write(tmp_path / "static.tmpl", "new content\n")
    dest = write(tmp_path / "out.conf", "old content\n")
    os.chmod(dest, 0o600)
    owner = (4321, 4322) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        os.chown(dest, *owner)
    before = dest.stat()
    r = run_pygen(*(["-atomic"] if atomic else []), tmpl, dest)
    assert r.rc == 0, r
    after = dest.stat()
    assert dest.read_text() == "new content\n"
    assert stat.S_IMODE(after.st_mode) == 0o600
    assert (after.st_uid, after.st_gid) == owner
    if atomic:
        assert after.st_ino != before.st_ino, "-atomic renames a new file over dest"
    else:
        assert after.st_ino == before.st_ino, "the default write is in place (bind mounts keep working)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.conf", "static.tmpl"]


def test_check_cmd_success_writes(tmp_path):
    tmpl = write(tmp_path / "t.tmpl", "the expected line\n")
    dest = write(tmp_path / "out.conf", "old\n")
    r = run_pygen("-check-cmd", "grep -q expected {{ src }} && test {{ dest }} = " + str(dest), tmpl, dest)
    assert r.rc == 0, r
    assert dest.read_text() == "the expected line\n"


def test_check_cmd_failure_keeps_dest_and_skips_notify(tmp_path):
    tmpl = write(tmp_path / "t.tmpl", "something else\n")
    dest = write(tmp_path / "out.conf", "old\n")
    marker = tmp_path / "notified"
    before = dest.stat()
    r = run_pygen("-check-cmd", "grep -q expected {{ src }} || { echo CHECK-SAID-NO; exit 3; }",
                  "-notify", f"touch {marker}", tmpl, dest)
    assert r.rc == 1, r
    assert "CHECK-SAID-NO" in r.stderr
    assert dest.read_bytes() == b"old\n"
    after = dest.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.conf", "t.tmpl"], "no staged file left"


# ---------------------------------------------------------------------------- errors
def test_template_syntax_error_names_file_and_line(tmp_path):
    tmpl = write(tmp_path / "bad.tmpl", "line one\nline two\n{% if %}\n{% endif %}\n")
    dest = write(tmp_path / "out.conf", "old\n")
    r = run_pygen(tmpl, dest)
    assert r.rc == 1, r
    assert f"{tmpl}:3" in r.stderr
    assert dest.read_text() == "old\n"


def test_template_runtime_error_names_file_and_line(fleet, tmp_path):
    tmpl = write(tmp_path / "rt.tmpl",
                 "{% for c in containers %}\n{{ c.Name }}={{ mustBeInt(c.Env.PORTNUM) }}\n{% endfor %}\n")
    dest = write(tmp_path / "out.conf", "old\n")
    r = run_pygen(*select(fleet.case), "-container-filter", "label=app.group=db", tmpl, dest)
    assert r.rc == 1, r
    assert f"{tmpl}:2" in r.stderr
    assert "mustBeInt" in r.stderr and "notanumber" in r.stderr
    assert dest.read_text() == "old\n"
    assert "Traceback" not in r.stderr


def test_unreachable_daemon_one_line_naming_the_endpoint(tmp_path):
    tmpl = write(tmp_path / "t.tmpl", "x\n")
    dest = tmp_path / "out.conf"
    r = run_pygen("-endpoint", "unix:///nonexistent.sock", tmpl, dest)
    assert r.rc == 1, r
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r
    assert "unix:///nonexistent.sock" in lines[0]
    assert not dest.exists()


@pytest.mark.parametrize("argv, needle", [
    (["-no-such-flag"], "-no-such-flag"),
    (["-interval", "soon"], "-interval"),
], ids=["unknown-flag", "bad-int"])
def test_bad_flag_prints_usage_and_exits_2(tmp_path, argv, needle):
    tmpl = write(tmp_path / "t.tmpl", "x\n")
    r = run_pygen(*argv, tmpl, tmp_path / "out")
    assert r.rc == 2, r
    assert needle in r.stderr.splitlines()[0]
    assert "Usage: pygen" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_wait_that_does_not_parse_is_one_line_and_exit_1(tmp_path):
    """As docker-gen: a fatal "Error parsing wait interval", not a usage error."""
    tmpl = write(tmp_path / "t.tmpl", "x\n")
    r = run_pygen("-wait", "500", tmpl, tmp_path / "out")
    assert r.rc == 1, r
    assert r.stderr.strip().splitlines() == ['pygen: Error parsing wait interval: time: missing unit in duration "500"']
    assert not (tmp_path / "out").exists()


def test_missing_dest_directory_is_a_clear_error(tmp_path):
    tmpl = write(tmp_path / "t.tmpl", "x\n")
    dest = tmp_path / "missing" / "out.conf"
    r = run_pygen(tmpl, dest)
    assert r.rc == 1, r
    assert str(dest) in r.stderr and "No such file or directory" in r.stderr
    assert "Traceback" not in r.stderr
    assert not dest.parent.exists()


def test_version():
    r = run_pygen("-version")
    assert (r.rc, r.stdout) == (0, f"{__version__}\n")
    assert run_pygen("--version").stdout == f"{__version__}\n"


# ---------------------------------------------------------------------------- debugging aids
def test_dump_context_has_docker_gen_shape_and_values(fleet):
    r = run_pygen(*select(fleet.case), "-dump-context")
    assert r.rc == 0, r
    data = json.loads(r.stdout)
    assert isinstance(data, list)
    assert [item["ID"] for item in data] == [c.id for c in fleet.running]
    for item in data:
        assert list(item) == DUMP_KEYS
    item = data[[c.id for c in fleet.running].index(fleet.web1.id)]
    ins = fleet.web1.inspect()
    settings = ins["NetworkSettings"]
    assert item["Created"] == ins["Created"]
    assert item["Name"] == ins["Name"].lstrip("/") == fleet.web1.name
    assert item["Hostname"] == ins["Config"]["Hostname"]
    assert item["NetworkMode"] == ins["HostConfig"]["NetworkMode"]
    assert item["Image"] == {"Registry": "", "Repository": "local/whoami", "Tag": "latest"}
    assert item["Env"] == dict(e.split("=", 1) for e in ins["Config"]["Env"])
    assert item["Env"]["TIER"] == "front"
    assert item["Labels"] == ins["Config"]["Labels"]
    assert item["Addresses"] == [{
        "IP": settings["IPAddress"], "IP6LinkLocal": settings.get("LinkLocalIPv6Address", ""),
        "IP6Global": settings["GlobalIPv6Address"], "Port": "8000", "HostPort": str(fleet.web1.host_port),
        "Proto": "tcp", "HostIP": "127.0.0.1"}]
    (network,) = item["Networks"]
    bridge = settings["Networks"]["bridge"]
    assert list(network) == ["IP", "Name", "Aliases", "Gateway", "EndpointID", "IPv6Gateway",
                             "GlobalIPv6Address", "MacAddress", "GlobalIPv6PrefixLen", "IPPrefixLen", "Internal"]
    assert network == {
        "IP": bridge["IPAddress"], "Name": "bridge", "Aliases": bridge["Aliases"] or [],
        "Gateway": bridge["Gateway"], "EndpointID": bridge["EndpointID"], "IPv6Gateway": bridge["IPv6Gateway"],
        "GlobalIPv6Address": bridge["GlobalIPv6Address"], "MacAddress": bridge["MacAddress"],
        "GlobalIPv6PrefixLen": bridge["GlobalIPv6PrefixLen"], "IPPrefixLen": bridge["IPPrefixLen"],
        "Internal": False}
    assert (item["IP"], item["Gateway"]) == (settings["IPAddress"], settings["Gateway"])
    assert item["Mounts"] is None and item["Devices"] == []
    assert item["State"] == {"Running": True, "Health": {"Status": ""}}
    # the image without EXPOSE has no address at all
    bare = data[[c.id for c in fleet.running].index(fleet.bare.id)]
    assert bare["Addresses"] == []


def test_inspect_file_renders_like_the_live_daemon(fleet, tmp_path):
    ids = [c.id for c in (*fleet.running, fleet.gone)]
    saved = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True).stdout
    inspect_file = write(tmp_path / "inspect.json", saved)
    tmpl = write(tmp_path / "all.tmpl", """\
{% for c in containers %}
{{ c.Name }} {{ c.Image }} {{ c.State.Running }} {{ c.Labels["app.group"] }} {{ c.Env.TIER }}
{% for a in c.Addresses %}  {{ a.IP }} {{ a.Port }}/{{ a.Proto }} {{ a.HostIP }}:{{ a.HostPort }}
{% endfor %}
{% endfor %}
{{ toPrettyJson(containers) }}
""")
    live = run_pygen(*select(fleet.case), tmpl)
    offline = run_pygen("-inspect-file", inspect_file, *select(fleet.case), tmpl,
                        env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert live.rc == 0, live
    assert offline.rc == 0, offline
    assert offline.stdout == live.stdout
    assert fleet.web1.name in live.stdout and fleet.gone.name not in live.stdout
    # the same flags select the same containers from the file
    stopped = run_pygen("-inspect-file", inspect_file, "-include-stopped", *select(fleet.case), tmpl)
    assert stopped.rc == 0 and fleet.gone.name in stopped.stdout


def test_config_file_with_two_sections(fleet, tmp_path):
    write(tmp_path / "web.tmpl", NAMES_TMPL)
    write(tmp_path / "all.tmpl", "{% for c in containers %}all:{{ c.Name }}\n{% endfor %}")
    config = write(tmp_path / "pygen.toml", f"""\
[[config]]
template = "{tmp_path / 'web.tmpl'}"
dest = "{tmp_path / 'web.out'}"
[config.ContainerFilter]
label = ["{CASE_LABEL}={fleet.case}", "app.group=web"]

[[config]]
Template = "{tmp_path / 'all.tmpl'}"
Dest = "{tmp_path / 'all.out'}"
notifyCmd = "echo notified-all >> {tmp_path / 'marker'}"
[config.containerfilter]
label = ["{CASE_LABEL}={fleet.case}"]
""")
    r = run_pygen("-config", config)
    assert r.rc == 0, r
    assert names((tmp_path / "web.out").read_text()) == [fleet.web2.name, fleet.web1.name]
    # config mode: running containers only unless asked otherwise (docker-gen shows stopped ones)
    assert names((tmp_path / "all.out").read_text()) == [f"all:{c.name}" for c in fleet.running]
    assert (tmp_path / "marker").read_text() == "notified-all\n"


def test_two_config_files_are_concatenated(fleet, tmp_path):
    write(tmp_path / "names.tmpl", NAMES_TMPL)
    configs = []
    for group in ("web", "db"):
        configs += ["-config", write(tmp_path / f"{group}.toml", f"""\
[[config]]
template = "{tmp_path / 'names.tmpl'}"
dest = "{tmp_path / group}.out"
[config.ContainerFilter]
label = ["{CASE_LABEL}={fleet.case}", "app.group={group}"]
""")]
    r = run_pygen(*configs)
    assert r.rc == 0, r
    assert names((tmp_path / "web.out").read_text()) == [fleet.web2.name, fleet.web1.name]
    assert names((tmp_path / "db.out").read_text()) == [fleet.db1.name]
