"""The service-discovery templates and the registration library, without running services.

* templates/register.py.j2: registrator's naming rules, and the proof that values from Docker are
  data: a hostile name, label or env changes what is registered, never what the script does.
* templates/haproxy.cfg.j2: validation, port conflicts, stable output, no injected line, and every
  output accepted by ``haproxy -c`` (the haproxy binary only; no haproxy is started).
* pygen.registration: settings from the environment and validation of the embedded data.
* the ``warn`` template function.
"""
from __future__ import annotations

import ast
import json
import logging
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pygen.docker.model import container_from_inspect
from pygen.functions.registry import confd_functions, docker_gen_functions
from pygen.registration import (
    Registration,
    RegistrationError,
    main,
    parse_registrations,
    settings_from_env,
)
from pygen.templating import TemplateSet
from pygen.writer import remove_blank_lines
from tests.helpers.haproxy_template import render_haproxy

REPO = Path(__file__).resolve().parents[2]
REGISTER = REPO / "templates" / "register.py.j2"

# Everything that has broken a code generator somewhere: quotes of both kinds and in threes,
# backslashes (also before a quote), newlines, Jinja delimiters, Python statements, NUL,
# Unicode line separators, non-BMP characters.
HOSTILE = [
    "'", '"', "'''", '"""', "\\", "\\'", "\\\\'", "'\n", "\n", "\r\n", "\x00", "\t", "\x0b\x0c",
    "{{ 7*7 }}", "{% raw %}", "%}", "#}", "{#",
    "; import os; os.system('touch PWNED')",
    "');open('PWNED','w').write('x');('",
    "'''+open('PWNED','w').write('x')+'''",
    '"""+open("PWNED","w").write("x")+"""',
    "\\u0027", "\\x27", "\u2028\u2029\u0085", "é日本語🙂", "\ufeff",
    "web\nlisten pwn\n    bind :1",
]


# ------------------------------------------------------------------------------ helpers


