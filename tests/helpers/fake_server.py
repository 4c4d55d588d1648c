"""Scripted servers on real sockets, for the client tests of pygen.http1 and pygen.grpc.

* :class:`FakeServer` accepts connections on 127.0.0.1 (or a unix socket) and runs a handler, a
  plain function scripting the server's side, on each in a thread of its own. A test module
  subclasses it with ``make_peer`` (its protocol's end of a connection) and ``record``.
* :func:`leak_check` fails a test that leaves a thread running, a file descriptor open, or a
  socket for the garbage collector to close; :func:`close_servers` closes every server of a test
  and then raises the first error a handler raised.

``SAFETY_TIMEOUT`` only turns a hang into a failure: no passing test comes near it.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pygen.http1 import Address

SAFETY_TIMEOUT = 2.0


class FakeServer:
    """Accepts connections and runs ``handler(peer)`` on each in a thread of its own; the
    connection is closed when the handler returns. ``close`` re-raises what a handler raised."""

    name = "fake-server"

    def __init__(self, handler: Callable[[Any], None], unix_path: Path | None = None) -> None:
        if unix_path is None:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.bind(("127.0.0.1", 0))
            self.address = Address("127.0.0.1", self.listener.getsockname()[1], scheme="http")
        else:
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(str(unix_path))
            self.address = Address(path=str(unix_path))
        self.listener.listen(16)
        self.listener.settimeout(0.01)  # how often the accept loop looks at _stopping
        self.handler = handler
        self.accepts = 0  # connections the clients opened
        self.finished = 0  # connections whose handler has returned (and that are closed)
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._closed = False
        self._peers: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"{self.name}-accept", daemon=True)
        self._accept_thread.start()

    def make_peer(self, sock: socket.socket, index: int) -> Any:
        """The server's end of accepted connection number ``index``, handed to the handler."""
        raise NotImplementedError

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            sock.settimeout(SAFETY_TIMEOUT)
            with self._lock:
                peer = self.make_peer(sock, self.accepts)
                self.accepts += 1
                self._peers.append(sock)
            thread = threading.Thread(target=self._serve, args=(peer,), name=f"{self.name}-peer-{peer.index}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, peer: Any) -> None:
        try:
            self.handler(peer)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client hung up, as several tests make it do, with bytes of the answer unread
        except BaseException as error:  # noqa: BLE001 - re-raised by close(), so that the test fails
            if not self._stopping.is_set():
                self.errors.append(error)
        finally:
            with self._lock:
                peer.sock.close()
                self.finished += 1

    def close(self) -> None:
        """Stop, and count as accepted the connections made but not yet accepted: after close,
        ``accepts`` is every connection attempt the clients made. Raises what a handler raised."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        self._accept_thread.join()
        self.listener.setblocking(False)
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                break
            self.accepts += 1
            sock.close()
        self.listener.close()
        with self._lock:
            for sock in self._peers:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked in recv
                except OSError:
                    pass
        for thread in self._threads:
            thread.join(SAFETY_TIMEOUT)
        assert not any(thread.is_alive() for thread in self._threads), "a fake-server handler did not end"
        if self.errors:
            raise self.errors[0]


def close_servers(servers: Iterable[FakeServer]) -> None:
    """Close them all, then raise the first error one of them raised."""
    errors: list[BaseException] = []
    for server in servers:
        try:
            server.close()
        except BaseException as error:  # noqa: BLE001 - raised once all are closed
            errors.append(error)
    if errors:
        raise errors[0]


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextmanager
def leak_check() -> Iterator[None]:
    """Fail if the block leaves a thread running, a file descriptor open, or a socket for the
    garbage collector to close (a ResourceWarning)."""
    threads_before = set(threading.enumerate())
    fds_before = fd_count()
    gc.freeze()  # so that the collection below looks only at this block's objects (fast)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            yield
            gc.collect()
    finally:
        gc.unfreeze()
    for warning in caught:  # give pytest back the warnings this check is not about
        if not issubclass(warning.category, ResourceWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    leaked_threads = [thread.name for thread in threading.enumerate() if thread not in threads_before]
    assert not leaked_threads, f"threads left running: {leaked_threads}"
    unclosed = [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)]
    assert not unclosed, f"sockets left to the garbage collector: {unclosed}"
    assert fd_count() == fds_before, "file descriptors left open"
