"""Service discovery end to end: the 2014 seed's story on real dockerd, etcd and haproxy.

Every test builds (part of) the demo's topology on one machine:

* backend hosts: one ``pygen -watch -interval N -notify "<python> register.py" register.py.j2
  register.py`` per host, selecting only its own containers by a label, with its own HOST_IP
  (127.0.0.2 for host a, 127.0.0.3 for host b); whoami containers publish on that address;
* the client host: ``etcd-gen -prefix /backends -watch -check-cmd "haproxy -c -q -f {{ src }}"
  -notify "python haproxy_reload.py <master socket>" haproxy.cfg.j2 haproxy.cfg`` and a master-worker
  haproxy (haproxy_reload.py sends SIGUSR2 and waits for the reload: haproxy drops a second
  SIGUSR2 that arrives during a reload).

Each test uses its own service port (the whoami containers listen on it via WHOAMI_PORT), so the
haproxy listener binds 127.0.0.1:<free port> and never port 8000. Timings measured here are
printed (``pytest -s``) and bounded by generous limits; docs/service-discovery.md has the figures.
"""
from __future__ import annotations

import http.client
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import free_port, http_load, proc_util, wait_until
from tests.helpers.docker_util import ContainerHandle
from tests.helpers.http_load import DRAINING_WHOAMI, LoadClients

