"""The real ``etcd-gen`` command, one-shot, against a real etcd 3.4 (no dockerd needed).

What: etcd-gen as a confd or docker-gen user runs it from a shell, without ``-watch``: render a
template over ``-prefix`` key trees (``kv``, ``tree``, confd's ``getv``/``ls``/``lsdir``), find
etcd from ``-endpoints`` or the environment and fail over past a dead member, and, when anything
goes wrong (etcd unreachable, a broken template, a failing ``-check-cmd``, too few keys for
``-min-keys``, a bad flag), exit non-zero with a short message and leave the existing
destination exactly as it was (same bytes, inode and mtime). Also: ``-notify`` only after a
real change, ``-dump-context``, values that are not UTF-8, hostile values, and ``-api v2``.

How: every test runs ``etcd-gen`` in a subprocess (``python -c "... pygen.etcd_cli.main()"``, as
test_service_discovery.py does) with a timeout, in an environment without ``ETCD_*`` variables
(only what a test sets counts) and without proxy variables. ``etcd_clean`` is the session's
one-node etcd (``--enable-v2=true``, free loopback ports) with every v2 and v3 key deleted before
the test, so tests can use the keys a user would (``/svc/...``). v3 keys are written in one
transaction through etcd's JSON gateway (bytes allowed), v2 keys with ``etcdctl`` (v2 API).
"Dead" endpoints are free loopback ports that nothing listens on. Every file is under tmp_path.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import free_ports

pytestmark = pytest.mark.etcd

ETCD_GEN = [sys.executable, "-c", "import sys; from pygen.etcd_cli import main; sys.exit(main())"]
USAGE_LINE = "Usage: etcd-gen [options] template [dest]"
OLD_MTIME_NS = 1_000_000_000 * 10**9  # 2001-09-09: any rewrite of a dest file moves its mtime
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
_LOG_PREFIX = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ")


# ---------------------------------------------------------------------------- helpers
@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def messages(self) -> list[str]:
        """stderr's lines without the log timestamp (``2024/01/02 03:04:05 ``)."""
        return [_LOG_PREFIX.sub("", line) for line in self.stderr.splitlines()]

    def __str__(self) -> str:
        return f"rc={self.rc} ({self.seconds:.2f}s)\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def etcd_gen(*args: object, env: dict[str, str] | None = None, cwd: Path | None = None,
             timeout: float = 30.0) -> Run:
    """``etcd-gen ARGS`` to completion. The environment is the test's own minus ``ETCD_*`` and
    proxy variables, plus ``env``."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("ETCD_") and k.lower() not in _PROXY_VARS}
    environment.update(env or {})
    started = time.monotonic()
    proc = subprocess.run([*ETCD_GEN, *map(str, args)], capture_output=True, timeout=timeout, env=environment,
                          cwd=cwd, stdin=subprocess.DEVNULL, check=False)
    return Run(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"),
               time.monotonic() - started)


def _b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def put(etcd, pairs: dict[str | bytes, str | bytes]) -> None:
    """Write v3 keys (text or raw bytes) in one transaction through etcd's JSON gateway."""
    body = {"success": [{"request_put": {"key": _b64(k), "value": _b64(v)}} for k, v in pairs.items()]}
    request = urllib.request.Request(f"{etcd.endpoint}/v3/kv/txn", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with _NO_PROXY.open(request, timeout=5) as response:
        answer = json.loads(response.read())
    assert answer.get("succeeded") is True, answer


def put_v2(etcd, pairs: dict[str, str]) -> None:
    for key, value in pairs.items():
        etcd.etcdctl("set", key, value, api="2")


def dead_endpoints(count: int) -> list[str]:
    """``http://127.0.0.1:PORT`` on free ports: nothing listens there (connection refused)."""
    return [f"http://127.0.0.1:{port}" for port in free_ports(count)]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def existing_dest(path: Path, text: str = "old content\n") -> Path:
    """A destination that already exists, with an old mtime, so that any rewrite would show."""
    path.write_text(text)
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    return path


def fingerprint(path: Path) -> tuple[bytes, int, int]:
    """What "left untouched" means: the same bytes, the same inode, the same mtime."""
    st = path.stat()
    return path.read_bytes(), st.st_ino, st.st_mtime_ns


def listing(directory: Path) -> list[str]:
    """File names in ``directory`` (a check command's staged copy must not be left behind)."""
    return sorted(p.name for p in directory.iterdir())


def count_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def notify_marker(tmp_path: Path) -> tuple[Path, str]:
    """A marker file and the ``-notify`` command that appends one line to it per run."""
    marker = tmp_path / "notified"
    return marker, f"echo notified >> {shlex.quote(str(marker))}"


KV_LINES = "{% for key, value in kv.items() %}{{ key }}={{ value }}\n{% endfor %}"
"""The simplest template: one line per key, the value written as it is."""

SERVICES = {
    "/svc/web/1": "10.0.0.1:80",
    "/svc/web/2": "10.0.0.2:80",
    "/svc/db/main": "10.0.0.9:5432",
    "/svc/name": "demo",
    "/svcx/decoy": "not below /svc",  # a path prefix: /svc does not select /svcx
    "/other/x": "y",
}


# ---------------------------------------------------------------------------- rendering
CONFD_TEMPLATE = """\
{% for key, value in kv.items() %}{{ key }} = {{ value }}
{% endfor %}
web:{% for id, address in tree.svc.web.items() %} {{ id }}@{{ address }}{% endfor %}
db: {{ tree.svc.db.main }}
name: {{ getv("/svc/name") }}, missing: {{ getv("/svc/missing", "fallback") }}
ls /svc: {{ ls("/svc") | join(",") }}
lsdir /svc: {{ lsdir("/svc") | join(",") }}
ls /svc/web: {{ ls("/svc/web") | join(",") }}
"""

CONFD_RENDERED = """\
/svc/db/main = 10.0.0.9:5432
/svc/name = demo
/svc/web/1 = 10.0.0.1:80
/svc/web/2 = 10.0.0.2:80
web: 1@10.0.0.1:80 2@10.0.0.2:80
db: 10.0.0.9:5432
name: demo, missing: fallback
ls /svc: db,name,web
lsdir /svc: db,web
ls /svc/web: 1,2
"""


def test_one_shot_render_with_kv_tree_and_confd_functions(etcd_clean, tmp_path):
    put(etcd_clean, SERVICES)
    tmpl = write(tmp_path / "svc.tmpl", CONFD_TEMPLATE)
    dest = tmp_path / "svc.conf"
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc", tmpl, dest)
    assert r.rc == 0, r
    # kv sorted by key; ls lists leaves and directories, lsdir only directories (confd)
    assert dest.read_text() == CONFD_RENDERED
    assert r.messages == [f"Generated '{dest}' from 4 keys"]


def test_without_dest_the_render_goes_to_stdout(etcd_clean, tmp_path):
    put(etcd_clean, SERVICES)
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc", write(tmp_path / "svc.tmpl", CONFD_TEMPLATE))
    assert r.rc == 0, r
    assert r.stdout == CONFD_RENDERED
    assert listing(tmp_path) == ["svc.tmpl"]


def test_two_prefix_flags_select_both_subtrees_and_nothing_else(etcd_clean, tmp_path):
    put(etcd_clean, SERVICES)
    dest = tmp_path / "out.conf"
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc/web", "-prefix", "/other",
                 write(tmp_path / "kv.tmpl", KV_LINES), dest)
    assert r.rc == 0, r
    assert dest.read_text() == "/other/x=y\n/svc/web/1=10.0.0.1:80\n/svc/web/2=10.0.0.2:80\n"


