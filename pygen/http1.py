"""HTTP/1.1 over kept-alive sockets: the one HTTP client of the Docker and etcd front ends.

Why not requests (or docker-py and etcd3gw, which sit on it): measured on this project's 2-core
machine, importing requests costs about 150 ms and each call 1-2 ms of pool machinery, while a
call over a plain kept-alive socket costs 0.3-0.6 ms. Start-up matters twice here: a one-shot
render of 500 containers has a 0.65 s budget, and the register script that pygen renders runs
as a new process on every change, so its imports are on the path from ``docker run`` to the
first request answered. Both daemons speak a small, well-behaved subset of HTTP/1.1 (JSON
bodies, ``Content-Length`` or chunked answers, long-lived chunked streams for events and
watches), which is what this module implements, over TCP, TLS or a unix socket.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

_RECV_SIZE = 262144


class ConnectionLost(Exception):
    """No connection could be made, or the peer closed, reset or garbled it. ``reason`` is the
    cause alone ("connection refused"), for callers whose messages already name the server."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class CannotConnect(ConnectionLost):
    """No connection could be made at all (refused, unreachable, timed out, TLS handshake)."""


@dataclass(frozen=True, slots=True)
class Address:
    """Where a server listens: ``host`` and ``port`` over TCP, or a unix socket ``path``;
    ``scheme`` only names it in messages (``tcp``, ``http``, ``https``)."""

    host: str = ""
    port: int = 0
    path: str = ""
    scheme: str = "tcp"

    def __str__(self) -> str:
        if self.path:
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


class Connection:
    """One HTTP/1.1 connection; not thread-safe, except ``shutdown`` (the pool lends it to one
    thread at a time; a stream's owner may be woken from another thread by ``shutdown``)."""

    def __init__(self, address: Address, tls: ssl.SSLContext | None = None, *, timeout: float | None,
                 connect_timeout: float | None = None, host_header: str = "localhost") -> None:
        sock = connect(address, tls, connect_timeout or timeout)
        sock.settimeout(timeout)
        self.sock = sock
        self.address = address
        self.host_header = host_header
        self.buffer = b""
        self.answered = False  # a byte of the answer to the last request sent has arrived

    def settimeout(self, timeout: float | None) -> None:
        """Seconds a read may wait for a byte (None: forever); TimeoutError when it passes."""
        self.sock.settimeout(timeout)

    def shutdown(self) -> None:
        """Wake a thread blocked reading this connection (closing the socket would not)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, method: str, target: str, body: bytes | None = None,
             headers: Mapping[str, str] | None = None) -> None:
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host_header}\r\nUser-Agent: pygen\r\n"
        typed = False
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
            typed = typed or name.lower() == "content-type"
        self.answered = False
        if body is not None:
            if not typed:
                head += "Content-Type: application/json\r\n"
            head += f"Content-Length: {len(body)}\r\n"
        elif method in ("POST", "PUT"):
            head += "Content-Length: 0\r\n"
        try:
            self.sock.sendall(head.encode("latin-1") + b"\r\n" + (body or b""))
        except TimeoutError:
            raise
        except OSError as error:
            reason = describe_error(error)
            raise ConnectionLost(f"lost connection to {self.address}: {reason}", reason) from None

    def _fill(self) -> None:
        try:
            chunk = self.sock.recv(_RECV_SIZE)
        except TimeoutError:
            raise
        except OSError as error:
            reason = describe_error(error)
            raise ConnectionLost(f"lost connection to {self.address}: {reason}", reason) from None
        if not chunk:
            raise ConnectionLost(f"connection to {self.address} closed", "connection closed")
        self.answered = True
        self.buffer += chunk

    def read_line(self) -> bytes:
        while True:
            index = self.buffer.find(b"\r\n")
            if index >= 0:
                line, self.buffer = self.buffer[:index], self.buffer[index + 2:]
                return line
            self._fill()

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_head(self) -> tuple[int, dict[str, str]]:
        """The status code and the headers (names lower-cased) of the next response."""
        status_line = self.read_line().decode("latin-1")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            raise ConnectionLost(f"bad HTTP response from {self.address}: {status_line[:80]!r}") from None
        headers: dict[str, str] = {}
        if status_line.startswith("HTTP/1.0"):  # kept alive only when it says so
            headers["connection"] = "close"
        while True:
            line = self.read_line()
            if not line:
                return status, headers
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()

    def iter_body(self, headers: Mapping[str, str]) -> Iterator[bytes]:
        """Body pieces: the whole body, or one chunk at a time of a chunked stream."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size_text = self.read_line().split(b";")[0].strip()
                if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
                    raise ConnectionLost(f"bad chunk size from {self.address}: {size_text[:20]!r}")
                size = int(size_text, 16)
                if size == 0:
                    while self.read_line():  # trailer fields, up to the empty line
                        pass
                    return
                data = self.read_exact(size)
                self.read_exact(2)
                yield data
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise ConnectionLost(f"bad Content-Length from {self.address}: {length[:20]!r}")
            yield self.read_exact(int(length))
        else:  # the body runs until the server closes the connection
            while True:
                try:
                    self._fill()
                except ConnectionLost:
                    break
            data, self.buffer = self.buffer, b""
            yield data

    def read_body(self, status: int, headers: Mapping[str, str]) -> bytes:
        # 204 and 304 never have a body (RFC 9112 §6.3), nor a Content-Length: reading "until
        # close" would hang on a kept-alive connection.
        return b"" if status in (204, 304) else b"".join(self.iter_body(headers))