REPO = Path(__file__).resolve().parents[2]
REGISTER_TEMPLATE = REPO / "templates" / "register.py.j2"
HAPROXY_TEMPLATE = REPO / "templates" / "haproxy.cfg.j2"
PYGEN = [sys.executable, "-m", "pygen"]
ETCD_GEN = [sys.executable, "-c", "import sys; from pygen.etcd_cli import main; sys.exit(main())"]
RELOAD = REPO / "examples" / "service-discovery" / "haproxy_reload.py"
HOST_IPS = {"a": "127.0.0.2", "b": "127.0.0.3"}


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKER_", "ETCD_", "HAPROXY_", "REGISTER_", "HOST_IP"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def get(url: str, timeout: float = 2.0) -> str:
    """GET on a new connection (as curl); raises on any failure or non-200 answer."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    return http_load.get(int(port), timeout, host)


def answer(url: str) -> str:
    """The container id that answered, or 'error: ...'."""
    try:
        body = get(url, timeout=1.0)
    except (OSError, http.client.HTTPException) as error:
        return f"error: {type(error).__name__}: {error}"
    return body.removeprefix("I'm ")


# ------------------------------------------------------------------------------ the stack


@dataclass
class Host:
    name: str
    ip: str
    label: str
    script: Path
    log: Path
    proc: subprocess.Popen | None = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Client:
    url: str
    config: Path
    haproxy: object
    log: Path
    proc: subprocess.Popen | None = None

    def servers(self) -> set[str]:
        try:
            text = self.config.read_text()
        except OSError:
            return set()
        return set(re.findall(r"^\s+server (\S+) ", text, re.MULTILINE))

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Stack:
    etcd: object
    containers: object
    haproxy_factory: object
    workdir: Path
    token: str
    port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen] = field(default_factory=list)
    extra_logs: list[Path] = field(default_factory=list)

    # -- backend hosts ------------------------------------------------------------------------
    def host(self, name: str, ttl: int = 15, interval: int = 10, api: str = "v3",
             extra_env: dict[str, str] | None = None) -> Host:
        directory = self.workdir / f"host-{name}"
        directory.mkdir(exist_ok=True)
        host = Host(name, HOST_IPS[name], f"{self.token}-{name}", directory / "register.py",
                    directory / "pygen.log")
        self.start_host(host, ttl, interval, api, extra_env)
        return host

    def start_host(self, host: Host, ttl: int = 15, interval: int = 10, api: str = "v3",
                   extra_env: dict[str, str] | None = None) -> None:
        env = clean_env({"HOST_IP": host.ip, "ETCD_ENDPOINTS": self.etcd.endpoint, "REGISTER_TTL": str(ttl),
                         "ETCD_API": api, **(extra_env or {})})
        argv = [*PYGEN, "-watch", "-interval", str(interval), "-notify-output",
                "-container-filter", f"label=sd.host={host.label}",
                "-notify", f"{sys.executable} {host.script}", str(REGISTER_TEMPLATE), str(host.script)]
        host.proc = proc_util.spawn(argv, host.log, cwd=host.script.parent, env=env)
        self.procs.append(host.proc)

    def run(self, host: Host, env: dict[str, str] | None = None, labels: dict[str, str] | None = None,
            **kwargs) -> ContainerHandle:
        """A whoami container of ``host``, listening on (and publishing) the stack's service port."""
        return self.containers.run(labels={"sd.host": host.label, **(labels or {})}, publish_ip=host.ip,
                                   port=self.port, env={"WHOAMI_PORT": str(self.port), **(env or {})}, **kwargs)

    # -- client host --------------------------------------------------------------------------
    def etcd_gen_argv(self, dest: Path, *extra: str, api: str = "v3") -> list[str]:
        return [*ETCD_GEN, "-endpoints", self.etcd.endpoint, "-prefix", "/backends", "-api", api, *extra,
                str(HAPROXY_TEMPLATE), str(dest)]

    def client_env(self, stats_port: int) -> dict[str, str]:
        return clean_env({"HAPROXY_BIND_IP": "127.0.0.1", "HAPROXY_STATS": f"127.0.0.1:{stats_port}",
                          "HAPROXY_STATE_FILE": str(self.workdir / "server-state")})

    def client(self, min_keys: int = 0, api: str = "v3") -> Client:
        """etcd-gen renders a first config (one-shot), haproxy starts on it, then etcd-gen
        watches and reloads haproxy after each change haproxy -c accepts."""
        env = self.client_env(free_port())
        first = self.workdir / "first.cfg"
        result = subprocess.run(self.etcd_gen_argv(first, api=api), env=env, capture_output=True, text=True,
                                timeout=30, check=False)
        assert result.returncode == 0, result.stderr
        hap = self.haproxy_factory(first.read_text())
        log = self.workdir / "etcd-gen.log"
        argv = self.etcd_gen_argv(
            hap.config_path, "-watch", "-atomic", "-min-keys", str(min_keys), "-notify-output",
            "-check-cmd", "haproxy -c -q -f {{ src }}", "-notify", f"{sys.executable} {RELOAD} --state-file {self.workdir / 'server-state'} {hap.master_sock}",
            api=api)
        proc = proc_util.spawn(argv, log, cwd=self.workdir, env=env)
        self.procs.append(proc)
        self.extra_logs.append(hap.log_path)
        client = Client(f"http://127.0.0.1:{self.port}/", hap.config_path, hap, log, proc)
        wait_until(lambda: "Read " in client.log_text() or "keys" in client.log_text(), 10,
                   message="etcd-gen to read etcd")
        return client

    # -- etcd ----------------------------------------------------------------------------------
    def etcd_kv(self, prefix: str = "/backends/") -> dict[str, tuple[str, int]]:
        """key -> (value, lease id) under ``prefix`` (v3)."""
        from pygen.etcd.keys import range_end
        from pygen.etcd.v3 import EtcdV3Client, b64, unb64

        client = EtcdV3Client([self.etcd.endpoint])
        raw = prefix.encode()
        body = client.post("/kv/range", {"key": b64(raw), "range_end": b64(range_end(raw))})
        return {unb64(kv["key"]).decode(): (unb64(kv.get("value")).decode(), int(kv.get("lease") or 0))
                for kv in body.get("kvs") or []}

    def v2_keys(self, prefix: str = "/backends") -> dict[str, tuple[str, int | None]]:
        import etcd

        host, port = self.etcd.endpoint.removeprefix("http://").split(":")
        client = etcd.Client(host=host, port=int(port))
        try:
            result = client.read(prefix, recursive=True)
        except etcd.EtcdKeyNotFound:
            return {}
        return {node.key: (node.value, node.ttl) for node in result.leaves if not node.dir and node.key}

    def registrations(self) -> dict[str, str]:
        """key -> value of the registration keys (the port keys left out)."""
        return {k: v for k, (v, _) in self.etcd_kv().items() if not k.endswith("/port")}

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc_util.terminate(proc, timeout=3)

    def print_logs(self) -> None:
        """The logs' tails, printed at teardown: pytest shows them when the test failed."""
        for log in sorted(self.workdir.rglob("*.log")) + self.extra_logs:
            if not log.exists():
                continue
            lines = [line for line in log.read_text(errors="replace").splitlines()
                     if "did not change" not in line and "Received event" not in line]
            print(f"----- {log} (last 40 lines)\n" + "\n".join(lines[-40:]))