def test_failover_past_a_dead_first_endpoint(etcd_clean, tmp_path):
    put(etcd_clean, SERVICES)
    (dead,) = dead_endpoints(1)
    dest = tmp_path / "svc.conf"
    r = etcd_gen("-endpoints", f"{dead},{etcd_clean.endpoint}", "-prefix", "/svc",
                 write(tmp_path / "svc.tmpl", CONFD_TEMPLATE), dest)
    assert r.rc == 0, r
    assert dest.read_text() == CONFD_RENDERED
    assert r.messages == [f"Generated '{dest}' from 4 keys"], "a member that is down is skipped quietly"


# ---------------------------------------------------------------------------- endpoints from the environment
@pytest.mark.parametrize("env, flags", [
    ({"ETCD_ENDPOINTS": "{real}"}, []),
    ({"ETCD_ENDPOINTS": "{dead}, {real}"}, []),
    ({"ETCD_HOST": "{real_host_port}"}, []),
    ({"ETCD_ENDPOINTS": "{real}", "ETCD_HOST": "{dead_host_port}"}, []),
    ({"ETCD_ENDPOINTS": "", "ETCD_HOST": "{real_host_port}"}, []),
    ({"ETCD_ENDPOINTS": "{dead}", "ETCD_HOST": "{dead_host_port}"}, ["-endpoints", "{real}"]),
], ids=["ETCD_ENDPOINTS", "ETCD_ENDPOINTS-dead-first", "ETCD_HOST-host:port", "ETCD_ENDPOINTS-before-ETCD_HOST",
        "empty-ETCD_ENDPOINTS-falls-to-ETCD_HOST", "flag-before-both"])
