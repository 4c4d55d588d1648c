"""Real etcd servers (Debian's etcd 3.4) on free loopback ports, for tests.

* :class:`EtcdNode` - one etcd process with its own data dir, client and peer port.
* :class:`EtcdSingle` - a one-node cluster (``--enable-v2=true``), ``.endpoint``.
* :class:`EtcdCluster` - three nodes sharing one ``--initial-cluster-token``; ``.leader()``,
  ``.kill(node)``, ``.restart(node)`` (rejoins with ``--initial-cluster-state existing``).

Readiness is polled over HTTP (``GET /health`` is ``true`` once the member has a leader and serves
requests), which is much cheaper than forking etcdctl; :func:`etcdctl` runs the real client with
``--dial-timeout=300ms --command-timeout=1s`` for everything else.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable, Sequence

from . import proc_util
from .net_util import free_ports

ETCD_BIN = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL_BIN = shutil.which("etcdctl") or "/usr/bin/etcdctl"
ETCDCTL_TIMEOUTS = ("--dial-timeout=300ms", "--command-timeout=1s")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EtcdError(RuntimeError):
    pass


def etcdctl(endpoints: str | Sequence[str], *args: str, check: bool = True, timeout: float = 10.0,
            api: str = "3") -> subprocess.CompletedProcess:
    """Run ``etcdctl --endpoints=... --dial-timeout=300ms --command-timeout=1s ARGS`` (v3 API by
    default; ``api="2"`` for the v2 commands). Returns the CompletedProcess (text); raises EtcdError
    with stderr when ``check`` and it fails."""
    if not isinstance(endpoints, str):
        endpoints = ",".join(endpoints)
    env = dict(os.environ, ETCDCTL_API=api)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(var, None)
    if api == "2":
        argv = [ETCDCTL_BIN, f"--endpoints={endpoints}", *args]
    else:
        argv = [ETCDCTL_BIN, f"--endpoints={endpoints}", *ETCDCTL_TIMEOUTS, *args]
    res = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    if check and res.returncode != 0:
        raise EtcdError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr.strip() or res.stdout.strip()}")
    return res


def _http(method: str, url: str, body: dict | None = None, timeout: float = 1.0) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with _NO_PROXY.open(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read()
    return json.loads(raw or b"{}")


def _b64(s: bytes) -> str:
    return base64.b64encode(s).decode()


def healthy(endpoint: str, timeout: float = 0.5) -> bool:
    try:
        return _http("GET", endpoint + "/health", timeout=timeout).get("health") == "true"
    except (OSError, ValueError):
        return False


def delete_all_keys(endpoint: str, v2: bool = True) -> None:
    """Delete every v3 key (and revoke every lease), and every visible v2 key (v2 and v3 are separate
    key spaces)."""
    _http("POST", endpoint + "/v3/kv/deleterange", {"key": _b64(b"\0"), "range_end": _b64(b"\0")}, timeout=3)
    try:
        leases = _http("POST", endpoint + "/v3/lease/leases", {}, timeout=3).get("leases", [])
    except (OSError, ValueError):
        leases = []
    for lease in leases:
        try:
            _http("POST", endpoint + "/v3/lease/revoke", {"ID": lease["ID"]}, timeout=3)
        except (OSError, ValueError):
            pass
    if not v2:
        return
    try:
        root = _http("GET", endpoint + "/v2/keys/", timeout=3)
    except (OSError, ValueError):
        return  # v2 disabled
    for node in root.get("node", {}).get("nodes", []) or []:
        key = urllib.parse.quote(node["key"])
        _http("DELETE", f"{endpoint}/v2/keys{key}?recursive=true" + ("&dir=true" if node.get("dir") else ""), timeout=3)


class EtcdNode:
    """One etcd member process. ``start()`` (again) reuses the same data dir."""

    def __init__(self, name: str, data_dir: Path, client_port: int, peer_port: int, initial_cluster: str,
                 token: str, log_path: Path, enable_v2: bool = True, extra_args: Iterable[str] = ()):
        self.name = name
        self.data_dir = Path(data_dir)
        self.client_port = client_port
        self.peer_port = peer_port
        self.initial_cluster = initial_cluster
        self.token = token
        self.log_path = Path(log_path)
        self.enable_v2 = enable_v2
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.started_once = False

    host = "127.0.0.1"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://{self.host}:{self.peer_port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if proc_util.alive(self.proc) else None

    def is_running(self) -> bool:
        return proc_util.alive(self.proc)

    def argv(self, state: str) -> list[str]:
        return [
            ETCD_BIN, "--name", self.name, "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.endpoint, "--advertise-client-urls", self.endpoint,
            "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", self.initial_cluster, "--initial-cluster-state", state,
            "--initial-cluster-token", self.token, f"--enable-v2={'true' if self.enable_v2 else 'false'}",
            "--logger=zap", "--log-outputs=stderr", *self.extra_args,
        ]

    def start(self, state: str | None = None) -> "EtcdNode":
        """Start the process (no wait). ``state`` defaults to ``new`` the first time and ``existing``
        afterwards (a member that rejoins)."""
        if self.is_running():
            return self
        if state is None:
            state = "existing" if self.started_once else "new"
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {' '.join(self.argv(state))}\n".encode())
        self.proc = proc_util.spawn(self.argv(state), self.log_path)
        self.started_once = True
        return self

    def wait_healthy(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not healthy(self.endpoint, timeout=0.3):
            if not self.is_running():
                raise EtcdError(f"etcd {self.name} exited ({self.proc.returncode}); log:\n{proc_util.log_tail(self.log_path)}")
            if time.monotonic() >= deadline:
                raise EtcdError(f"etcd {self.name} not healthy on {self.endpoint} after {timeout}s; log:\n"
                                f"{proc_util.log_tail(self.log_path)}")
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful stop (SIGTERM; SIGKILL after ``timeout``)."""
        proc_util.terminate(self.proc, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        proc_util.kill(self.proc)

    def __repr__(self) -> str:
        return f"<EtcdNode {self.name} {self.endpoint} {'running' if self.is_running() else 'stopped'}>"


class _EtcdBase:
    nodes: list[EtcdNode]
    workdir: Path

    @property
    def endpoints(self) -> list[str]:
        return [n.endpoint for n in self.nodes]

    @property
    def endpoints_str(self) -> str:
        return ",".join(self.endpoints)

    def running_nodes(self) -> list[EtcdNode]:
        return [n for n in self.nodes if n.is_running()]

    def etcdctl(self, *args: str, check: bool = True, api: str = "3", endpoints=None) -> subprocess.CompletedProcess:
        return etcdctl(endpoints or [n.endpoint for n in self.running_nodes()] or self.endpoints, *args,
                       check=check, api=api)

    def put(self, key: str, value: str) -> None:
        self.etcdctl("put", key, value)

    def get(self, key: str) -> str | None:
        out = self.etcdctl("get", key, "--print-value-only").stdout
        return out[:-1] if out.endswith("\n") else (out or None)

    def delete_all(self) -> None:
        node = next((n for n in self.nodes if n.is_running() and healthy(n.endpoint)), None)
        if node is None:
            raise EtcdError("no healthy etcd member to clean")
        delete_all_keys(node.endpoint, v2=node.enable_v2)

    def close(self) -> None:
        for node in self.nodes:
            node.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _new_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


class EtcdSingle(_EtcdBase):
    """A one-member etcd with a fresh data dir on free loopback ports (v2 API enabled).

    Attributes: ``endpoint`` (``http://127.0.0.1:PORT``), ``endpoints`` ([endpoint]), ``client_port``,
    ``peer_port``, ``data_dir``, ``log_path``, ``node``. Methods: ``start()`` (again: same data dir, keys
    kept), ``stop()`` (SIGTERM), ``kill()`` (SIGKILL), ``restart()``, ``etcdctl(*args)``, ``put``,
    ``get``, ``delete_all()``, ``close()``.
    """

    def __init__(self, enable_v2: bool = True, extra_args: Iterable[str] = (), start_timeout: float = 10.0):
        self.workdir = _new_workdir("pygen-etcd-")
        self.start_timeout = start_timeout
        for attempt in range(3):  # a picked port can be taken before etcd binds it: pick again
            client, peer = free_ports(2)
            name = "single"
            self.node = EtcdNode(name, self.workdir / f"data{attempt}", client, peer,
                                 f"{name}=http://127.0.0.1:{peer}", f"pygen-single-{os.getpid()}-{client}",
                                 self.workdir / "etcd.log", enable_v2=enable_v2, extra_args=extra_args)
            self.nodes = [self.node]
            try:
                self.start()
                return
            except EtcdError:
                self.node.kill()
                if attempt == 2:
                    self.close()
                    raise

    endpoint = property(lambda self: self.node.endpoint)
    client_port = property(lambda self: self.node.client_port)
    peer_port = property(lambda self: self.node.peer_port)
    data_dir = property(lambda self: self.node.data_dir)
    log_path = property(lambda self: self.node.log_path)

    def start(self, timeout: float | None = None) -> "EtcdSingle":
        self.node.start()
        self.node.wait_healthy(timeout or self.start_timeout)
        return self

    def ensure_running(self) -> "EtcdSingle":
        if not self.node.is_running():
            self.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.node.stop(timeout)

    def kill(self) -> None:
        self.node.kill()

    def restart(self) -> "EtcdSingle":
        self.stop()
        return self.start()

    def is_running(self) -> bool:
        return self.node.is_running()

    def __repr__(self) -> str:
        return f"<EtcdSingle {self.endpoint}>"


class EtcdCluster(_EtcdBase):
    """``size`` (3) etcd members on loopback with one ``--initial-cluster-token``.

    Attributes: ``nodes`` (EtcdNode, each with ``name``, ``endpoint``, ``client_port``, ``peer_port``,
    ``pid``), ``endpoints``, ``endpoints_str``. Methods: ``leader()`` -> EtcdNode (``etcdctl endpoint
    status -w json``), ``kill(node)`` (SIGKILL), ``stop(node)`` (SIGTERM), ``restart(node)`` (start again
    with ``--initial-cluster-state existing`` and wait until healthy), ``node(x)`` (index, name or node),
    ``wait_healthy()``, ``ensure_all_running()``, ``etcdctl``, ``put``, ``get``, ``delete_all``, ``close``.
    """

    def __init__(self, size: int = 3, enable_v2: bool = True, extra_args: Iterable[str] = (),
                 start_timeout: float = 15.0):
        self.workdir = _new_workdir("pygen-etcd-cluster-")
        self.start_timeout = start_timeout
        for attempt in range(3):
            ports = free_ports(2 * size)
            names = [f"n{i + 1}" for i in range(size)]
            initial = ",".join(f"{n}=http://127.0.0.1:{ports[size + i]}" for i, n in enumerate(names))
            token = f"pygen-cluster-{os.getpid()}-{ports[0]}"
            self.nodes = [
                EtcdNode(n, self.workdir / f"{n}-{attempt}", ports[i], ports[size + i], initial, token,
                         self.workdir / f"{n}.log", enable_v2=enable_v2, extra_args=extra_args)
                for i, n in enumerate(names)
            ]
            try:
                for node in self.nodes:
                    node.start("new")
                self.wait_healthy(start_timeout)
                return
            except EtcdError:
                for node in self.nodes:
                    node.kill()
                if attempt == 2:
                    self.close()
                    raise

    def node(self, which: int | str | EtcdNode) -> EtcdNode:
        if isinstance(which, EtcdNode):
            return which
        if isinstance(which, int):
            return self.nodes[which]
        for node in self.nodes:
            if node.name == which or node.endpoint == which:
                return node
        raise KeyError(which)

    def wait_healthy(self, timeout: float | None = None, nodes: Sequence[EtcdNode] | None = None) -> None:
        """Wait until every given (default: every running) member is healthy, then confirm with
        ``etcdctl endpoint health``."""
        timeout = timeout or self.start_timeout
        deadline = time.monotonic() + timeout
        nodes = list(nodes) if nodes is not None else self.running_nodes()
        for node in nodes:
            node.wait_healthy(max(0.1, deadline - time.monotonic()))
        while True:
            res = etcdctl([n.endpoint for n in nodes], "endpoint", "health", check=False)
            if res.returncode == 0:
                return
            if time.monotonic() >= deadline:
                raise EtcdError(f"cluster not healthy after {timeout}s: {res.stderr.strip() or res.stdout.strip()}")
            time.sleep(0.05)

    def status(self) -> list[dict]:
        """``etcdctl endpoint status -w json`` over the running members."""
        res = self.etcdctl("endpoint", "status", "-w", "json", check=False,
                           endpoints=[n.endpoint for n in self.running_nodes()])
        try:
            return json.loads(res.stdout or "[]")
        except ValueError:
            return []

    def leader(self, timeout: float = 10.0) -> EtcdNode:
        """The current leader (waits up to ``timeout`` s for one to be elected)."""
        deadline = time.monotonic() + timeout
        while True:
            by_endpoint = {n.endpoint: n for n in self.nodes}
            ids = {}
            leader_id = None
            for st in self.status():
                header = st.get("Status", {}).get("header", {})
                ids[header.get("member_id")] = by_endpoint.get(st.get("Endpoint"))
                if st.get("Status", {}).get("leader"):
                    leader_id = st["Status"]["leader"]
            node = ids.get(leader_id)
            if node is not None and node.is_running():
                return node
            if time.monotonic() >= deadline:
                raise EtcdError(f"no leader after {timeout}s")
            time.sleep(0.05)

    def followers(self) -> list[EtcdNode]:
        leader = self.leader()
        return [n for n in self.nodes if n is not leader]

    def kill(self, node: int | str | EtcdNode) -> EtcdNode:
        node = self.node(node)
        node.kill()
        return node

    def stop(self, node: int | str | EtcdNode, timeout: float = 5.0) -> EtcdNode:
        node = self.node(node)
        node.stop(timeout)
        return node

    def restart(self, node: int | str | EtcdNode, timeout: float | None = None) -> EtcdNode:
        """(Re)start a member that was stopped or killed, with its data dir and
        ``--initial-cluster-state existing``; waits until it is healthy."""
        node = self.node(node)
        if node.is_running():
            node.stop()
        node.start("existing")
        node.wait_healthy(timeout or self.start_timeout)
        return node

    def ensure_all_running(self) -> None:
        stopped = [n for n in self.nodes if not n.is_running()]
        for node in stopped:
            node.start("existing")
        if stopped:
            self.wait_healthy()

    def __repr__(self) -> str:
        return f"<EtcdCluster {self.endpoints_str}>"