@pytest.fixture
def sd(etcd_clean, containers, haproxy_factory, tmp_path, test_token, request):
    stack = Stack(etcd_clean, containers, haproxy_factory, tmp_path, test_token)
    yield stack
    stack.close()
    if request.config.getoption("capture") != "no":  # captured: pytest shows it for failures only
        stack.print_logs()


def converge(url: str, ids: set[str], timeout: float) -> float:
    """Seconds until the last 2*len(ids) answers came exactly from ``ids`` (each twice, round-robin)."""
    t0 = time.monotonic()
    window: list[str] = []
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        window = (window + [answer(url)])[-2 * len(ids):]
        if len(window) == 2 * len(ids) and set(window) == ids:
            return time.monotonic() - t0
        time.sleep(0.005)
    raise AssertionError(f"{url} answered from {sorted(set(window))}, expected {sorted(ids)} within {timeout}s")


def reload_counts(hap) -> tuple[int, int]:
    """(reloads, failed reloads) of the haproxy master; its socket is gone for 40-90 ms after each
    reload (an empty answer), so ask until it answers."""
    def ask():
        return hap.reload_counts() if "master" in hap.master_cmd("show proc") else None

    return wait_until(ask, 5, interval=0.05, message="the haproxy master socket")


def report(name: str, seconds: float) -> None:
    print(f"\n[service-discovery] {name}: {seconds * 1000:.0f} ms")


# ------------------------------------------------------------------------------ the seed's story


def test_the_seeds_story(sd):
    """Requests alternate between the hosts, two more containers join, host B is killed and only
    host A answers; and the registry holds exactly what runs."""
    a, b = sd.host("a"), sd.host("b")
    client = sd.client(min_keys=2)
    a1 = sd.run(a)
    b1 = sd.run(b)
    report("two backends answering after docker run", converge(client.url, {a1.short_id, b1.short_id}, 15))
    answers = [answer(client.url) for _ in range(6)]
    assert set(answers) == {a1.short_id, b1.short_id}
    assert all(x != y for x, y in itertools.pairwise(answers)), f"not alternating: {answers}"
    assert sd.registrations() == {
        f"/backends/whoami/{a1.short_id}": f"127.0.0.2:{a1.host_port}",
        f"/backends/whoami/{b1.short_id}": f"127.0.0.3:{b1.host_port}",
    }
    assert sd.etcd_kv()["/backends/whoami/port"][0] == str(sd.port)

    a2 = sd.run(a)
    b2 = sd.run(b)
    report("two more containers in the rotation",
           converge(client.url, {a1.short_id, a2.short_id, b1.short_id, b2.short_id}, 15))
    cycle = [answer(client.url) for _ in range(4)]
    assert sorted(cycle) == sorted([a1.short_id, a2.short_id, b1.short_id, b2.short_id])

    t0 = time.monotonic()  # before the kill: the API call returns only once the container is dead
    b1.kill()
    b2.kill()
    wait_until(lambda: client.servers() == {a1.short_id, a2.short_id}, 10, message="host B's servers to leave haproxy.cfg")
    report("host B's containers out of haproxy.cfg after docker kill was issued", time.monotonic() - t0)
    converge(client.url, {a1.short_id, a2.short_id}, 10)
    assert {answer(client.url) for _ in range(8)} == {a1.short_id, a2.short_id}
    assert set(sd.registrations()) == {f"/backends/whoami/{a1.short_id}", f"/backends/whoami/{a2.short_id}"}
    reloads, failed = reload_counts(client.haproxy)
    assert reloads >= 3 and failed == 0