def test_endpoints_default_from_the_environment(etcd_clean, tmp_path, env, flags):
    value = f"demo-{secrets.token_hex(4)}"  # not something an etcd on the default port could hold
    put(etcd_clean, {"/svc/name": value})
    (dead,) = dead_endpoints(1)
    places = {"real": etcd_clean.endpoint, "real_host_port": etcd_clean.endpoint.removeprefix("http://"),
              "dead": dead, "dead_host_port": dead.removeprefix("http://")}
    r = etcd_gen(*(f.format(**places) for f in flags), "-prefix", "/svc", write(tmp_path / "kv.tmpl", KV_LINES),
                 env={k: v.format(**places) for k, v in env.items()})
    assert r.rc == 0, r
    assert r.stdout == f"/svc/name={value}\n"


# ---------------------------------------------------------------------------- failures keep the last file
@pytest.mark.parametrize("api, reason", [("v3", "connection refused"), ("v2", "no member answered")])
def test_unreachable_endpoints_exit_1_name_every_endpoint_and_keep_dest(tmp_path, api, reason):
    dead = dead_endpoints(3)
    given = [dead[0], dead[1].removeprefix("http://"), dead[2]]  # host:port gets http:// in the message
    dest = existing_dest(tmp_path / "out.conf")
    before = fingerprint(dest)
    marker, notify = notify_marker(tmp_path)
    r = etcd_gen("-api", api, "-endpoints", ",".join(given), "-notify", notify,
                 write(tmp_path / "kv.tmpl", KV_LINES), dest)
    assert r.rc == 1, r
    assert len(r.messages) == 1, r  # one short line, no traceback, no usage
    message = r.messages[0]
    # every endpoint given, in order, as a URL
    assert message.startswith(f"Unable to read keys: etcd unavailable at {', '.join(dead)}: {reason}"), r
    assert r.stdout == ""
    assert fingerprint(dest) == before
    assert not marker.exists()
    assert listing(tmp_path) == ["kv.tmpl", "out.conf"]


def test_unreachable_etcd_from_the_environment_is_named_too(tmp_path):
    (dead,) = dead_endpoints(1)
    r = etcd_gen(write(tmp_path / "kv.tmpl", KV_LINES), env={"ETCD_HOST": dead.removeprefix("http://")})
    assert r.rc == 1, r
    assert r.messages == [f"Unable to read keys: etcd unavailable at {dead}: connection refused"]
    assert r.stdout == ""


def test_template_syntax_error_names_file_and_line_and_keeps_dest(etcd_clean, tmp_path):
    put(etcd_clean, SERVICES)
    tmpl = write(tmp_path / "bad.tmpl", "line one\nline two\n{% for x in %}\n{% endfor %}\n")
    dest = existing_dest(tmp_path / "out.conf")
    before = fingerprint(dest)
    r = etcd_gen("-endpoints", etcd_clean.endpoint, tmpl, dest)
    assert r.rc == 1, r
    assert len(r.messages) == 1, r
    assert r.messages[0].startswith(f"{dest}: Unable to parse template: {tmpl}:3: "), r
    assert fingerprint(dest) == before
    assert listing(tmp_path) == ["bad.tmpl", "out.conf"]


@pytest.mark.parametrize("line3, error", [
    ('{{ getv("/svc/missing") }}', "error calling getv: key does not exist: /svc/missing"),
    # confd's json on a value that is not JSON fails the render with the template line
    ('{{ json(getv("/svc/name")).port }}', "error calling json: "),
], ids=["getv-missing-key", "json-of-a-non-json-value"])
def test_template_runtime_error_names_file_and_line_and_keeps_dest(etcd_clean, tmp_path, line3, error):
    put(etcd_clean, SERVICES)
    tmpl = write(tmp_path / "rt.tmpl", f"line one\nline two\n{line3}\n")
    dest = existing_dest(tmp_path / "out.conf")
    before = fingerprint(dest)
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc", tmpl, dest)
    assert r.rc == 1, r
    assert len(r.messages) == 1, r
    assert r.messages[0].startswith(f"{dest}: Template error: {tmpl}:3: {error}"), r
    assert fingerprint(dest) == before


