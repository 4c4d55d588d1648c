"""HTTP load through a proxy on loopback: the churn test's and bench/discovery.py's client.

Both send GET / to whoami backends through haproxy while backends come and go, on new
connections (as curl) and on kept-alive ones, and count every request that fails or answers
anything but ``I'm <id>``. Bounded in time and count by the caller; loopback only.
"""

from __future__ import annotations

import http.client
import threading
import time

# A whoami whose httpd drains on SIGTERM: it stops accepting, lets requests in flight finish and
# exits a moment later, as a real server does. The image's own TERM trap exits at once, which
# kills responses half-sent: no proxy can repair a response cut after its headers left.
DRAINING_WHOAMI = [
    "/bin/sh", "-c",
    ('PATH=/bin; mkdir -p /www; echo "I\'m $(hostname)" > /www/index.html; '
     'httpd -f -p "$WHOAMI_PORT" -h /www & H=$!; '
     'trap "kill $H; sleep 1; exit 0" TERM INT; '
     'while kill -0 $H 2>/dev/null; do wait $H; done'),
]


def get(port: int, timeout: float, host: str = "127.0.0.1") -> str:
    """The body of GET / on a new connection (as curl), stripped; raises on failure or non-200."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        if response.status != 200:
            raise http.client.HTTPException(f"HTTP {response.status}: {body[:100]}")
        return body.strip()
    finally:
        connection.close()


class LoadClients:
    """Client threads on ``127.0.0.1:port``: ``new_connections`` that open a connection per
    request and ``keep_alive`` ones that reuse theirs, each pausing ``pause`` s between requests.

    ``failures`` holds (seconds since start, what went wrong); ``latencies`` the seconds of each
    good answer. ``finish()`` (also called once ``limit`` requests were made) stops the clients
    after their current request; ``done`` is set from then on, ``ended`` is when.
    """

    def __init__(self, port: int, *, new_connections: int = 2, keep_alive: int = 2, pause: float = 0.0,
                 timeout: float = 5.0, limit: int | None = None) -> None:
        self.port = port
        self.pause = pause
        self.timeout = timeout
        self.limit = limit
        self.requests = 0
        self.failures: list[tuple[float, str]] = []
        self.latencies: list[float] = []
        self.done = threading.Event()
        self.started = 0.0
        self.ended = 0.0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._new_connections, daemon=True) for _ in range(new_connections)]
        self._threads += [threading.Thread(target=self._keep_alive, daemon=True) for _ in range(keep_alive)]

    def start(self) -> LoadClients:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def finish(self) -> None:
        with self._lock:
            if not self.done.is_set():
                self.ended = time.monotonic()
                self.done.set()

    def join(self, timeout: float = 10.0) -> None:
        self.finish()
        for thread in self._threads:
            thread.join(timeout)

    def _record(self, started: float, failure: str) -> None:
        with self._lock:
            self.requests += 1
            if failure:
                self.failures.append((time.monotonic() - self.started, failure))
            else:
                self.latencies.append(time.monotonic() - started)
            limit_reached = self.limit is not None and self.requests >= self.limit
        if limit_reached:
            self.finish()

    def _new_connections(self) -> None:
        while not self.done.is_set():
            started = time.monotonic()
            try:
                body = get(self.port, self.timeout)
                self._record(started, "" if body.startswith("I'm ") else f"unexpected body {body[:40]!r}")
            except (OSError, http.client.HTTPException) as error:
                self._record(started, f"new connection: {type(error).__name__}: {error}")
            time.sleep(self.pause)

    def _keep_alive(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        while not self.done.is_set():
            started = time.monotonic()
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and body.startswith(b"I'm ")
                self._record(started, "" if ok else f"keep-alive: HTTP {response.status}")
            except (OSError, http.client.HTTPException) as error:
                self._record(started, f"keep-alive: {type(error).__name__}: {error}")
                connection.close()
            time.sleep(self.pause)
        connection.close()