def inspect(cid: str, name: str = "web", image: str = "local/whoami:latest",
            ports: dict[str, Any] | None = None, env: dict[str, str] | None = None,
            labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A minimal `docker inspect` dict of a running container."""
    if ports is None:
        ports = {"8000/tcp": [{"HostIp": "127.0.0.2", "HostPort": "32768"}]}
    return {
        "Id": cid.ljust(64, "0"),
        "Name": "/" + name,
        "Created": "2024-01-01T00:00:00Z",
        "Config": {"Image": image, "Env": [f"{k}={v}" for k, v in (env or {}).items()],
                   "Labels": labels or {}, "ExposedPorts": {key: {} for key in ports}},
        "NetworkSettings": {"Ports": ports, "Networks": {}},
        "HostConfig": {},
        "State": {"Running": True},
    }


def render_register(*inspects: dict[str, Any]) -> str:
    containers = [container_from_inspect(item) for item in inspects]
    text = TemplateSet([str(REGISTER)], docker_gen_functions()).render({"containers": containers, "Env": {}})
    return remove_blank_lines(text)


def embedded_data(script: str) -> dict[str, Any]:
    """The JSON the script embeds, found through the AST (which also proves the script parses)."""
    tree = ast.parse(script)
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["DATA"]:
            call = node.value
            assert isinstance(call, ast.Call) and len(call.args) == 1
            assert isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
            return json.loads(call.args[0].value)
    raise AssertionError("no DATA assignment in the script")


def code_shape(script: str) -> str:
    """The script's AST with the embedded JSON string blanked: the code, without the data."""
    tree = ast.parse(script)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and node.args[0].value.lstrip().startswith("{"):
            node.args[0].value = "<data>"
    return ast.dump(tree)


def regs(script: str) -> list[tuple[str, str, str, str]]:
    return [(r["service"], r["id"], r["port"], r["host_port"]) for r in embedded_data(script)["registrations"]]


def two_ports(web: str = "32768", admin: str = "32769") -> dict[str, Any]:
    return {"8000/tcp": [{"HostIp": "127.0.0.2", "HostPort": web}],
            "9000/tcp": [{"HostIp": "127.0.0.2", "HostPort": admin}]}


# ------------------------------------------------------------------------------ register naming


@pytest.mark.parametrize("image, service", [
    ("local/whoami:latest", "whoami"),
    ("jwilder/whoami", "whoami"),
    ("redis:7", "redis"),
    ("registry.example.com:5000/team/app:1.2", "app"),
])
def test_service_is_the_image_basename(image, service):
    assert regs(render_register(inspect("a1", image=image))) == [(service, "a10000000000", "8000", "32768")]


def test_service_name_from_env_label_and_port_specific_keys():
    env_only = inspect("a1", env={"SERVICE_NAME": "api"})
    label_wins = inspect("b1", env={"SERVICE_NAME": "api"}, labels={"SERVICE_NAME": "web"})
    port_wins = inspect("c1", env={"SERVICE_8000_NAME": "front"}, labels={"SERVICE_NAME": "web"})
    other_port = inspect("d1", env={"SERVICE_9000_NAME": "nope"})
    assert regs(render_register(env_only, label_wins, port_wins, other_port)) == [
        ("api", "a10000000000", "8000", "32768"),
        ("web", "b10000000000", "8000", "32768"),
        ("front", "c10000000000", "8000", "32768"),
        ("whoami", "d10000000000", "8000", "32768"),
    ]


def test_several_published_ports_give_one_service_per_port():
    plain = inspect("a1", ports=two_ports())
    named = inspect("b1", ports=two_ports(), env={"SERVICE_NAME": "api"})
    port_named = inspect("c1", ports=two_ports(), labels={"SERVICE_9000_NAME": "admin"})
    assert regs(render_register(plain, named, port_named)) == [
        ("whoami-8000", "a10000000000", "8000", "32768"),
        ("whoami-9000", "a10000000000", "9000", "32769"),
        ("api-8000", "b10000000000", "8000", "32768"),
        ("api-9000", "b10000000000", "9000", "32769"),
        ("whoami-8000", "c10000000000", "8000", "32768"),
        ("admin", "c10000000000", "9000", "32769"),
    ]


def test_ignore_the_container_or_one_port():
    ignored = inspect("a1", env={"SERVICE_IGNORE": "1"})
    ignored_by_label = inspect("b1", labels={"SERVICE_IGNORE": "yes"})
    one_port = inspect("c1", ports=two_ports(), labels={"SERVICE_9000_IGNORE": "true"})
    empty_value = inspect("d1", env={"SERVICE_IGNORE": ""})  # registrator: only a non-empty value ignores
    assert regs(render_register(ignored, ignored_by_label, one_port, empty_value)) == [
        ("whoami-8000", "c10000000000", "8000", "32768"),
        ("whoami", "d10000000000", "8000", "32768"),
    ]


def test_unpublished_udp_and_portless_containers_are_skipped():
    unpublished = inspect("a1", ports={"8000/tcp": None})
    udp = inspect("b1", ports={"53/udp": [{"HostIp": "127.0.0.2", "HostPort": "5353"}]})
    portless = inspect("c1", ports={})
    one_of_two = inspect("d1", ports={"8000/tcp": [{"HostIp": "127.0.0.2", "HostPort": "32770"}],
                                      "9000/tcp": None})
    script = render_register(unpublished, udp, portless, one_of_two)
    # one published port: no -<port> suffix (registrator counts exposed ports; we count published)
    assert regs(script) == [("whoami", "d10000000000", "8000", "32770")]
    assert embedded_data(script)["skipped"] == []


def test_invalid_names_are_skipped_reported_and_logged(caplog):
    bad = inspect("a1", name="bad", labels={"SERVICE_NAME": "a/b"})
    long = inspect("b1", env={"SERVICE_NAME": "x" * 65})
    dot = inspect("c1", env={"SERVICE_NAME": ".hidden"})
    ok = inspect("d1", env={"SERVICE_NAME": "A-ok_1.2"})
    with caplog.at_level(logging.WARNING, logger="pygen"):
        script = render_register(bad, long, dot, ok)
    assert regs(script) == [("A-ok_1.2", "d10000000000", "8000", "32768")]
    skipped = embedded_data(script)["skipped"]
    assert [(s["container"], s["reason"], s["value"]) for s in skipped] == [
        ("bad", "invalid service name", "a/b"),
        ("web", "invalid service name", "x" * 65),
        ("web", "invalid service name", ".hidden"),
    ]
    assert sum("invalid service name" in r.getMessage() for r in caplog.records) == 3


def test_same_service_twice_on_one_container_keeps_the_first_port():
    both = inspect("a1", ports=two_ports(), env={"SERVICE_8000_NAME": "web", "SERVICE_9000_NAME": "web"})
    script = render_register(both)
    assert regs(script) == [("web", "a10000000000", "8000", "32768")]
    assert embedded_data(script)["skipped"][0]["reason"] == "service already has this container"


def test_registrations_are_sorted_by_container_id_and_ids_have_12_characters():
    script = render_register(inspect("ff"), inspect("0a"), inspect("5c"))
    assert [r[1] for r in regs(script)] == ["0a0000000000", "5c0000000000", "ff0000000000"]


def test_no_container_gives_a_valid_script_with_no_registration():
    script = render_register()
    assert embedded_data(script) == {"registrations": [], "skipped": []}
    compile(script, "register.py", "exec")


# ------------------------------------------------------------------------------ register: data, not code


def test_tojson_never_emits_a_quote_a_newline_or_non_ascii():
    """Why the raw string r'''...''' cannot be closed early: Jinja's tojson escapes ' (and < > &)
    and json.dumps escapes every control and non-ASCII character, so the embedded text has no
    quote, no line break and no backslash sequence that Python would read differently."""
    import jinja2

    env = jinja2.Environment()
    everything = "".join(chr(c) for c in range(0x3000)) + "".join(HOSTILE) + "\U0001f642"
    out = env.from_string("{{ v|tojson(indent=1) }}").render(v={"k": everything, everything: [everything]})
    assert "'" not in out
    assert out.isascii()
    assert all(ch == "\n" or ch.isprintable() for ch in out)  # only the indentation newlines
    assert not out.endswith("\\")
    assert json.loads(out) == {"k": everything, everything: [everything]}
    assert eval("r'''" + out + "'''") == out  # the exact construct the template uses


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_values_are_data_in_the_script(payload, tmp_path):
    benign = render_register(inspect("a1", name="web"), inspect("b1", name="api", env={"SERVICE_NAME": "x"}))
    hostile = render_register(
        inspect("a1", name="web" + payload, labels={"note": payload, "SERVICE_TAGS": payload}),
        inspect("b1", name="api", env={"SERVICE_NAME": payload, "OTHER": payload}),
    )
    # the code is the same; only the embedded JSON differs
    assert code_shape(hostile) == code_shape(benign)
    data = embedded_data(hostile)
    assert data["registrations"][0]["container"] == "web" + payload
    if payload:  # every payload is an invalid service name
        assert data["skipped"][0]["value"] == payload
    # and running the script hands exactly that data over, executing nothing else
    stub = tmp_path / "stub" / "pygen"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("")
    (stub / "registration.py").write_text(
        "import json, os\n"
        "def main(data, path):\n"
        "    with open(os.environ['OUT'], 'w') as f:\n"
        "        json.dump(data, f)\n"
        "    return 0\n")
    script = tmp_path / "register.py"
    script.write_text(hostile, encoding="utf-8")
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(tmp_path / "stub"), "OUT": str(out)},
                            timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == data
    assert not (tmp_path / "PWNED").exists()


