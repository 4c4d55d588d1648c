"""Docker test helpers: whoami containers on loopback ports, test networks, a second private dockerd.

Every container and network created here carries the label ``pygen.test=<session token>`` (plus
``pygen.test.pid=<pytest pid>``), publishes ports on loopback only, and is force-removed at teardown.
Reach containers only through their published loopback ports (``handle.url``), never their bridge IPs.
"""
from __future__ import annotations

import ctypes
import itertools
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

from . import proc_util
from .net_util import http_get, wait_http

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000
MAIN_DOCKER_URL = "unix:///var/run/docker.sock"
WHOAMI_IMAGE = "local/whoami:latest"
TEST_LABEL = "pygen.test"
PID_LABEL = "pygen.test.pid"
REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_WHOAMI = REPO_ROOT / "scripts" / "build-whoami-image.sh"
MS = 1_000_000  # docker healthcheck durations are in nanoseconds


def api_client(base_url: str = MAIN_DOCKER_URL, timeout: int = 60) -> docker.APIClient:
    return docker.APIClient(base_url=base_url, timeout=timeout)


def ensure_whoami_image(api: docker.APIClient, image: str = WHOAMI_IMAGE) -> str:
    """Build the whoami image with scripts/build-whoami-image.sh if the daemon does not have it."""
    try:
        api.inspect_image(image)
    except docker.errors.ImageNotFound:
        res = subprocess.run(["bash", str(BUILD_WHOAMI)], capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            raise RuntimeError(f"building {image} failed:\n{res.stdout}\n{res.stderr}")
    return image


def _norm_healthcheck(healthcheck: Any) -> dict | None:
    """None | True (GET / inside the container) | "shell command" | ["CMD", ...] | docker-py dict."""
    if healthcheck is None or healthcheck is False:
        return None
    fast = {"interval": 200 * MS, "timeout": 1000 * MS, "retries": 3, "start_period": 0}
    if healthcheck is True:
        return {"test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8000/ || exit 1"], **fast}
    if isinstance(healthcheck, str):
        return {"test": ["CMD-SHELL", healthcheck], **fast}
    if isinstance(healthcheck, (list, tuple)):
        return {"test": list(healthcheck), **fast}
    return dict(healthcheck)