# ------------------------------------------------------------------------------ registration lifecycle


def test_a_stopped_container_is_deregistered_at_once(sd):
    """At once means on the Docker event: the TTL (30 s) and the interval (30 s) are far away."""
    a = sd.host("a", ttl=30, interval=30)
    c = sd.run(a)
    key = f"/backends/whoami/{c.short_id}"
    wait_until(lambda: key in sd.registrations(), 10, message="registration")
    t0 = time.monotonic()
    c.stop()
    wait_until(lambda: key not in sd.etcd_kv(), 5, message="the entry to be deleted")
    report("entry deleted after docker stop", time.monotonic() - t0)
    # it was the last whoami anywhere: the shared port key goes too
    wait_until(lambda: "/backends/whoami/port" not in sd.etcd_kv(), 5, message="the port key to be deleted")


def test_a_sigkilled_pygen_lets_its_entries_expire_within_the_ttl(sd):
    ttl = 3
    a = sd.host("a", ttl=ttl, interval=1)
    c = sd.run(a)
    key = f"/backends/whoami/{c.short_id}"
    wait_until(lambda: key in sd.etcd_kv() and "/backends/whoami/port" in sd.etcd_kv(), 10, message="registration")
    lease = sd.etcd_kv()[key][1]
    assert lease, "registrations carry the host's lease"
    time.sleep(2 * ttl + 1)  # refreshed by keep-alives: still there, still the same lease
    assert sd.etcd_kv()[key][1] == lease
    assert len(a.log_text().split("Running '")) > 2 * ttl, "the register script runs every interval"
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(5)
    t0 = time.monotonic()
    wait_until(lambda: not sd.etcd_kv(), ttl + 2, interval=0.05, message="every key of the host to expire")
    expired = time.monotonic() - t0
    report("entries expired after SIGKILL of pygen (TTL 3 s)", expired)
    assert expired <= ttl + 1.5  # the last keep-alive was up to 1 s before the kill; etcd checks leases every 0.5 s


def test_the_shared_port_key_lives_while_any_host_serves_the_service(sd):
    ttl = 3
    a, b = sd.host("a", ttl=ttl, interval=1), sd.host("b", ttl=ttl, interval=1)
    ca, cb = sd.run(a), sd.run(b)
    wait_until(lambda: len(sd.registrations()) == 2, 10, message="both registrations")
    port_lease = sd.etcd_kv()["/backends/whoami/port"][1]
    host_leases = {lease for k, (_, lease) in sd.etcd_kv().items() if not k.endswith("/port")}
    assert port_lease and port_lease not in host_leases and len(host_leases) == 2
    a.proc.kill()
    a.proc.wait(5)
    wait_until(lambda: f"/backends/whoami/{ca.short_id}" not in sd.etcd_kv(), ttl + 2, message="host a's entry to expire")
    time.sleep(2 * ttl)  # host b keeps the service's port key alive
    assert sd.etcd_kv()["/backends/whoami/port"] == (str(sd.port), port_lease)
    t0 = time.monotonic()
    cb.stop()
    wait_until(lambda: not sd.etcd_kv(), 5, message="host b's entry and the port key to be deleted")
    assert time.monotonic() - t0 < ttl, "deleted by host b, not expired"