def connect(address: Address, tls: ssl.SSLContext | None, timeout: float | None) -> socket.socket:
    """A connected socket, or CannotConnect saying why not ("connection refused", "timed out")."""
    try:
        return open_socket(address, tls, timeout)
    except TimeoutError:
        raise CannotConnect(f"cannot connect to {address}: timed out", "timed out") from None
    except OSError as error:
        reason = describe_error(error)
        raise CannotConnect(f"cannot connect to {address}: {reason}", reason) from None


def open_socket(address: Address, tls: ssl.SSLContext | None, timeout: float | None) -> socket.socket:
    """A connected socket (TLS handshake done), or OSError with nothing left open."""
    if address.path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(address.path)
        except BaseException:
            sock.close()
            raise
        return sock
    # An ASCII host goes as bytes: a str one is encoded with the "idna" codec, whose import
    # (stringprep, unicodedata) costs 12 ms of every short-lived process's start.
    host: str | bytes = address.host.encode("ascii") if address.host.isascii() else address.host
    sock = socket.create_connection((host, address.port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock if tls is None else tls.wrap_socket(sock, server_hostname=address.host)
    except BaseException:
        sock.close()
        raise


def describe_error(error: OSError) -> str:
    """"connection refused", "certificate verify failed": the cause without errno noise."""
    tls_reason = getattr(error, "reason", None)  # ssl.SSLError: "CERTIFICATE_VERIFY_FAILED"
    if isinstance(tls_reason, str):
        return tls_reason.replace("_", " ").lower()
    return (error.strerror or str(error)).lower()


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Stream:
    """An answer read piece by piece on a connection of its own (events, watches)."""

    def __init__(self, connection: Connection, status: int, headers: dict[str, str]) -> None:
        self.connection = connection
        self.status = status
        self.headers = headers

    def chunks(self) -> Iterator[bytes]:
        """Body pieces as they arrive; ConnectionLost or TimeoutError when the stream breaks."""
        return self.connection.iter_body(self.headers)

    def lines(self) -> Iterator[bytes]:
        """Newline-delimited records (JSON streams), blank ones skipped."""
        pending = b""
        for chunk in self.chunks():
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    yield line
        if pending.strip():  # the last record, when the body did not end with a newline
            yield pending

    def read(self) -> bytes:
        return self.connection.read_body(self.status, self.headers)

    def error_body(self) -> bytes:
        """The body of an error answer, read only to say why: b"" when the connection fails
        before it is in (the status is reason enough then)."""
        try:
            return self.read()
        except (ConnectionLost, TimeoutError):
            return b""

    def shutdown(self) -> None:
        self.connection.shutdown()

    def close(self) -> None:
        self.connection.close()


class ConnectionPool:
    """Kept-alive connections to one server. Thread-safe: each request borrows an idle
    connection or opens one, and returns it when the answer has been read."""

    def __init__(self, address: Address, tls: ssl.SSLContext | None = None, *, timeout: float | None,
                 connect_timeout: float | None = None, host_header: str = "") -> None:
        self.address = address
        self.tls = tls
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.host_header = host_header or ("localhost" if address.path else f"{address.host}:{address.port}")
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def connect(self) -> Connection:
        return Connection(self.address, self.tls, timeout=self.timeout, connect_timeout=self.connect_timeout,
                          host_header=self.host_header)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def request(self, method: str, target: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> Response:
        """Send one request and read its whole answer. ConnectionLost or TimeoutError if none came."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            reused = connection is not None
            if connection is None:
                connection = self.connect()
            try:
                connection.send(method, target, body, headers)
                status, answer_headers = connection.read_head()
                data = connection.read_body(status, answer_headers)
            except ConnectionLost:
                connection.close()
                # The server may have closed an idle kept-alive connection just before it was
                # reused: then it never saw the request, and a fresh connection is tried. Once a
                # byte of an answer has come, the request was acted on: never send it twice.
                if reused and not connection.answered:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if answer_headers.get("connection", "").lower() == "close":
                connection.close()
            else:
                with self._lock:
                    self._idle.append(connection)
            return Response(status, answer_headers, data)

    def stream(self, method: str, target: str, body: bytes | None = None,
               headers: Mapping[str, str] | None = None, idle_timeout: float | None = None) -> Stream:
        """Send a request on a new connection and return its answer unread; after the head
        has arrived, a read waits at most ``idle_timeout`` for the next byte."""
        connection = self.connect()
        try:
            connection.send(method, target, body, headers)
            status, answer_headers = connection.read_head()
        except BaseException:
            connection.close()
            raise
        connection.settimeout(idle_timeout)
        return Stream(connection, status, answer_headers)