def test_check_cmd_gates_the_write_and_the_notify(etcd_clean, tmp_path):
    tmpl = write(tmp_path / "name.tmpl", 'name = {{ getv("/svc/name") }}\n')
    dest = existing_dest(tmp_path / "out.conf")
    marker, notify = notify_marker(tmp_path)
    check = "grep -q needle {{ src }}"
    argv = ["-endpoints", etcd_clean.endpoint, "-prefix", "/svc", "-check-cmd", check, "-notify", notify, tmpl, dest]

    # the new content has no needle: the check fails, dest is not touched, notify does not run
    put(etcd_clean, {"/svc/name": "haystack"})
    before = fingerprint(dest)
    r = etcd_gen(*argv)
    assert r.rc == 1, r
    assert len(r.messages) == 1, r
    assert re.fullmatch(rf"{re.escape(str(dest))}: Check command 'grep -q needle \S+\.pygen-staged' failed with "
                        r"exit status 1; dest not changed: ", r.messages[0]), r
    assert fingerprint(dest) == before
    assert not marker.exists()
    assert listing(tmp_path) == ["name.tmpl", "out.conf"], "the staged copy is removed"

    # now it has one: written, notified once
    put(etcd_clean, {"/svc/name": "a needle in a haystack"})
    r = etcd_gen(*argv)
    assert r.rc == 0, r
    assert dest.read_text() == "name = a needle in a haystack\n"
    assert count_lines(marker) == 1
    assert listing(tmp_path) == ["name.tmpl", "notified", "out.conf"]


def test_notify_runs_only_when_the_content_changed(etcd_clean, tmp_path):
    put(etcd_clean, {"/svc/web/1": "10.0.0.1:80"})
    tmpl = write(tmp_path / "kv.tmpl", KV_LINES)
    dest = tmp_path / "out.conf"
    marker, notify = notify_marker(tmp_path)
    argv = ["-endpoints", etcd_clean.endpoint, "-prefix", "/svc", "-notify", notify, tmpl, dest]

    r = etcd_gen(*argv)
    assert r.rc == 0, r
    assert dest.read_text() == "/svc/web/1=10.0.0.1:80\n"
    assert count_lines(marker) == 1

    # the same keys again: the file is not rewritten and nothing is notified
    os.utime(dest, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    before = fingerprint(dest)
    r = etcd_gen(*argv)
    assert r.rc == 0, r
    assert r.messages == [f"Contents of {dest} did not change. Skipping notification '{notify}'"]
    assert fingerprint(dest) == before
    assert count_lines(marker) == 1

    # a key changed: rewritten in place, notified again
    put(etcd_clean, {"/svc/web/2": "10.0.0.2:80"})
    r = etcd_gen(*argv)
    assert r.rc == 0, r
    assert dest.read_text() == "/svc/web/1=10.0.0.1:80\n/svc/web/2=10.0.0.2:80\n"
    assert dest.stat().st_ino == before[1]
    assert count_lines(marker) == 2


def test_min_keys_keeps_dest_when_the_read_has_fewer_keys(etcd_clean, tmp_path):
    put(etcd_clean, {"/svc/web/1": "10.0.0.1:80", "/svc/web/2": "10.0.0.2:80", "/other/x": "y"})
    tmpl = write(tmp_path / "kv.tmpl", KV_LINES)
    dest = existing_dest(tmp_path / "out.conf")
    before = fingerprint(dest)
    marker, notify = notify_marker(tmp_path)
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc", "-min-keys", "3", "-notify", notify,
                 tmpl, dest)
    # run_once: a render that fails (here: the min-keys guard) makes the exit code 1
    assert r.rc == 1, r
    assert r.messages == [f"{dest}: 2 keys under /svc, fewer than min-keys 3; keeping {dest}"]
    assert fingerprint(dest) == before
    assert not marker.exists()

    # enough keys: rendered (the count is over every -prefix)
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc", "-prefix", "/other", "-min-keys", "3",
                 tmpl, dest)
    assert r.rc == 0, r
    assert dest.read_text() == "/other/x=y\n/svc/web/1=10.0.0.1:80\n/svc/web/2=10.0.0.2:80\n"