def test_library_v3_writes_only_changes_and_owns_only_its_keys(etcd_clean, tmp_path):
    """pygen.registration against etcd: a rerun writes nothing, ownership by lease and HOST_IP,
    a lost state file is recovered, port disagreements keep the first writer's port."""
    from pygen.registration import Registration, settings_from_env, sync

    def settings(ip: str, state: str) -> object:
        return settings_from_env({"HOST_IP": ip, "ETCD_ENDPOINTS": etcd_clean.endpoint,
                                  "REGISTER_STATE_FILE": str(tmp_path / state)}, None)

    def kv() -> dict[str, tuple[str, int, int]]:
        from pygen.etcd.keys import range_end
        from pygen.etcd.v3 import EtcdV3Client, b64, unb64

        body = EtcdV3Client([etcd_clean.endpoint]).post(
            "/kv/range", {"key": b64(b"/backends/"), "range_end": b64(range_end(b"/backends/"))})
        return {unb64(i["key"]).decode(): (unb64(i.get("value")).decode(), int(i.get("lease") or 0),
                                           int(i["mod_revision"])) for i in body.get("kvs") or []}

    a, b = settings("10.0.0.1", "a.lease"), settings("10.0.0.2", "b.lease")
    web1 = Registration("web", "aaaaaaaaaaaa", "8000", "31001")
    web2 = Registration("web", "bbbbbbbbbbbb", "8000", "31002")
    first = sync([web1, web2], a)
    assert first.new_lease and sorted(first.put) == ["/backends/web/aaaaaaaaaaaa", "/backends/web/bbbbbbbbbbbb",
                                                     "/backends/web/port"]
    before = kv()
    again = sync([web1, web2], a)
    assert (again.put, again.deleted, again.new_lease) == ([], [], False)
    assert kv() == before, "an unchanged run must not write (no watch event, no haproxy reload)"

    other = Registration("web", "cccccccccccc", "9000", "32000")
    report_b = sync([other], b)
    assert any("keeping" in w for w in report_b.warnings), "a different port is reported, not written"
    assert kv()["/backends/web/port"][0] == "8000"
    assert kv()["/backends/web/cccccccccccc"][0] == "10.0.0.2:32000"

    # host a loses its state file: a new lease, its keys re-put, the stale one deleted by value
    (tmp_path / "a.lease").unlink()
    recovered = sync([web1], a)
    assert recovered.new_lease and recovered.deleted == ["/backends/web/bbbbbbbbbbbb"]
    assert kv()["/backends/web/aaaaaaaaaaaa"][1] == recovered.lease
    assert "/backends/web/cccccccccccc" in kv(), "another host's key is never touched"

    # host a leaves: host b is alone in the service and may now set its own port
    sync([], a)
    assert "/backends/web/port" in kv()
    sync([other], b)
    assert kv()["/backends/web/port"][0] == "9000"

    # a changed REGISTER_TTL moves the keys to a new lease at once
    longer = settings_from_env({"HOST_IP": "10.0.0.2", "ETCD_ENDPOINTS": etcd_clean.endpoint,
                                "REGISTER_STATE_FILE": str(tmp_path / "b.lease"), "REGISTER_TTL": "40"}, None)
    moved = sync([other], longer)
    assert moved.new_lease and moved.put == ["/backends/web/cccccccccccc"]
    sync([], longer)
    assert kv() == {}


def test_the_port_key_delete_is_refused_when_the_service_changed_since_the_read(etcd_clean):
    """The etcd semantics the port-key cleanup relies on: a MOD compare over a range fails when
    any key in it was written after the revision read."""
    from pygen.etcd.v3 import EtcdV3Client
    from pygen.registration import _delete_op, _unchanged_since

    client = EtcdV3Client([etcd_clean.endpoint])
    client.put("/backends/web/port", "8000")
    revision = client.put("/backends/web/aaaaaaaaaaaa", "10.0.0.1:1")
    client.put("/backends/web/bbbbbbbbbbbb", "10.0.0.2:1")  # another host, after the read
    stale = {"compare": [_unchanged_since("/backends/web/", revision)], "success": [_delete_op("/backends/web/port")]}
    assert not client.post("/kv/txn", stale).get("succeeded")
    current = client.post("/kv/range", {"key": "AA=="})["header"]["revision"]
    fresh = {"compare": [_unchanged_since("/backends/web/", int(current))], "success": [_delete_op("/backends/web/port")]}
    assert client.post("/kv/txn", fresh).get("succeeded")
    assert etcd_clean.get("/backends/web/port") is None


