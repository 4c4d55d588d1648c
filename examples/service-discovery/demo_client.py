"""The client side of the service-discovery demo: requests, waits and timings (stdlib only).

run-demo.sh calls it as ``python demo_client.py COMMAND ...``:

  free-port                       print a free TCP port on 127.0.0.1
  port-free HOST PORT             exit 0 if HOST:PORT can be bound now, 1 if not
  curl URL N                      N requests, printed like the article's curl session
  wait-answers URL IDS T0 TIMEOUT requests until exactly the container ids IDS (comma list)
                                  answer, round-robin; prints the milliseconds since T0 (ns)
  wait-config FILE IDS T0 TIMEOUT until FILE's "server" lines name exactly IDS; prints ms since T0

Every request opens a new connection (as curl does), only to 127.0.0.0/8, never via a proxy.
"""

from __future__ import annotations

import http.client
import re
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


def get(url: str, timeout: float = 2.0) -> str:
    """Body of GET url, stripped; raises OSError/HTTPException on failure or a non-200 answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/")
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace").strip()
        if response.status != 200:
            raise http.client.HTTPException(f"HTTP {response.status}: {body[:80]}")
        return body
    finally:
        connection.close()


def answer_id(body: str) -> str:
    match = re.fullmatch(r"I'm ([0-9a-f]{12})", body)
    return match.group(1) if match else body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def curl(url: str, count: int) -> int:
    shown = url.removeprefix("http://")
    for _ in range(count):
        print(f"$ curl {shown}")
        try:
            print(get(url))
        except (OSError, http.client.HTTPException) as error:
            print(f"curl: ({type(error).__name__}) {error}")
    return 0


def wait_answers(url: str, ids: set[str], t0_ns: int, timeout: float) -> int:
    """Converged when the last 2*len(ids) answers came from exactly ``ids`` (round-robin shows
    each server twice in that window) and none of them failed."""
    window: list[str] = []
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            window.append(answer_id(get(url, timeout=1.0)))
        except (OSError, http.client.HTTPException) as error:
            window.append(f"error: {error}")
        window = window[-2 * len(ids):]
        last = ", ".join(sorted(set(window)))
        if len(window) == 2 * len(ids) and set(window) == ids:
            print((time.time_ns() - t0_ns) // 1_000_000)
            return 0
        time.sleep(0.005)
    print(f"timed out after {timeout:.0f}s: answers came from {last}", file=sys.stderr)
    return 1


def config_servers(path: Path) -> set[str]:
    try:
        text = path.read_text()
    except OSError:
        return set()
    return set(re.findall(r"^\s+server (\S+) ", text, re.MULTILINE))


def wait_config(path: Path, ids: set[str], t0_ns: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if config_servers(path) == ids:
            print((time.time_ns() - t0_ns) // 1_000_000)
            return 0
        time.sleep(0.005)
    print(f"timed out after {timeout:.0f}s: {path} has servers {sorted(config_servers(path))}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command == "free-port":
        print(free_port())
        return 0
    if command == "port-free":
        return 0 if port_free(args[0], int(args[1])) else 1
    if command == "curl":
        return curl(args[0], int(args[1]))
    if command == "wait-answers":
        return wait_answers(args[0], set(args[1].split(",")), int(args[2]), float(args[3]))
    if command == "wait-config":
        return wait_config(Path(args[0]), set(filter(None, args[1].split(","))), int(args[2]), float(args[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
