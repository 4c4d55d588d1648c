"""Loopback networking helpers: free ports, TCP/HTTP probes, wait_http."""
from __future__ import annotations

import random
import socket
import time
import urllib.error
import urllib.request

# Ports are drawn from below the kernel's ephemeral range (32768-60999 here), which is also where
# dockerd allocates published host ports: a port picked here is not taken back by an outgoing
# connection or a container before the service binds it.
PORT_RANGE = (20000, 32000)
_handed_out: set[int] = set()


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports that are free on ``host`` now and were not handed out before in
    this process (random, so concurrent test sessions rarely collide)."""
    rng = random.SystemRandom()
    ports: list[int] = []
    for _ in range(5000):
        if len(ports) == count:
            return ports
        port = rng.randrange(*PORT_RANGE)
        if port in _handed_out or port in ports:
            continue
        # also free on the wildcard address, so a service listening on 0.0.0.0 elsewhere can't clash
        if _bindable(host, port) and _bindable("0.0.0.0", port):
            ports.append(port)
            _handed_out.add(port)
    raise RuntimeError(f"could not find {count} free ports in {PORT_RANGE}")


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{host}:{port} did not accept connections within {timeout}s")
        time.sleep(0.02)


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    """(status, body) of a GET; HTTP error statuses are returned, not raised. No proxies."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def wait_http(url: str, expect_substring: str | None = None, timeout: float = 10.0,
              status: int | None = 200) -> str:
    """Poll ``url`` until it answers with ``status`` (None: any) and a body containing
    ``expect_substring`` (None: any body); return the body. AssertionError with the last answer or
    error after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        try:
            code, body = http_get(url, timeout=min(2.0, max(0.2, deadline - time.monotonic())))
            if (status is None or code == status) and (expect_substring is None or expect_substring in body):
                return body
            last = f"HTTP {code}: {body[:200]!r}"
        except (OSError, urllib.error.URLError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            want = f" containing {expect_substring!r}" if expect_substring is not None else ""
            raise AssertionError(f"GET {url} gave no {status or 'any'} answer{want} within {timeout}s; last: {last}")
        time.sleep(0.05)
