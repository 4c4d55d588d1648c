"""A unix socket in front of the real dockerd that records every request pygen sends.

pygen is pointed at ``proxy.endpoint``; bytes go both ways unchanged, and each HTTP request
line (method and path) seen from pygen is recorded. So a test can assert what pygen asks the
daemon (one inspect per event, no re-list) against the real dockerd.
"""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

DOCKER_SOCKET = "/var/run/docker.sock"
_REQUEST_LINE = re.compile(rb"(?:^|\r\n)(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP/1\.[01]\r\n")


class CountingDockerProxy:
    def __init__(self, directory: str | Path, upstream: str = DOCKER_SOCKET) -> None:
        self.path = str(Path(directory) / "docker-proxy.sock")
        self.upstream = upstream
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        self._sockets: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        threading.Thread(target=self._accept, name="docker-proxy", daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"unix://{self.path}"

    def requests(self) -> list[tuple[str, str]]:
        """(method, path without the query) of every request so far, in order."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_pygen: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if from_pygen:
                    with self._lock:
                        self._requests += [(m[1].decode(), m[2].decode().split("?", 1)[0])
                                           for m in _REQUEST_LINE.finditer(chunk)]
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