def test_hostile_script_passes_the_same_registrations_as_a_clean_one():
    clean = render_register(inspect("a1", name="web"))
    dirty = render_register(inspect("a1", name="web", labels={"x": "'''\n{{ 1 }}%}"}, env={"Y": '"""\\'}))
    assert embedded_data(dirty) == embedded_data(clean)
    assert dirty == clean  # labels that are not SERVICE_* do not even reach the script


# ------------------------------------------------------------------------------ haproxy template


def listens(cfg: str) -> dict[str, list[str]]:
    """``listen`` sections -> their indented lines, comments dropped."""
    out: dict[str, list[str]] = {}
    current = None
    for line in cfg.splitlines():
        if line.startswith("listen "):
            current = line.split()[1]
            out[current] = []
        elif line.startswith((" ", "\t")) and current and not line.strip().startswith("#"):
            out[current].append(line.strip())
        elif not line.startswith((" ", "\t")):
            current = None
    return out


def directive_lines(cfg: str) -> list[str]:
    return [line for line in cfg.splitlines() if line.strip() and not line.lstrip().startswith("#")]


BASIC = {
    "/backends/whoami/port": "8000",
    "/backends/whoami/bbbbbbbbbbbb": "127.0.0.3:32769",
    "/backends/whoami/aaaaaaaaaaaa": "127.0.0.2:32768",
    "/backends/api/port": "9000",
    "/backends/api/cccccccccccc": "127.0.0.2:40000",
}

