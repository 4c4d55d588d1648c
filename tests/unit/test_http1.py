"""pygen.http1, the HTTP/1.1 client of the Docker and etcd front ends, against scripted servers.

Every test talks over a real socket (TCP on 127.0.0.1 with an ephemeral port, or a unix socket in
``tmp_path``) to a ``FakeServer``: an accept loop in a thread that hands each connection to a
handler, a plain function scripting the server's side (read a request, write bytes, close).
Pools get a 2 s timeout only as a safety net that turns a hang into a failure; the tests that
wait on purpose wait 0.2 s. ``no_leaks`` fails any test that leaves a thread running or a socket
for the garbage collector to close.
"""

from __future__ import annotations

import gc
import queue
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from pygen.http1 import Address, Connection, ConnectionLost, ConnectionPool, Stream
from tests.helpers import fake_server

SAFETY_TIMEOUT = fake_server.SAFETY_TIMEOUT
SHORT = 0.2  # the timeouts the tests run into on purpose


# ------------------------------------------------------------------------------ fake server


@dataclass
class Request:
    """One request as the server received it."""

    connection: int  # which accepted connection it came on: 0 for the first
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]  # as sent: order, case and repeats kept
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        """The one value of header ``name`` (None if absent); sending it twice is an error."""
        values = self.header_values(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None


class Peer:
    """The server's end of one accepted connection, for a handler to script."""

    def __init__(self, sock: socket.socket, index: int, server: FakeServer) -> None:
        self.sock = sock
        self.index = index
        self.server = server
        self._buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self._buffer += data
        return bool(data)

    def read_request(self) -> Request | None:
        """The next request (recorded in ``server.requests``), or None if the client closed first."""
        while b"\r\n\r\n" not in self._buffer:
            if not self._fill():
                return None
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
        headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in header_lines)]
        length = int(next((value for name, value in headers if name.lower() == "content-length"), "0"))
        while len(self._buffer) < length:
            if not self._fill():
                return None
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        request = Request(self.index, method, target, version, headers, body)
        self.server.record(request)
        return request

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait_for_close(self) -> None:
        """Read (and ignore) until the client closes or shuts down its end: a server that never answers."""
        while self._fill():
            pass


Handler = Callable[[Peer], None]