def test_library_v2_ttl_keys(etcd_clean, tmp_path):
    from pygen.registration import Registration, settings_from_env, sync

    s = settings_from_env({"HOST_IP": "10.0.0.1", "ETCD_HOST": etcd_clean.endpoint.removeprefix("http://"),
                           "ETCD_API": "v2", "REGISTER_TTL": "20"}, tmp_path / "r.py")
    web = Registration("web", "aaaaaaaaaaaa", "8000", "31001")
    first = sync([web], s)
    assert sorted(first.put) == ["/backends/web/aaaaaaaaaaaa", "/backends/web/port"]
    import etcd

    host, port = etcd_clean.endpoint.removeprefix("http://").split(":")
    client = etcd.Client(host=host, port=int(port))
    node = client.read("/backends/web/aaaaaaaaaaaa")
    assert node.value == "10.0.0.1:31001" and 0 < node.ttl <= 20
    index = node.modifiedIndex
    again = sync([web], s)
    assert again.put == [] and again.unchanged == 2
    assert client.read("/backends/web/aaaaaaaaaaaa").modifiedIndex >= index  # a refresh, same value
    gone = sync([], s)
    assert sorted(gone.deleted) == ["/backends/web/aaaaaaaaaaaa", "/backends/web/port"]


def test_the_register_script_fails_with_one_line_when_etcd_is_unreachable(tmp_path):
    from pygen.registration import main

    closed = free_port()
    lines: list[str] = []

    class Err:
        def write(self, text: str) -> None:
            lines.append(text)

    rc = main({"registrations": [{"service": "web", "id": "a", "port": "1", "host_port": "2"}]},
              str(tmp_path / "r.py"), environ={"HOST_IP": "10.0.0.1", "ETCD_ENDPOINTS": f"http://127.0.0.1:{closed}",
                                               "REGISTER_TIMEOUT": "1"}, stderr=Err())
    text = "".join(lines)
    assert rc == 1 and text.count("\n") == 1
    assert text.startswith("register: etcd unavailable at http://127.0.0.1:")


# ------------------------------------------------------------------------------ zero failed requests


def test_no_failed_request_while_backends_come_and_go_and_haproxy_reloads(sd):
    """>= 5,000 requests, on new connections and keep-alive ones, while containers are started
    and gracefully stopped on both hosts and haproxy reloads on every change: none may fail, and
    none may take longer than 5 s (curl has no timeout; a hung request is a failed one here)."""
    a, b = sd.host("a"), sd.host("b")
    client = sd.client(min_keys=2)
    base = [sd.run(a), sd.run(b)]
    converge(client.url, {c.short_id for c in base}, 15)
    reloads_before, _ = reload_counts(client.haproxy)

    load = LoadClients(sd.port).start()
    t0 = time.monotonic()
    changes = 0
    try:
        for round_ in range(4):
            host = a if round_ % 2 == 0 else b
            extra = sd.run(host, command=DRAINING_WHOAMI)
            wait_until(lambda c=extra: c.short_id in client.servers(), 10, message="the new container in haproxy.cfg")
            changes += 1
            # loaded by haproxy: it answers through the listener
            wait_until(lambda c=extra: answer(client.url) == c.short_id, 10, interval=0,
                       message="the new container to answer")
            extra.stop(timeout=5)
            wait_until(lambda c=extra: c.short_id not in client.servers(), 10,
                       message="the stopped container out of haproxy.cfg")
            changes += 1
            extra.remove()
        while len(load.latencies) < 5000 and time.monotonic() - t0 < 60:
            time.sleep(0.1)
    finally:
        load.join()
    elapsed = time.monotonic() - t0
    latencies, failures = load.latencies, load.failures
    reloads, failed_reloads = reload_counts(client.haproxy)
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99)] if ordered else 0.0
    print(f"\n[service-discovery] churn: {len(latencies)} requests in {elapsed:.1f}s, {len(failures)} failed, "
          f"latency p99 {p99 * 1000:.0f} ms max {max(ordered, default=0) * 1000:.0f} ms, "
          f"{reloads - reloads_before} reloads for {changes} changes")
    assert failures == [], failures[:5]
    assert len(latencies) >= 5000
    # one reload per change, except that changes arriving during a reload share the next one
    assert reloads - reloads_before >= changes // 2 and failed_reloads == 0