HOSTILE_KV = {
    **BASIC,
    "/backends/evil\n  bind :1/x": "1.2.3.4:80",
    "/backends/web/x": "1.2.3.4:80\nlisten pwn",
    "/backends/web/port": "9100\n    bind :2",
    "/backends/web/y\r\nlisten pwn2": "1.2.3.4:80",
    "/backends/ok/port": "9200",
    "/backends/ok/z": "1.2.3.4:80 backup",
    "/backends/ok/w": "01.2.3.4:80",
    "/backends/ok/v": "1.2.3.4:080",
    "/backends/ok/u": "1.2.3.4:70000",
    "/backends/ok/t": "1.2.3:80",
    "/backends/ok/s": "localhost:80",
    "/backends/ok/r": "[::1]:80",
    "/backends/ok/q": "1.2.3.4:80#",
    "/backends/ok/p": "1.2.3.4:80",
    "/backends/k'\"/port": "1",
    "/backends/日本/port": "9300",
    "/backends/日本/a": "1.2.3.4:80",
    "/backends/x/{{ 7*7 }}": "1.2.3.4:80",
    "/backends/deep/a/b": "1.2.3.4:80",
    "/backends/leaf": "1.2.3.4:80",
    "/backends/" + "n" * 65 + "/a": "1.2.3.4:80",
    "/unrelated/key": "1.2.3.4:80",
}


def test_one_listener_per_service_servers_sorted_with_health_checks():
    cfg = render_haproxy(BASIC)
    assert listens(cfg) == {
        "pygen:stats": ["bind 127.0.0.1:1936", "mode http", "stats enable", "stats uri /", "stats refresh 5s"],
        "api": ["bind *:9000", "balance roundrobin",
                "server cccccccccccc 127.0.0.2:40000 check inter 2s rise 3 fall 2"],
        "whoami": ["bind *:8000", "balance roundrobin",
                   "server aaaaaaaaaaaa 127.0.0.2:32768 check inter 2s rise 3 fall 2",
                   "server bbbbbbbbbbbb 127.0.0.3:32769 check inter 2s rise 3 fall 2"],
    }
    defaults = cfg.split("defaults\n", 1)[1].split("listen ", 1)[0]
    for line in ("mode http", "option redispatch 1", "retries 3", "option idle-close-on-response",
                 "retry-on conn-failure empty-response"):
        assert f"    {line}\n" in defaults


def test_output_is_identical_whatever_the_key_order():
    items = list(HOSTILE_KV.items())
    first = render_haproxy(dict(items))
    for seed in range(5):
        random.Random(seed).shuffle(items)
        assert render_haproxy(dict(items)) == first