def test_dump_context_prints_the_keys_as_json_and_writes_nothing(etcd_clean, tmp_path):
    put(etcd_clean, SERVICES)
    dest = tmp_path / "out.conf"
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc/web", "-prefix", "/other", "-dump-context",
                 write(tmp_path / "kv.tmpl", KV_LINES), dest)
    assert r.rc == 0, r
    dumped = json.loads(r.stdout)
    assert dumped == {"/other/x": "y", "/svc/web/1": "10.0.0.1:80", "/svc/web/2": "10.0.0.2:80"}
    assert list(dumped) == sorted(dumped)
    assert r.stderr == ""
    assert not dest.exists()

    # no template needed
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/svc/db", "-dump-context")
    assert r.rc == 0, r
    assert json.loads(r.stdout) == {"/svc/db/main": "10.0.0.9:5432"}


# ---------------------------------------------------------------------------- odd and hostile data
def test_values_that_are_not_utf8_get_replacement_characters_and_keys_escapes(etcd_clean, tmp_path):
    put(etcd_clean, {
        b"/bin/value": b"ok\xff\xfeend",
        b"/bin/k\xffey": b"v1",
        b"/bin/tab\tkey": b"latin-1 caf\xe9",
    })
    tmpl = write(tmp_path / "kv.tmpl", KV_LINES + "ls: {{ ls('/bin') | join(',') }}\n")
    dest = tmp_path / "out.conf"
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/bin", tmpl, dest)
    assert r.rc == 0, r
    assert dest.read_text(encoding="utf-8") == (
        "/bin/k\\xffey=v1\n"
        "/bin/tab\tkey=latin-1 caf\ufffd\n"
        "/bin/value=ok\ufffd\ufffdend\n"
        "ls: k\\xffey,tab\tkey,value\n"
    )
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/bin", "-dump-context")
    assert r.rc == 0, r
    assert json.loads(r.stdout) == {"/bin/k\\xffey": "v1", "/bin/tab\tkey": "latin-1 caf\ufffd",
                                    "/bin/value": "ok\ufffd\ufffdend"}


def test_keys_differing_only_in_invalid_bytes_are_both_rendered(etcd_clean, tmp_path):
    put(etcd_clean, {b"/c/k\xfe": b"first", b"/c/k\xff": b"second"})
    dest = tmp_path / "out.conf"
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/c",
                 write(tmp_path / "values.tmpl", "{% for value in kv.values() | sort %}{{ value }}\n{% endfor %}"),
                 dest)
    assert r.rc == 0, r
    assert r.messages == [f"Generated '{dest}' from 2 keys"]
    assert dest.read_text() == "first\nsecond\n"


def test_a_key_that_prints_like_another_is_named_in_a_warning(etcd_clean, tmp_path):
    """The text "\\xfe" in one key and the byte 0xfe in the other read the same in templates."""
    put(etcd_clean, {b"/c/k\\xfe": b"text", b"/c/k\xfe": b"byte"})
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/c",
                 write(tmp_path / "kv.tmpl", KV_LINES), tmp_path / "out.conf")
    assert r.rc == 0, r
    assert any("both read '/c/k\\\\xfe' in templates" in line for line in r.stderr.splitlines()), r.stderr


HOSTILE = "x\ny {{ 7*7 }} {% raw %}r{% endraw %} {# c #} ${HOME} $(id)"


def test_hostile_values_are_written_verbatim_never_evaluated(etcd_clean, tmp_path):
    put(etcd_clean, {"/h/a": HOSTILE, "/h/b": "plain", "/h/c": "fake\n/h/zzz=injected"})
    dest = tmp_path / "out.conf"

    # written as it is, the value's newline is the value's own: the text is exactly the values,
    # nothing evaluated (no 49), no line that is not part of some value
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/h", write(tmp_path / "raw.tmpl", KV_LINES), dest)
    assert r.rc == 0, r
    assert dest.read_text() == f"/h/a={HOSTILE}\n/h/b=plain\n/h/c=fake\n/h/zzz=injected\n"
    assert "49" not in dest.read_text()

    # a template that escapes its values keeps one line per key, whatever the values hold
    r = etcd_gen("-endpoints", etcd_clean.endpoint, "-prefix", "/h",
                 write(tmp_path / "json.tmpl", "{% for key, value in kv.items() %}{{ key }}={{ value | tojson }}\n"
                                               "{% endfor %}"), dest)
    assert r.rc == 0, r
    lines = dest.read_text().splitlines()
    assert len(lines) == 3
    assert lines == [f"/h/a={json.dumps(HOSTILE)}", '/h/b="plain"', '/h/c="fake\\n/h/zzz=injected"']
    assert {line.split("=", 1)[0] for line in lines} == {"/h/a", "/h/b", "/h/c"}
    assert json.loads(lines[0].split("=", 1)[1]) == HOSTILE