def test_changes_milliseconds_apart_all_reach_haproxy(sd, containers):
    """Two registrations written back to back (two hosts, or v2's separate writes) give two
    renders a few ms apart; a plain kill -USR2 loses the second reload (haproxy drops a USR2
    that arrives during a reload), haproxy_reload.py does not."""
    client = sd.client()
    backend = containers.run(publish_ip="127.0.0.1")
    backend.wait_http()
    address = f"127.0.0.1:{backend.host_port}"
    for round_ in range(4):
        ports = [free_port() for _ in range(2)]
        for n, port in enumerate(ports):
            sd.etcd.put(f"/backends/r{round_}s{n}/port", str(port))
            sd.etcd.put(f"/backends/r{round_}s{n}/{backend.short_id}", address)
        for port in ports:
            converge(f"http://127.0.0.1:{port}/", {backend.short_id}, 10)
    _, failed = reload_counts(client.haproxy)
    assert failed == 0


# ------------------------------------------------------------------------------ hostile input


HOSTILE_VALUES = [
    "x'''; open('PWNED','w').write('x'); '''",
    'x"""; open("PWNED","w").write("x"); """',
    "web\nlisten pwn\n    bind :1",
    "{{ 7*7 }}%}{% raw %}",
    "a;b\\'c\\\\",
    "日本語🙂",
]


def test_hostile_labels_and_env_register_nothing_and_execute_nothing(sd):
    a = sd.host("a", interval=1)
    clean = sd.run(a)
    hostile = [sd.run(a, labels={"SERVICE_NAME": value, "note": value}, env={"SERVICE_TAGS": value})
               for value in HOSTILE_VALUES[:3]]
    hostile += [sd.run(a, env={"SERVICE_NAME": value}) for value in HOSTILE_VALUES[3:]]
    hostile += [sd.run(a, labels={"SERVICE_9999_NAME": "x'''", "other": "'''\n\"\"\""})]  # harmless extras
    want = {f"/backends/whoami/{clean.short_id}": f"127.0.0.2:{clean.host_port}",
            f"/backends/whoami/{hostile[-1].short_id}": f"127.0.0.2:{hostile[-1].host_port}"}
    wait_until(lambda: sd.registrations() == want, 10, message="the two valid registrations")
    time.sleep(2.5)  # a few more interval runs
    assert sd.registrations() == want
    assert set(sd.etcd_kv()) == set(want) | {"/backends/whoami/port"}
    assert not list(sd.workdir.rglob("PWNED")) and not Path("PWNED").exists()
    assert a.log_text().count("invalid service name") >= len(HOSTILE_VALUES)
    assert "Error running notify command" not in a.log_text()