@dataclass
class ContainerHandle:
    """A test container. ``host_ip``/``host_port`` are its published loopback address (None when
    unpublished or not started); ``url`` is ``http://host_ip:host_port``; ``expected_body`` is what
    the whoami image answers on ``/`` (``I'm <short_id>``)."""

    api: docker.APIClient = field(repr=False)
    id: str
    name: str
    labels: dict
    port: int | None
    host_ip: str | None = None
    host_port: int | None = None

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def expected_body(self) -> str:
        return f"I'm {self.short_id}"

    @property
    def url(self) -> str:
        if self.host_port is None:
            raise AssertionError(f"container {self.name} has no published port (started? publish_ip?)")
        return f"http://{self.host_ip}:{self.host_port}"

    def inspect(self) -> dict:
        return self.api.inspect_container(self.id)

    def reload(self) -> "ContainerHandle":
        """Re-read the published port (it changes when the container or dockerd restarts)."""
        info = self.inspect()
        self.host_ip = self.host_port = None
        if self.port is not None:
            bindings = (info.get("NetworkSettings", {}).get("Ports") or {}).get(f"{self.port}/tcp") or []
            if bindings:
                self.host_ip = bindings[0].get("HostIp") or "127.0.0.1"
                self.host_port = int(bindings[0]["HostPort"])
        return self

    @property
    def status(self) -> str:
        return self.inspect()["State"]["Status"]

    @property
    def health(self) -> str | None:
        return (self.inspect()["State"].get("Health") or {}).get("Status")

    def ip(self, network: str | None = None) -> str | None:
        nets = self.inspect()["NetworkSettings"]["Networks"] or {}
        if network is None:
            return next((n.get("IPAddress") for n in nets.values() if n.get("IPAddress")), None)
        return (nets.get(network) or {}).get("IPAddress")

    def start(self) -> "ContainerHandle":
        self.api.start(self.id)
        return self.reload()

    def stop(self, timeout: int = 5) -> None:
        self.api.stop(self.id, timeout=timeout)

    def restart(self, timeout: int = 5) -> "ContainerHandle":
        self.api.restart(self.id, timeout=timeout)
        return self.reload()

    def kill(self, signal: str | int = "SIGKILL") -> None:
        self.api.kill(self.id, signal=signal)

    def pause(self) -> None:
        self.api.pause(self.id)

    def unpause(self) -> None:
        self.api.unpause(self.id)

    def remove(self) -> None:
        try:
            self.api.remove_container(self.id, force=True, v=True)
        except docker.errors.NotFound:
            pass

    def get(self, path: str = "/", timeout: float = 2.0) -> str:
        """Body of GET ``url + path`` (raises on errors and non-200)."""
        code, body = http_get(self.url + path, timeout=timeout)
        if code != 200:
            raise AssertionError(f"GET {self.url + path}: HTTP {code}")
        return body

    def wait_http(self, expect_substring: str | None = None, path: str = "/", timeout: float = 10.0) -> str:
        """Wait until GET ``path`` answers 200 containing ``expect_substring`` (default: for ``/``,
        ``I'm <short id>``)."""
        if expect_substring is None and path == "/":
            expect_substring = self.expected_body
        return wait_http(self.url + path, expect_substring, timeout)

    def exec(self, cmd: list[str] | str) -> tuple[int, str]:
        """``docker exec`` -> (exit code, stdout+stderr). E.g. ``["wget", "-q", "-O-",
        "http://127.0.0.1:8000/"]`` reaches the whoami server without a published port."""
        exec_id = self.api.exec_create(self.id, cmd)["Id"]
        out = self.api.exec_start(exec_id).decode(errors="replace")
        return self.api.exec_inspect(exec_id)["ExitCode"], out

    def signals(self, name: str = "hup") -> list[str]:
        """Lines the whoami start script wrote for each SIGHUP/SIGUSR1/SIGUSR2 (``name`` = hup, usr1,
        usr2) it received, read through ``docker exec`` (works without a published port)."""
        code, out = self.exec(["cat", f"/www/{name}"])
        return [line for line in out.splitlines() if line.strip()] if code == 0 else []

    def wait_status(self, status: str, timeout: float = 10.0) -> None:
        proc_util.wait_until(lambda: self.status == status, timeout, 0.05, f"{self.name} to be {status}")

    def wait_healthy(self, timeout: float = 15.0) -> None:
        proc_util.wait_until(lambda: self.health == "healthy", timeout, 0.05, f"{self.name} to be healthy")


class ContainerFactory:
    """``run(...)`` creates (and starts) labelled test containers; ``cleanup()`` force-removes them."""

    _counter = itertools.count(1)

    def __init__(self, api: docker.APIClient, image: str, token: str, default_network: str | None = None,
                 default_publish_ip: str | None = "127.0.0.1"):
        self.api = api
        self.image = image
        self.token = token
        self.default_network = default_network
        self.default_publish_ip = default_publish_ip
        self.created: list[ContainerHandle] = []

    _UNSET: Any = object()

    def run(self, name_suffix: str | None = None, labels: dict | None = None, env: dict | list | None = None,
            publish_ip: str | None = _UNSET, port: int | None = 8000, network: str | None = _UNSET,
            healthcheck: Any = None, command: Any = None, start: bool = True, image: str | None = None,
            host_config: dict | None = None, **create_kwargs) -> ContainerHandle:
        """Create a container of the whoami image (or ``image``) named
        ``pygen-<token>-<name_suffix or n>``.

        ``labels``/``env``: added to the container; ``publish_ip``: loopback address for container
        ``port`` (``127.0.0.1::8000``; 127.0.0.2/127.0.0.3 stand for other hosts; None: not published);
        ``network``: network mode / network name; ``healthcheck``: True (GET / inside), a shell command,
        ["CMD", ...] or a docker-py dict; ``command``: overrides CMD; ``start``: start it now;
        ``host_config``: extra create_host_config kwargs; other kwargs go to create_container.
        """
        publish_ip = self.default_publish_ip if publish_ip is self._UNSET else publish_ip
        network = self.default_network if network is self._UNSET else network
        if network == "host":
            publish_ip = None
        suffix = name_suffix if name_suffix is not None else str(next(self._counter))
        name = f"pygen-{self.token}-{suffix}"
        all_labels = {**(labels or {}), TEST_LABEL: self.token, PID_LABEL: str(os.getpid())}
        hc_kwargs = dict(host_config or {})
        ports = None
        if port is not None and publish_ip is not None:
            hc_kwargs.setdefault("port_bindings", {port: (publish_ip,)})
            ports = [port]
        if network is not None:
            hc_kwargs.setdefault("network_mode", network)
        created = self.api.create_container(
            image or self.image, command=command, name=name, labels=all_labels, environment=env,
            ports=ports, healthcheck=_norm_healthcheck(healthcheck),
            host_config=self.api.create_host_config(**hc_kwargs), **create_kwargs)
        handle = ContainerHandle(self.api, created["Id"], name, all_labels, port if ports else None)
        self.created.append(handle)
        if start:
            handle.start()
        return handle

    def cleanup(self) -> None:
        """Force-remove every container made by ``run`` (in parallel when there are many)."""
        handles, self.created = list(reversed(self.created)), []
        if len(handles) <= 4:
            for handle in handles:
                handle.remove()
            return
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda h: h.remove(), handles))