def test_settings_from_the_environment():
    cfg = render_haproxy(BASIC, {"HAPROXY_BIND_IP": "127.0.0.1", "HAPROXY_STATS": "127.0.0.5:2000",
                                 "HAPROXY_TCP_SERVICES": " api ,other", "HAPROXY_MAXCONN": "100",
                                 "HAPROXY_RETRY_ON": "conn-failure 503"})
    sections = listens(cfg)
    assert sections["pygen:stats"][0] == "bind 127.0.0.5:2000"
    assert sections["whoami"][0] == "bind 127.0.0.1:8000"
    assert sections["api"][:4] == ["bind 127.0.0.1:9000", "mode tcp", "no option idle-close-on-response",
                                   "balance roundrobin"]
    assert "    maxconn 100\n" in cfg and "    retry-on conn-failure 503\n" in cfg
    tcp = render_haproxy(BASIC, {"HAPROXY_MODE": "tcp"})
    assert "    mode tcp\n" in tcp and "idle-close-on-response" not in tcp and "retry-on" not in tcp


def test_a_state_file_makes_each_reload_start_from_the_servers_last_state(haproxy_bin, tmp_path):
    cfg = render_haproxy(BASIC, {"HAPROXY_STATE_FILE": "/run/haproxy/server-state"})
    global_section = cfg.split("global\n", 1)[1].split("defaults\n", 1)[0]
    defaults = cfg.split("defaults\n", 1)[1].split("listen ", 1)[0]
    assert "    server-state-file /run/haproxy/server-state\n" in global_section
    assert "    load-server-state-from-file global\n" in defaults
    assert "server-state" not in render_haproxy(BASIC)
    path = tmp_path / "state.cfg"
    path.write_text(cfg)
    check = subprocess.run([haproxy_bin, "-c", "-q", "-f", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr  # no state file yet: haproxy starts anyway


@pytest.mark.parametrize("env", [
    {"HAPROXY_BIND_IP": "1.2.3.4\nlisten pwn"}, {"HAPROXY_BIND_IP": "::"}, {"HAPROXY_STATS": "1936"},
    {"HAPROXY_STATS": "127.0.0.1:1936 # x"}, {"HAPROXY_MODE": "health"}, {"HAPROXY_RETRY_ON": "none\nlisten x"},
    {"HAPROXY_MAXCONN": "-1"}, {"REGISTER_PREFIX": "/backends\nlisten pwn"}, {"REGISTER_PREFIX": "backends"},
    {"HAPROXY_STATE_FILE": "state"}, {"HAPROXY_STATE_FILE": "/run/state\nlisten pwn"},
    {"HAPROXY_STATE_FILE": "/run/a state"}, {"HAPROXY_STATE_FILE": "/run/../etc/passwd"},
])
def test_bad_settings_fail_closed_without_copying_them(env, haproxy_bin, tmp_path):
    """A bad setting must not reach the file: it is named in a comment and a deliberately invalid
    line makes haproxy (and -check-cmd) refuse the file, so the running config stays."""
    cfg = render_haproxy(BASIC, env)
    assert "invalid-haproxy-settings-see-comments-above" in cfg.splitlines()
    assert "pwn" not in cfg and "# x" not in cfg
    path = tmp_path / "bad.cfg"
    path.write_text(cfg)
    assert subprocess.run([haproxy_bin, "-c", "-q", "-f", str(path)], capture_output=True, check=False).returncode != 0


def test_hostile_keys_and_values_inject_nothing():
    cfg = render_haproxy(HOSTILE_KV)
    sections = listens(cfg)
    assert set(sections) == {"pygen:stats", "api", "whoami", "ok"}
    assert sections["ok"] == ["bind *:9200", "balance roundrobin", "server p 1.2.3.4:80 check inter 2s rise 3 fall 2"]
    # every non-comment line is one the template writes itself
    allowed_starts = ("global", "defaults", "listen ", "    maxconn", "    hard-stop-after", "    mode ",
                      "    timeout ", "    option ", "    retries ", "    retry-on ", "    bind ",
                      "    stats ", "    balance ", "    server ")
    for line in directive_lines(cfg):
        assert line.startswith(allowed_starts), line
    assert "pwn" not in "\n".join(directive_lines(cfg))
    comments = [line for line in cfg.splitlines() if line.lstrip().startswith("#")]
    assert any('"/backends/evil\\n  bind :1/x"' in line for line in comments)
    assert any('"1.2.3.4:80\\nlisten pwn"' in line for line in comments)
    assert any("\\u65e5\\u672c" in line for line in comments)  # shown escaped, never raw
    assert all(line.isascii() for line in cfg.splitlines())
    assert "/unrelated/key" not in cfg


def test_port_conflicts_lexically_smallest_name_wins_and_is_logged(caplog):
    kv = {**BASIC, "/backends/aaa/port": "8000", "/backends/aaa/x1": "127.0.0.2:1",
          "/backends/zzz/port": "8000", "/backends/zzz/x2": "127.0.0.2:2",
          "/backends/stats/port": "1936", "/backends/stats/x3": "127.0.0.2:3"}
    with caplog.at_level(logging.WARNING, logger="pygen"):
        cfg = render_haproxy(kv)
    sections = listens(cfg)
    assert set(sections) == {"pygen:stats", "aaa", "api"}
    assert sections["aaa"][0] == "bind *:8000"
    assert "# skipped: service whoami: port 8000 already belongs to aaa (lexically smallest name wins), not served" in cfg
    assert "# skipped: service zzz: port 8000 already belongs to aaa (lexically smallest name wins), not served" in cfg
    assert "# skipped: service stats: port 1936 is the stats port, not served" in cfg
    messages = [r.getMessage() for r in caplog.records]
    assert sum("port conflict" in m for m in messages) == 2
    assert any("stats page" in m for m in messages)


def test_a_service_needs_a_port_and_a_server():
    cfg = render_haproxy({"/backends/a/port": "8000", "/backends/b/x": "1.2.3.4:80"})
    assert set(listens(cfg)) == {"pygen:stats"}
    assert "# skipped: service a: no valid server, not served" in cfg
    assert "# skipped: service b: no valid port key, not served" in cfg


def test_prefix_comes_from_register_prefix():
    cfg = render_haproxy({"/sd/web/port": "8000", "/sd/web/a": "1.2.3.4:80", **BASIC}, {"REGISTER_PREFIX": "/sd/"})
    assert set(listens(cfg)) == {"pygen:stats", "web"}


@pytest.mark.parametrize("kv, env", [
    ({}, {}),
    (BASIC, {}),
    (HOSTILE_KV, {}),
    (HOSTILE_KV, {"HAPROXY_BIND_IP": "127.0.0.1", "HAPROXY_TCP_SERVICES": "api,ok", "HAPROXY_STATS": "*:1937"}),
    (BASIC, {"HAPROXY_MODE": "tcp"}),
    ({"/backends/a/port": "8000", "/backends/b/port": "8000", "/backends/a/1": "127.0.0.1:1",
      "/backends/b/1": "127.0.0.1:2"}, {}),
], ids=["empty", "basic", "hostile", "hostile-settings", "tcp", "conflict"])
def test_haproxy_accepts_every_output(kv, env, haproxy_bin, tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(render_haproxy(kv, env))
    result = subprocess.run([haproxy_bin, "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in (result.stdout + result.stderr).upper(), result.stdout + result.stderr


# ------------------------------------------------------------------------------ registration library


def test_host_ip_is_required_with_a_clear_message():
    with pytest.raises(RegistrationError, match="HOST_IP is not set"):
        settings_from_env({}, "/tmp/register.py")
    for bad in ("10.0.0", "::1", "host", "0.0.0.0", "1.2.3.4\nx", "1.2.3.4:80"):
        with pytest.raises(RegistrationError, match="HOST_IP"):
            settings_from_env({"HOST_IP": bad}, None)


def test_settings_defaults_and_the_seeds_variables(tmp_path):
    settings = settings_from_env({"HOST_IP": "10.0.0.5"}, tmp_path / "register.py")
    assert (settings.prefix, settings.ttl, settings.api, settings.endpoints) == (
        "/backends", 15, "v3", ("http://127.0.0.1:2379",))
    assert settings.state_file == Path(f"{tmp_path / 'register.py'}.lease")
    seed = settings_from_env({"HOST_IP": "10.0.0.5", "ETCD_HOST": "10.1.1.1:4001", "ETCD_API": "v2",
                              "REGISTER_TTL": "30", "REGISTER_PREFIX": "/sd/", "REGISTER_STATE_FILE": "/x/y"}, None)
    assert (seed.endpoints, seed.api, seed.ttl, seed.prefix, seed.state_file) == (
        ("http://10.1.1.1:4001",), "v2", 30, "/sd", Path("/x/y"))
    many = settings_from_env({"HOST_IP": "10.0.0.5", "ETCD_ENDPOINTS": "http://a:1, http://b:2",
                              "ETCD_HOST": "ignored:1"}, None)
    assert many.endpoints == ("http://a:1", "http://b:2")


@pytest.mark.parametrize("env, variable", [
    ({"REGISTER_TTL": "1"}, "REGISTER_TTL"), ({"REGISTER_TTL": "x"}, "REGISTER_TTL"),
    ({"REGISTER_PREFIX": "backends"}, "REGISTER_PREFIX"), ({"REGISTER_PREFIX": "/a//b"}, "REGISTER_PREFIX"),
    ({"REGISTER_PREFIX": "/a b"}, "REGISTER_PREFIX"), ({"ETCD_API": "v4"}, "ETCD_API"),
    ({"ETCD_ENDPOINTS": "ftp://x"}, "ETCD_ENDPOINTS"), ({"REGISTER_TIMEOUT": "soon"}, "REGISTER_TIMEOUT"),
])
def test_bad_settings_name_the_variable(env, variable):
    with pytest.raises(RegistrationError, match=variable):
        settings_from_env({"HOST_IP": "10.0.0.5", **env}, None)


def test_main_fails_with_one_line_when_misconfigured(capsys):
    assert main({"registrations": [], "skipped": []}, "/tmp/x.py", environ={}) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("register: HOST_IP is not set")


def test_embedded_data_is_validated_again():
    """A hand-edited template must not be able to write outside <prefix>/<service>/."""
    warnings: list[str] = []
    good = {"service": "web", "id": "abc", "port": "8000", "host_port": "32768", "container": "c"}
    data = {"registrations": [
        good,
        {**good, "service": "../etc"}, {**good, "service": "a/b"}, {**good, "service": "a\nb"},
        {**good, "id": "x/y"}, {**good, "id": "port"}, {**good, "port": "0"}, {**good, "host_port": "65536"},
        {**good, "port": "80\n"}, good, "not an object",
    ], "skipped": [{"container": "x\ny", "port": "1", "reason": "invalid service name", "value": "'\n"}]}
    assert parse_registrations(data, warnings) == [Registration("web", "abc", "8000", "32768", "c")]
    assert len(warnings) == 11
    assert all("\n" not in warning for warning in warnings)


# ------------------------------------------------------------------------------ warn()


def test_warn_logs_one_escaped_line_and_renders_nothing(caplog):
    warn = docker_gen_functions()["warn"]
    with caplog.at_level(logging.WARNING, logger="pygen"):
        assert warn("service", "a\nb\x00", None, 3) == ""
    assert [r.getMessage() for r in caplog.records] == ["service a\\nb\\x00  3"]
    assert "warn" in confd_functions({})