class FakeServer(fake_server.FakeServer):
    """Accepts connections on 127.0.0.1 (or a unix socket) and runs ``handler`` on each in a thread
    of its own; the connection is closed when the handler returns. Records every request."""

    def __init__(self, handler: Handler, unix_path: Path | None = None) -> None:
        self.requests: list[Request] = []
        super().__init__(handler, unix_path)

    def make_peer(self, sock: socket.socket, index: int) -> Peer:
        return Peer(sock, index, self)

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def wait_until(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + SAFETY_TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, "fake server: condition not reached"
            time.sleep(0.002)


def response(status: int = 200, body: bytes = b"", headers: Mapping[str, str] | None = None) -> bytes:
    """A complete answer framed by Content-Length."""
    lines = [f"HTTP/1.1 {status} Whatever", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"


def chunk(data: bytes, extension: str = "") -> bytes:
    return f"{len(data):x}{extension}\r\n".encode() + data + b"\r\n"


def keep_answering(answer: Callable[[Request], bytes]) -> Handler:
    """A kept-alive server: every request on the connection gets ``answer(request)``, until the
    client closes it."""

    def handler(peer: Peer) -> None:
        while (request := peer.read_request()) is not None:
            peer.send(answer(request))

    return handler


def echo_target(request: Request) -> bytes:
    return response(200, request.target.encode())


def answer_then_hang(data: bytes) -> Handler:
    """Read one request, send ``data``, then keep the connection open until the client closes it."""

    def handler(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(data)
            peer.wait_for_close()

    return handler


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    with fake_server.leak_check():
        yield


ServerFactory = Callable[..., FakeServer]


@pytest.fixture
def serve(tmp_path: Path, no_leaks: None) -> Iterator[ServerFactory]:
    """serve(handler, unix=False) -> a running FakeServer, closed after the test."""
    servers: list[FakeServer] = []

    def start(handler: Handler, *, unix: bool = False) -> FakeServer:
        server = FakeServer(handler, tmp_path / f"s{len(servers)}.sock" if unix else None)
        servers.append(server)
        return server

    yield start
    fake_server.close_servers(servers)


PoolFactory = Callable[..., ConnectionPool]


@pytest.fixture
def pool_for(serve: ServerFactory) -> Iterator[PoolFactory]:
    """pool_for(server_or_address, **options) -> a ConnectionPool (timeout 2 s unless given),
    closed after the test and before the servers."""
    pools: list[ConnectionPool] = []

    def make(target: FakeServer | Address, **options: object) -> ConnectionPool:
        options.setdefault("timeout", SAFETY_TIMEOUT)
        address = target.address if isinstance(target, FakeServer) else target
        pool = ConnectionPool(address, **options)  # type: ignore[arg-type]
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


@pytest.fixture(params=["tcp", "unix"])
def unix(request: pytest.FixtureRequest) -> bool:
    """Run the test over TCP and over a unix socket."""
    return request.param == "unix"


# ------------------------------------------------------------------------------ Address, ConnectionLost


@pytest.mark.parametrize(
    ("address", "text"),
    [
        (Address("127.0.0.1", 2379), "tcp://127.0.0.1:2379"),
        (Address("docker.example", 2376, scheme="https"), "https://docker.example:2376"),
        (Address("::1", 2375, scheme="http"), "http://[::1]:2375"),
        (Address(path="/var/run/docker.sock", scheme="http"), "unix:///var/run/docker.sock"),
    ],
)
def test_address_names_itself_as_a_url(address: Address, text: str) -> None:
    assert str(address) == text


def test_connection_lost_reason_defaults_to_the_message() -> None:
    assert ConnectionLost("connection to x closed").reason == "connection to x closed"
    assert ConnectionLost("cannot connect to x: timed out", "timed out").reason == "timed out"


# ------------------------------------------------------------------------------ body framing


def test_content_length_body_is_read_exactly(serve: ServerFactory, pool_for: PoolFactory, unix: bool) -> None:
    server = serve(keep_answering(lambda request: response(200, b'{"ID":"abc"}', {"Api-Version": "1.45"})),
                   unix=unix)

    answer = pool_for(server).request("GET", "/info")

    assert answer.status == 200
    assert answer.body == b'{"ID":"abc"}'
    assert answer.headers["api-version"] == "1.45"  # names lower-cased
    assert answer.headers["content-length"] == "12"


def test_chunked_body_is_reassembled_and_chunk_extensions_are_ignored(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    alphabet = b"abcdefghijklmnopqrstuvwxyz"  # 0x1A bytes: the size is hexadecimal
    chunked = (CHUNKED_HEAD + chunk(b'{"kvs":', ";x=y") + b"1A\r\n" + alphabet + b"\r\n"
               + chunk(b"}", ';name="quoted;value"') + LAST_CHUNK)
    answers = iter([chunked, response(200, b"next")])
    server = serve(keep_answering(lambda request: next(answers)))
    pool = pool_for(server)

    assert pool.request("POST", "/v3/kv/range", b"{}").body == b'{"kvs":' + alphabet + b"}"
    # the last chunk and its CRLF were consumed: the connection is in step for the next answer
    assert pool.request("GET", "/again").body == b"next"
    assert server.accepts == 1


def test_body_without_length_or_chunking_runs_until_the_server_closes(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    def handler(peer: Peer) -> None:
        peer.read_request()
        peer.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part, ")
        peer.send(b"second part")  # and the connection closes when the handler returns

    server = serve(handler)

    assert pool_for(server).request("GET", "/_ping").body == b"first part, second part"


@pytest.mark.parametrize("status", [204, 304])
def test_answer_that_has_no_body_returns_at_once_on_a_kept_alive_connection(
        serve: ServerFactory, pool_for: PoolFactory, status: int) -> None:
    """No Content-Length and no close: reading the body "until close" would hang."""
    server = serve(keep_answering(lambda request: f"HTTP/1.1 {status} No Body\r\n\r\n".encode()))
    pool = pool_for(server, timeout=1.0)

    started = time.monotonic()
    answer = pool.request("POST", "/containers/abc/kill")
    assert time.monotonic() - started < 0.5
    assert (answer.status, answer.body) == (status, b"")
    assert pool.request("POST", "/containers/abc/kill").status == status
    assert server.accepts == 1


# ------------------------------------------------------------------------------ keep-alive


def test_requests_in_sequence_reuse_one_kept_alive_connection(
        serve: ServerFactory, pool_for: PoolFactory, unix: bool) -> None:
    server = serve(keep_answering(echo_target), unix=unix)
    pool = pool_for(server)

    assert [pool.request("GET", f"/n/{n}").body for n in range(3)] == [b"/n/0", b"/n/1", b"/n/2"]
    assert server.accepts == 1


def test_connection_close_answer_makes_the_next_request_open_a_new_connection(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    # the server keeps reading after "Connection: close": a client that reused the connection
    # anyway would be answered on it, and the server would count a single connection
    server = serve(keep_answering(lambda request: response(200, b"bye", {"Connection": "close"})))
    pool = pool_for(server)

    pool.request("GET", "/a")
    pool.request("GET", "/b")

    assert [(request.connection, request.target) for request in server.requests] == [(0, "/a"), (1, "/b")]


def test_http_1_0_answer_without_keep_alive_is_not_reused(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(keep_answering(lambda request: b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    pool = pool_for(server)

    assert [pool.request("GET", "/a").body, pool.request("GET", "/b").body] == [b"ok", b"ok"]
    assert server.accepts == 2


def test_chunked_trailer_fields_are_consumed(serve: ServerFactory, pool_for: PoolFactory) -> None:
    answers = iter([CHUNKED_HEAD + chunk(b"body") + b"0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n",
                    response(200, b"next")])
    server = serve(keep_answering(lambda request: next(answers)))
    pool = pool_for(server)

    assert pool.request("GET", "/a").body == b"body"
    assert pool.request("GET", "/b").body == b"next"  # in step: the trailer was not taken for a head
    assert server.accepts == 1


def test_concurrent_requests_each_get_a_connection_of_their_own(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    """The server holds every answer until all requests have arrived, which they can only do on
    separate connections."""
    count = 3
    all_arrived = threading.Barrier(count, timeout=SAFETY_TIMEOUT)

    def handler(peer: Peer) -> None:
        if (request := peer.read_request()) is not None:
            all_arrived.wait()
            peer.send(echo_target(request))
            keep_answering(echo_target)(peer)

    server = serve(handler)
    pool = pool_for(server)
    bodies: dict[int, bytes] = {}

    def ask(n: int) -> None:
        bodies[n] = pool.request("GET", f"/t/{n}").body

    askers = [threading.Thread(target=ask, args=(n,)) for n in range(count)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(SAFETY_TIMEOUT)

    assert bodies == {n: f"/t/{n}".encode() for n in range(count)}
    assert pool.request("GET", "/later").body == b"/later"  # on one of the idle connections
    assert server.accepts == count


# ------------------------------------------------------------------------------ stale and failing connections


def test_stale_kept_alive_connection_is_replaced_transparently(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    """The server closed the idle connection (its keep-alive timeout) before the pool reused it:
    the request goes out again on a fresh connection, and the caller never sees the failure."""

    def answer_once(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(response(200, f"connection {peer.index}".encode()))

    server = serve(answer_once)
    pool = pool_for(server)

    assert pool.request("GET", "/a").body == b"connection 0"
    server.wait_until(lambda: server.finished == 1)  # the pool's idle connection is closed now
    assert pool.request("GET", "/b").body == b"connection 1"

    assert [(request.connection, request.target) for request in server.requests] == [(0, "/a"), (1, "/b")]


def test_fresh_connection_closed_without_an_answer_raises_connection_lost(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    def handler(peer: Peer) -> None:
        if peer.read_request() is not None and peer.index > 0:  # only a retry would be answered
            peer.send(response(200))

    server = serve(handler)

    with pytest.raises(ConnectionLost) as caught:
        pool_for(server).request("POST", "/v3/kv/put", b"{}")

    assert caught.value.reason == "connection closed"
    assert str(server.address) in str(caught.value)
    server.close()
    assert server.accepts == 1
    assert len(server.requests) == 1


def test_stale_connection_is_retried_on_one_fresh_connection_only(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    """Connection 0 answers and closes; connection 1 takes the retried request and hangs up
    without answering. A second retry would reach connection 2, which answers."""

    def handler(peer: Peer) -> None:
        if peer.read_request() is not None and peer.index != 1:
            peer.send(response(200, f"connection {peer.index}".encode()))

    server = serve(handler)
    pool = pool_for(server)
    pool.request("GET", "/a")
    server.wait_until(lambda: server.finished == 1)

    with pytest.raises(ConnectionLost):
        pool.request("GET", "/b")

    server.close()
    assert server.accepts == 2
    assert [(request.connection, request.target) for request in server.requests] == [(0, "/a"), (1, "/b")]


@pytest.mark.parametrize("call", ["request", "stream"])
def test_refused_connection_names_the_http_address_and_the_reason(pool_for: PoolFactory, call: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as placeholder:
        placeholder.bind(("127.0.0.1", 0))  # bound but not listening: refused, and the port stays ours
        port = placeholder.getsockname()[1]
        pool = pool_for(Address("127.0.0.1", port, scheme="http"))

        with pytest.raises(ConnectionLost) as caught:
            getattr(pool, call)("GET", "/version")

    assert caught.value.reason == "connection refused"
    assert str(caught.value) == f"cannot connect to http://127.0.0.1:{port}: connection refused"


def test_missing_unix_socket_names_the_unix_address(tmp_path: Path, pool_for: PoolFactory) -> None:
    path = tmp_path / "docker.sock"
    pool = pool_for(Address(path=str(path)))

    with pytest.raises(ConnectionLost) as caught:
        pool.request("GET", "/_ping")

    assert str(caught.value).startswith(f"cannot connect to unix://{path}: ")
    assert caught.value.reason == "no such file or directory"


def test_failed_unix_connect_closes_its_socket(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(ConnectionLost):
            Connection(Address(path=str(tmp_path / "missing.sock")), timeout=SHORT)
        gc.collect()

    assert [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)] == []


def test_request_is_not_sent_again_once_the_server_has_begun_to_answer(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    """The retry is for a kept-alive connection the server closed while it was idle. Once a
    status line has come back, the server has acted on the request: sending it again would, for
    instance, restart a container twice."""

    def handler(peer: Peer) -> None:
        if peer.index == 0:
            peer.read_request()
            peer.send(response(200, b"first"))
            peer.read_request()
            peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"Id\"")  # and dies mid-body
        else:
            keep_answering(lambda request: response(204))(peer)

    server = serve(handler)
    pool = pool_for(server)
    pool.request("GET", "/containers/json")

    try:
        pool.request("POST", "/containers/abc/restart")
    except ConnectionLost:
        pass

    assert [request.target for request in server.requests].count("/containers/abc/restart") == 1


# ------------------------------------------------------------------------------ timeouts


def test_server_that_never_answers_raises_timeout_error(serve: ServerFactory, pool_for: PoolFactory) -> None:
    def read_and_say_nothing(peer: Peer) -> None:
        peer.read_request()
        peer.wait_for_close()

    server = serve(read_and_say_nothing)
    pool = pool_for(server, timeout=SHORT)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        pool.request("GET", "/slow")
    assert SHORT * 0.9 <= time.monotonic() - started < SHORT + 0.5


def test_timed_out_connection_is_closed_not_reused(serve: ServerFactory, pool_for: PoolFactory) -> None:
    """Its answer may still come, and would then be taken for the answer to the next request."""

    def handler(peer: Peer) -> None:
        if peer.index == 0:
            peer.read_request()
            peer.wait_for_close()  # swallows whatever else is sent on this connection
        else:
            keep_answering(echo_target)(peer)

    server = serve(handler)
    pool = pool_for(server, timeout=SHORT)
    with pytest.raises(TimeoutError):
        pool.request("GET", "/slow")

    assert pool.request("GET", "/fast").body == b"/fast"
    assert server.accepts == 2


# ------------------------------------------------------------------------------ request formatting


def test_post_sends_request_line_host_json_content_type_and_length(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(keep_answering(lambda request: response(200)))
    body = b'{"key":"L3NlcnZpY2VzLw==","range_end":"L3NlcnZpY2VzMA=="}'

    pool_for(server).request("POST", "/v3/kv/range", body, {"Authorization": "token-1", "X-Extra": "a b"})

    [request] = server.requests
    assert (request.method, request.target, request.version) == ("POST", "/v3/kv/range", "HTTP/1.1")
    assert request.header("Host") == f"127.0.0.1:{server.address.port}"
    assert request.header("Content-Type") == "application/json"
    assert request.header("Content-Length") == str(len(body))
    assert request.header("Authorization") == "token-1"
    assert request.header("X-Extra") == "a b"
    assert request.body == body


def test_host_header_can_be_given(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(keep_answering(lambda request: response(200)))

    pool_for(server, host_header="docker").request("GET", "/version")

    assert server.requests[0].header("Host") == "docker"


def test_unix_socket_pool_sends_host_localhost(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(keep_answering(lambda request: response(200)), unix=True)

    pool_for(server).request("GET", "/version")

    assert server.requests[0].header("Host") == "localhost"


def test_content_type_given_by_the_caller_replaces_the_json_default(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(keep_answering(lambda request: response(200)))

    pool_for(server).request("POST", "/build", b"tar bytes", {"Content-Type": "application/x-tar"})

    assert server.requests[0].header("Content-Type") == "application/x-tar"


def test_content_type_given_in_lower_case_is_not_sent_twice(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(keep_answering(lambda request: response(200)))

    pool_for(server).request("POST", "/build", b"tar bytes", {"content-type": "application/x-tar"})

    assert server.requests[0].header("Content-Type") == "application/x-tar"


@pytest.mark.parametrize(("method", "content_length"), [("POST", "0"), ("PUT", "0"), ("GET", None), ("DELETE", None)])
def test_request_without_body_sends_content_length_zero_only_for_post_and_put(
        serve: ServerFactory, pool_for: PoolFactory, method: str, content_length: str | None) -> None:
    server = serve(keep_answering(lambda request: response(200)))

    pool_for(server).request(method, "/containers/abc/kill")

    [request] = server.requests
    assert request.header("Content-Length") == content_length
    assert request.header("Content-Type") is None
    assert request.body == b""


# ------------------------------------------------------------------------------ garbled answers


@pytest.mark.parametrize("status_line", [b"SSH-2.0-OpenSSH_9.6", b"HTTP/1.1 OK 200", b""])
@pytest.mark.parametrize("call", ["request", "stream"])
def test_bad_status_line_raises_connection_lost(
        serve: ServerFactory, pool_for: PoolFactory, status_line: bytes, call: str) -> None:
    server = serve(answer_then_hang(status_line + b"\r\n\r\n"))

    with pytest.raises(ConnectionLost, match="bad HTTP response") as caught:
        getattr(pool_for(server), call)("GET", "/version")

    assert str(server.address) in str(caught.value)


def test_bad_chunk_size_in_a_response_raises_connection_lost(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(answer_then_hang(CHUNKED_HEAD + b"zz\r\nhello\r\n" + LAST_CHUNK))

    with pytest.raises(ConnectionLost, match="bad chunk size"):
        pool_for(server).request("GET", "/info")


def test_bad_content_length_raises_connection_lost(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(answer_then_hang(b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n{}"))

    with pytest.raises(ConnectionLost):
        pool_for(server).request("GET", "/info")


def test_negative_chunk_size_raises_connection_lost(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(answer_then_hang(CHUNKED_HEAD + b"-5\r\n"))

    with pytest.raises(ConnectionLost, match="bad chunk size"):
        pool_for(server, timeout=SHORT).request("GET", "/info")


# ------------------------------------------------------------------------------ streams


def open_stream(pool: ConnectionPool, idle_timeout: float | None = SAFETY_TIMEOUT) -> Stream:
    return pool.stream("GET", "/events?filters=%7B%7D", idle_timeout=idle_timeout)


def test_stream_returns_status_and_headers_before_the_body(serve: ServerFactory, pool_for: PoolFactory) -> None:
    body_may_come = threading.Event()

    def handler(peer: Peer) -> None:
        peer.read_request()
        peer.send(CHUNKED_HEAD)
        body_may_come.wait(SAFETY_TIMEOUT)  # longer than the pool's timeout
        peer.send(chunk(b'{"status":"start"}\n') + LAST_CHUNK)

    server = serve(handler)
    with closing(open_stream(pool_for(server, timeout=1.0))) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"] == "application/json"
        body_may_come.set()
        assert list(stream.lines()) == [b'{"status":"start"}']


def test_stream_lines_reassemble_records_across_chunk_boundaries(
        serve: ServerFactory, pool_for: PoolFactory, unix: bool) -> None:
    pieces = [
        b'{"id":1}\n{"id"',  # a record split over two chunks ...
        b':2}\n{"id":3}\n\n{"id":4}\n',  # ... several in one, and a blank line
        b"  \r\n",  # a line of white space
        b'{"id":5}',
        b"\n",
    ]
    server = serve(answer_then_hang(CHUNKED_HEAD + b"".join(chunk(piece, ";x=y") for piece in pieces) + LAST_CHUNK),
                   unix=unix)

    with closing(open_stream(pool_for(server))) as stream:
        assert list(stream.lines()) == [b'{"id":%d}' % n for n in range(1, 6)]


def test_stream_lines_yields_each_record_as_it_arrives(serve: ServerFactory, pool_for: PoolFactory) -> None:
    first_was_read = threading.Event()

    def handler(peer: Peer) -> None:
        peer.read_request()
        peer.send(CHUNKED_HEAD + chunk(b'{"id":1}\n'))
        first_was_read.wait(SAFETY_TIMEOUT)
        peer.send(chunk(b'{"id":2}\n') + LAST_CHUNK)

    server = serve(handler)
    with closing(open_stream(pool_for(server), idle_timeout=1.0)) as stream:
        lines = stream.lines()
        assert next(lines) == b'{"id":1}'
        first_was_read.set()
        assert list(lines) == [b'{"id":2}']


def test_stream_lines_yields_a_last_record_without_newline(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(answer_then_hang(CHUNKED_HEAD + chunk(b'{"a": 1}\n{"b"') + chunk(b": 2}") + LAST_CHUNK))

    with closing(open_stream(pool_for(server))) as stream:
        assert list(stream.lines()) == [b'{"a": 1}', b'{"b": 2}']


def test_stream_read_returns_the_whole_body(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(answer_then_hang(CHUNKED_HEAD + chunk(b'{"header":') + chunk(b"{}}") + LAST_CHUNK))

    with closing(open_stream(pool_for(server))) as stream:
        assert stream.read() == b'{"header":{}}'


def test_stream_idle_timeout_raises_timeout_error_when_the_server_goes_quiet(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(answer_then_hang(CHUNKED_HEAD + chunk(b'{"id":1}\n')))

    with closing(open_stream(pool_for(server, timeout=SAFETY_TIMEOUT), idle_timeout=SHORT)) as stream:
        lines = stream.lines()
        assert next(lines) == b'{"id":1}'
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            next(lines)
        assert SHORT * 0.9 <= time.monotonic() - started < SHORT + 0.5


def test_stream_closed_by_the_server_mid_body_raises_connection_lost(
        serve: ServerFactory, pool_for: PoolFactory) -> None:
    def handler(peer: Peer) -> None:
        peer.read_request()
        peer.send(CHUNKED_HEAD + chunk(b'{"id":1}\n'))  # and no last chunk: the connection closes

    server = serve(handler)
    with closing(open_stream(pool_for(server))) as stream:
        lines = stream.lines()
        assert next(lines) == b'{"id":1}'
        with pytest.raises(ConnectionLost) as caught:
            next(lines)
    assert caught.value.reason == "connection closed"


def test_bad_chunk_size_in_a_stream_raises_connection_lost(serve: ServerFactory, pool_for: PoolFactory) -> None:
    server = serve(answer_then_hang(CHUNKED_HEAD + chunk(b'{"id":1}\n') + b"5x\r\nhello\r\n"))

    with closing(open_stream(pool_for(server))) as stream:
        lines = stream.lines()
        assert next(lines) == b'{"id":1}'
        with pytest.raises(ConnectionLost, match="bad chunk size"):
            next(lines)


def test_stream_shutdown_from_another_thread_wakes_a_blocked_reader_promptly(
        serve: ServerFactory, pool_for: PoolFactory, unix: bool) -> None:
    """How a watcher is stopped: its reader waits without a timeout, and closing the socket from
    another thread would not wake it."""
    server = serve(answer_then_hang(CHUNKED_HEAD + chunk(b'{"id":1}\n')), unix=unix)
    outcomes: queue.Queue[object] = queue.Queue()

    with closing(open_stream(pool_for(server), idle_timeout=None)) as stream:
        def read() -> None:
            try:
                for line in stream.lines():
                    outcomes.put(line)
                outcomes.put("ended")
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                outcomes.put(error)

        reader = threading.Thread(target=read, name="stream-reader")
        reader.start()
        try:
            assert outcomes.get(timeout=SAFETY_TIMEOUT) == b'{"id":1}'
            time.sleep(0.02)  # let the reader block in recv again
            started = time.monotonic()
            stream.shutdown()
            outcome = outcomes.get(timeout=SAFETY_TIMEOUT)
            assert time.monotonic() - started < 0.5
            assert outcome == "ended" or isinstance(outcome, ConnectionLost), outcome
        finally:
            stream.shutdown()
            reader.join(SAFETY_TIMEOUT)
    assert not reader.is_alive()