class NetworkFactory:
    """``create(name_suffix=None, **kwargs)`` makes a labelled user-defined network and returns its
    name; ``cleanup()`` disconnects everything from them and removes them."""

    def __init__(self, api: docker.APIClient, token: str):
        self.api = api
        self.token = token
        self.created: list[str] = []
        self._n = itertools.count(1)

    def create(self, name_suffix: str | None = None, driver: str = "bridge", internal: bool = False,
               labels: dict | None = None, **kwargs) -> str:
        name = f"pygen-{self.token}-net-{name_suffix or next(self._n)}"
        self.api.create_network(name, driver=driver, internal=internal,
                                labels={**(labels or {}), TEST_LABEL: self.token, PID_LABEL: str(os.getpid())},
                                **kwargs)
        self.created.append(name)
        return name

    def cleanup(self) -> None:
        for name in reversed(self.created):
            remove_network(self.api, name)
        self.created.clear()


def remove_network(api: docker.APIClient, name_or_id: str) -> None:
    try:
        info = api.inspect_network(name_or_id)
        for cid in (info.get("Containers") or {}):
            try:
                api.disconnect_container_from_network(cid, name_or_id, force=True)
            except docker.errors.APIError:
                pass
        api.remove_network(name_or_id)
    except docker.errors.NotFound:
        pass


def _stale(labels: dict, token: str, created: float | None) -> bool:
    """Is a pygen.test object ours, or left behind by a test run that is gone?"""
    if labels.get(TEST_LABEL) == token:
        return True
    pid = labels.get(PID_LABEL, "")
    if pid.isdigit():
        return not proc_util.pid_alive(int(pid))
    # no owner recorded: only when old enough not to belong to a run in progress
    return created is not None and time.time() - created > 600


def sweep(api: docker.APIClient, token: str) -> int:
    """Remove containers and networks labelled ``pygen.test`` that belong to this session (``token``)
    or to a test run whose process is gone; those of other live pytest runs on the same machine are
    left alone. Returns the number of containers removed."""
    removed = 0
    for c in api.containers(all=True, filters={"label": TEST_LABEL}):
        if _stale(c.get("Labels") or {}, token, c.get("Created")):
            try:
                api.remove_container(c["Id"], force=True, v=True)
                removed += 1
            except docker.errors.APIError:
                pass
    for n in api.networks(filters={"label": TEST_LABEL}):
        if _stale(n.get("Labels") or {}, token, None):
            remove_network(api, n["Id"])
    return removed