# ---------------------------------------------------------------------------- etcd v2
@pytest.mark.parametrize("dead_first", [False, True], ids=["one-endpoint", "dead-first-endpoint"])
def test_api_v2_one_shot_reads_the_v2_key_space(etcd_clean, tmp_path, dead_first):
    put_v2(etcd_clean, {"/svc/web/1": "10.0.0.1:80", "/svc/web/2": "10.0.0.2:80", "/svc/name": "v2-demo",
                        "/svcx/decoy": "not below /svc"})
    put(etcd_clean, {"/svc/v3only": "v3 keys are another key space"})
    tmpl = write(tmp_path / "v2.tmpl", KV_LINES
                 + "ls: {{ ls('/svc') | join(',') }}; lsdir: {{ lsdir('/svc') | join(',') }}\n"
                 + "name: {{ getv('/svc/name') }}\n")
    dest = tmp_path / "out.conf"
    # v2 keys all start with "/": a prefix "svc" means "/svc"
    endpoints = [*dead_endpoints(1), etcd_clean.endpoint] if dead_first else [etcd_clean.endpoint]
    r = etcd_gen("-api", "v2", "-endpoints", ",".join(endpoints), "-prefix", "svc", tmpl, dest)
    assert r.rc == 0, r
    assert dest.read_text() == (
        "/svc/name=v2-demo\n"
        "/svc/web/1=10.0.0.1:80\n"
        "/svc/web/2=10.0.0.2:80\n"
        "ls: name,web; lsdir: web\n"
        "name: v2-demo\n"
    )
    assert r.messages == [f"Generated '{dest}' from 3 keys"]


# ---------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("args, message", [
    (["-api", "v4", "{tmpl}"], "etcd-gen: -api must be v3 or v2, not 'v4'"),
    (["-min-keys", "-1", "{tmpl}"], "etcd-gen: -min-keys must not be negative"),
    (["-min-keys", "many", "{tmpl}"], "etcd-gen: invalid value \"many\" for flag -min-keys: invalid integer 'many'"),
    (["", "{dest}"], "etcd-gen: no template given"),
], ids=["bad-api", "negative-min-keys", "non-integer-min-keys", "empty-template"])
def test_usage_errors_exit_2_with_one_line_then_the_usage(tmp_path, args, message):
    tmpl = write(tmp_path / "kv.tmpl", KV_LINES)
    dest = tmp_path / "out.conf"
    argv = [a.format(tmpl=tmpl, dest=dest) for a in args]
    (dead,) = dead_endpoints(1)  # nothing is read before the flags are checked
    r = etcd_gen(*argv, env={"ETCD_ENDPOINTS": dead})
    assert r.rc == 2, r
    first, second, *_ = r.stderr.splitlines()
    assert first == message  # the one line that says what is wrong, as Go's flag package...
    assert second == USAGE_LINE  # ...followed by the usage
    assert r.stdout == ""
    assert not dest.exists()


def test_a_bad_endpoint_is_fatal_exit_1_with_one_line_as_for_pygen(tmp_path):
    tmpl = write(tmp_path / "kv.tmpl", KV_LINES)
    dest = tmp_path / "out.conf"
    r = etcd_gen("-endpoints", "ftp://127.0.0.1:2379", str(tmpl), str(dest))
    assert r.rc == 1, r
    assert r.stderr.splitlines() == ["etcd-gen: etcd endpoint 'ftp://127.0.0.1:2379': scheme must be http or https"]
    assert not dest.exists()


def test_no_arguments_prints_the_usage_and_exits_1_like_docker_gen(tmp_path):
    r = etcd_gen(cwd=tmp_path)
    assert r.rc == 1, r
    assert r.stderr.splitlines()[0] == USAGE_LINE
    assert "-endpoints urls" in r.stderr and "-min-keys int" in r.stderr
    assert r.stdout == ""
    assert listing(tmp_path) == []