def test_hostile_keys_and_values_in_etcd_inject_nothing_into_haproxy(sd):
    a = sd.host("a")
    client = sd.client()
    c = sd.run(a)
    converge(client.url, {c.short_id}, 15)
    for key, value in {
        "/backends/evil\n  bind :1/x": "1.2.3.4:80",
        "/backends/whoami/x": "1.2.3.4:80\nlisten pwn",
        "/backends/whoami/y\nlisten pwn2": "127.0.0.1:1",
        "/backends/pwn/port": "1\n    bind 127.0.0.1:2",
        "/backends/pwn/z": "127.0.0.1:1",
    }.items():
        sd.etcd.put(key, value)
    wait_until(lambda: "pwn2" in client.config.read_text(), 10, message="haproxy.cfg to show the bad keys in comments")
    text = client.config.read_text()
    directives = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert not any("pwn" in line or ":1 " in line or line.strip() == "bind :1" for line in directives), directives
    assert client.servers() == {c.short_id}
    ok = subprocess.run(["haproxy", "-c", "-q", "-f", str(client.config)], capture_output=True, check=False)
    assert ok.returncode == 0
    assert {answer(client.url) for _ in range(4)} == {c.short_id}


# ------------------------------------------------------------------------------ faults


def test_etcd_down_the_last_config_keeps_serving(sd):
    a, b = sd.host("a", interval=1), sd.host("b", interval=1)
    client = sd.client(min_keys=2)
    ca, cb = sd.run(a), sd.run(b)
    converge(client.url, {ca.short_id, cb.short_id}, 15)
    config_before = client.config.read_text()
    sd.etcd.stop()
    try:
        deadline = time.monotonic() + 4
        seen = []
        while time.monotonic() < deadline:
            seen.append(answer(client.url))
            time.sleep(0.02)
        assert set(seen) == {ca.short_id, cb.short_id}, "every request answered, by both hosts"
        assert client.config.read_text() == config_before
        assert client.proc.poll() is None and a.proc.poll() is None
        wait_until(lambda: "etcd unavailable" in a.log_text(), 5, message="pygen to log the failed register run")
    finally:
        sd.etcd.ensure_running()
    # back: what changed meanwhile (a new container) is registered and served
    cc = sd.run(a)
    converge(client.url, {ca.short_id, cb.short_id, cc.short_id}, 20)


def test_min_keys_keeps_the_config_when_every_registration_expires_at_once(sd):
    ttl = 3
    a = sd.host("a", ttl=ttl, interval=1)
    client = sd.client(min_keys=2)
    c1, c2 = sd.run(a), sd.run(a)
    converge(client.url, {c1.short_id, c2.short_id}, 15)
    config_before = client.config.read_text()
    a.proc.kill()  # the whole registration side dies: every key expires together
    a.proc.wait(5)
    wait_until(lambda: not sd.etcd_kv(), ttl + 3, message="every registration to expire")
    wait_until(lambda: "min-keys" in client.log_text(), 5, message="etcd-gen to refuse the empty data")
    assert client.config.read_text() == config_before
    assert {answer(client.url) for _ in range(6)} == {c1.short_id, c2.short_id}
    # without the guard the same data gives a config without any listener
    unguarded = sd.workdir / "unguarded.cfg"
    subprocess.run(sd.etcd_gen_argv(unguarded), env=sd.client_env(free_port()), check=True, capture_output=True,
                   timeout=30)
    assert not re.search(r"^\s+server ", unguarded.read_text(), re.MULTILINE)


def test_v2_api_end_to_end(sd):
    """The seed's etcd v2: TTL keys written by the register script, read by etcd-gen -api v2."""
    a = sd.host("a", api="v2", ttl=15)
    client = sd.client(api="v2")
    c = sd.run(a)
    converge(client.url, {c.short_id}, 15)
    keys = sd.v2_keys()
    assert keys[f"/backends/whoami/{c.short_id}"][0] == f"127.0.0.2:{c.host_port}"
    assert 0 < keys[f"/backends/whoami/{c.short_id}"][1] <= 15
    assert sd.etcd_kv() == {}, "v2 mode writes no v3 key"
    c.stop()
    wait_until(lambda: not sd.v2_keys(), 5, message="the v2 entries to be deleted at once")
    wait_until(lambda: client.servers() == set(), 10, message="haproxy.cfg to drop the server")