class SecondDockerd:
    """A second, private dockerd for reconnect tests, in its own network namespace.

    Why a network namespace: a dockerd started with ``--bridge=none`` deletes the link named
    ``docker0`` at start-up (moby's ``removeDefaultBridgeInterface``) - on this machine that took the
    main daemon's bridge away and cut every running container off (seen with Docker 20.10). In the
    host's namespace any setup shares links, iptables and net sysctls with the main daemon. Run through ``unshare --net``, the second daemon has its own ``lo``, its own ``docker0``
    (172.17.0.0/16 inside the namespace only) and its own iptables, so it uses the default settings,
    containers get real bridge IPs and ports publish normally - but those ports are reachable only
    inside its namespace: use ``http_get(url)`` (or ``handle.exec([...])``), not the host's loopback.
    The API socket is a file, so clients on the host talk to it as usual.

    Own ``--host unix://<base>/docker.sock``, ``--data-root <base>/data``, ``--exec-root <base>/exec``
    (its managed containerd and runtime state are its own), ``--pidfile <base>/docker.pid``; ``<base>``
    is under /var/lib (overlay2 needs a real filesystem). Ready in about 0.5-1 s.

    Attributes: ``base_url``, ``socket_path``, ``api`` (APIClient), ``containers`` (a ContainerFactory
    bound to it), ``pid``, ``netns_path``, ``log_path``, ``data_root``, ``exec_root``. Methods:
    ``start()``, ``stop()`` (SIGTERM; its containers stop, since live-restore is off; 1-3 s),
    ``kill()`` (SIGKILL: containers keep running under their shims until the next start),
    ``restart()``, ``load_image(image, from_api)``, ``http_get(url)``, ``close()`` (everything removed).
    """

    def __init__(self, token: str, image_source: docker.APIClient | None = None, image: str = WHOAMI_IMAGE,
                 start_timeout: float = 30.0):
        self.token = token
        self.base = Path(tempfile.mkdtemp(prefix="pygen-dockerd-", dir="/var/lib"))
        self.socket_path = self.base / "docker.sock"
        self.base_url = f"unix://{self.socket_path}"
        self.data_root = self.base / "data"
        self.exec_root = self.base / "exec"
        self.pid_file = self.base / "docker.pid"
        self.log_path = self.base / "dockerd.log"
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.api: docker.APIClient | None = None  # made once the daemon answers (docker-py asks its version)
        self.containers: ContainerFactory | None = None
        self._image = image
        try:
            self.start()
            if image_source is not None:
                self.load_image(image, image_source)
        except BaseException:
            self.close()
            raise

    @property
    def argv(self) -> list[str]:
        dockerd = shlex.join([
            "dockerd", "--host", self.base_url, "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root), "--pidfile", str(self.pid_file)])
        # unshare execs sh, which execs dockerd: the pid we hold is dockerd's
        return ["unshare", "--net", "sh", "-c", f"ip link set lo up && exec {dockerd}"]

    @property
    def netns_path(self) -> str | None:
        return f"/proc/{self.proc.pid}/ns/net" if self.is_running() else None

    def http_get(self, url: str, timeout: float = 2.0) -> tuple[int, str]:
        """GET ``url`` from inside this daemon's network namespace -> (status, body)."""
        netns = self.netns_path
        if netns is None:
            raise RuntimeError("second dockerd is not running")
        result: list = []

        def run() -> None:
            try:
                fd = os.open(netns, os.O_RDONLY)
                try:
                    # this thread only (it ends right after); os.setns needs Python 3.12
                    if _libc.setns(fd, _CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns({netns})")
                finally:
                    os.close(fd)
                result.append(http_get(url, timeout))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                result.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout + 5)
        if not result:
            raise TimeoutError(f"GET {url} in {netns} timed out")
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

    @property
    def pid(self) -> int | None:
        return self.proc.pid if proc_util.alive(self.proc) else None

    def is_running(self) -> bool:
        return proc_util.alive(self.proc)

    def answers(self) -> bool:
        """Does ``GET /_ping`` on the socket answer OK?"""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(str(self.socket_path))
                sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                data = b""
                while chunk := sock.recv(4096):
                    data += chunk
            return data.split(b"\r\n", 1)[0].split()[1:2] == [b"200"]
        except OSError:
            return False

    def start(self, timeout: float | None = None) -> "SecondDockerd":
        """Start dockerd (stale pid file removed) and wait until it answers.

        Started again once if it gives up on its containerd: after a SIGKILL the old containerd
        can still be shutting down when the new dockerd looks at its pid file, and that dockerd
        then waits for a socket that never comes ("timeout waiting for containerd to start").
        """
        spawns = 0
        if not self.is_running():
            self._spawn()
            spawns = 1
        timeout = timeout or self.start_timeout
        deadline = time.monotonic() + timeout
        while not self.answers():
            if not self.is_running():
                if spawns == 1 and "timeout waiting for containerd" in proc_util.log_tail(self.log_path):
                    self._spawn()
                    spawns = 2
                    deadline = time.monotonic() + timeout
                    continue
                raise RuntimeError(f"second dockerd exited ({self.proc.returncode}):\n{proc_util.log_tail(self.log_path)}")
            if time.monotonic() >= deadline:
                raise RuntimeError(f"second dockerd not answering after {timeout}s:\n{proc_util.log_tail(self.log_path)}")
            time.sleep(0.05)
        if self.api is None:
            self.api = api_client(self.base_url, timeout=30)
            self.containers = ContainerFactory(self.api, self._image, self.token)
        return self

    def _spawn(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        self._wait_old_containerd_gone()
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {' '.join(self.argv)}\n".encode())
        self.proc = proc_util.spawn(self.argv, self.log_path, die_with_parent=signal.SIGTERM)

    def _wait_old_containerd_gone(self, timeout: float = 10.0) -> None:
        """After a SIGKILL the managed containerd dies too, but stays a zombie until PID 1 reaps it
        (about 1 s here); a dockerd started meanwhile takes it for alive and then waits forever for
        its socket. Wait until that pid is really gone."""
        pid_file = self.exec_root / "containerd" / "containerd.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                comm, rest = Path(f"/proc/{pid}/stat").read_text().split(" (", 1)[1].rsplit(")", 1)
                state = rest.split()[0]
            except (OSError, IndexError, ValueError):
                return
            if comm != "containerd":
                pid_file.unlink(missing_ok=True)  # the pid was reused by another program
                return
            if state != "Z":
                return  # a live containerd: dockerd will use it
            time.sleep(0.05)

    def stop(self, timeout: float = 20.0) -> None:
        proc_util.terminate(self.proc, timeout=timeout)

    def kill(self) -> None:
        proc_util.kill(self.proc)

    def restart(self) -> "SecondDockerd":
        self.stop()
        return self.start()

    def load_image(self, image: str, from_api: docker.APIClient) -> None:
        """``docker save IMAGE | docker -H <this> load``."""
        data = b"".join(from_api.get_image(image))
        list(self.api.load_image(data))
        self.api.inspect_image(image)  # raises if the load did not work

    def _leftover_pids(self) -> list[int]:
        """Processes that still refer to our directories (containerd, shims) and their children."""
        pids = set()
        cmap = proc_util.children_map()
        for pid in proc_util.pids_with_cmdline(str(self.base)):
            pids.add(pid)
            pids.update(proc_util.descendants(pid, cmap))
        return sorted(pids)

    def close(self) -> None:
        """Remove all its containers, stop it, kill leftovers, unmount and delete its directories."""
        try:
            if not self.is_running() and self._leftover_pids():
                # killed earlier with containers alive: let a new daemon take them over and clean up
                try:
                    self.start(timeout=20)
                except RuntimeError:
                    pass
            if self.api is not None and self.is_running() and self.answers():
                for c in self.api.containers(all=True):
                    try:
                        self.api.remove_container(c["Id"], force=True, v=True)
                    except docker.errors.APIError:
                        pass
        except Exception:  # noqa: BLE001 - teardown must go on
            pass
        finally:
            self.stop()
            for pid in self._leftover_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _unmount_and_remove(self.base)
            if self.api is not None:
                self.api.close()

    def __repr__(self) -> str:
        return f"<SecondDockerd {self.base_url} pid={self.pid}>"

    @classmethod
    def sweep_stale(cls, min_age: float = 120.0) -> list[Path]:
        """Clean the directories of second dockerds whose test run died (pytest SIGKILLed: the daemon
        got SIGTERM, but its data dir and mounts stay). Skips any directory a process still uses."""
        cleaned = []
        for base in Path("/var/lib").glob("pygen-dockerd-*"):
            try:
                if time.time() - base.stat().st_mtime < min_age or proc_util.pids_with_cmdline(str(base)):
                    continue
            except OSError:
                continue
            _unmount_and_remove(base)
            cleaned.append(base)
        return cleaned


def _unmount_and_remove(base: Path) -> None:
    """Unmount everything at or below ``base`` (deepest first, lazily) and delete it."""
    prefix = str(base)
    for _ in range(3):
        mounts = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mp = line.split()[4].encode().decode("unicode_escape")
                if mp == prefix or mp.startswith(prefix + "/"):
                    mounts.append(mp)
        if not mounts:
            break
        for mp in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
