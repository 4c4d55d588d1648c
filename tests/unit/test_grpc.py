"""pygen.grpc, the one-call gRPC client over HTTP/2, against scripted servers on real sockets.

Each test runs a ``FakeServer`` on 127.0.0.1 (an ephemeral port, a thread per connection, as in
test_http1.py) whose handler scripts the server's side of one call: ``peer.read_call()`` reads
the client's preface and frames up to the end of its request (checking the preface), the
handler sends the frames of its answer, built here from the RFC 9113 frame layout, and
``peer.wait_for_close()`` records what the client still sends until it closes. Each call is
recorded as a ``ClientCall``: its frames, its header block decoded by a small HPACK decoder of
the literals this client sends, and its gRPC message. One failure cannot be timed by a server
(a send failing after the answer is in): that test hands the client a socket that fails it.
Calls get a 2 s timeout only as a safety net; the test that waits on purpose waits 0.2 s.
``no_leaks`` fails a test that leaves a thread running or a socket open.
"""

from __future__ import annotations

import errno
import shutil
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pygen.grpc import NoMessage, NotGrpc, alpn_h2, unary_call
from pygen.http1 import Address, ConnectionLost, connect
from tests.helpers import fake_server

SAFETY_TIMEOUT = fake_server.SAFETY_TIMEOUT
SHORT = 0.2  # the timeout the tests run into on purpose
PATH = "/etcdserverpb.KV/Txn"

# ------------------------------------------------------------------------------ HTTP/2 (RFC 9113), HPACK (RFC 7541)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8
END_STREAM = ACK = 0x1
END_HEADERS, PADDED = 0x4, 0x8
ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE = 0x2, 0x3, 0x4
CANCEL = 0x8  # an RST_STREAM error code


@dataclass(frozen=True)
class Frame:
    kind: int
    flags: int
    stream: int
    payload: bytes = b""


def h2_frame(kind: int, flags: int = 0, stream: int = 0, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def settings(*pairs: tuple[int, int]) -> bytes:
    return h2_frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", key, value) for key, value in pairs))


def settings_of(frame: Frame) -> list[tuple[int, int]]:
    return [struct.unpack(">HI", frame.payload[i:i + 6]) for i in range(0, len(frame.payload), 6)]


def hpack_literal(name: str, value: str) -> bytes:
    """Literal without indexing, new name, short strings only: what the fake server's answers need."""
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()


HPACK_STATIC = {2: (":method", "GET"), 3: (":method", "POST"), 6: (":scheme", "http"), 7: (":scheme", "https")}


def hpack_int(block: bytes, i: int, prefix_bits: int) -> tuple[int, int]:
    limit = (1 << prefix_bits) - 1
    value = block[i] & limit
    i += 1
    if value < limit:
        return value, i
    shift = 0
    while True:
        byte = block[i]
        i += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def hpack_string(block: bytes, i: int) -> tuple[str, int]:
    assert not block[i] & 0x80, "a Huffman-coded string"
    length, i = hpack_int(block, i, 7)
    assert i + length <= len(block), "a string runs past the header block"
    return block[i:i + length].decode("ascii"), i + length


def decode_header_block(block: bytes) -> list[tuple[str, str]]:
    """The headers of a block made of what this client may send: indexed static entries and
    literals without indexing with a new name; anything else fails the test."""
    headers = []
    i = 0
    while i < len(block):
        if block[i] & 0x80:  # indexed
            index, i = hpack_int(block, i, 7)
            headers.append(HPACK_STATIC[index])
        else:
            assert block[i] == 0x00, f"representation {block[i]:#04x} (indexing, or an indexed name)"
            name, i = hpack_string(block, i + 1)
            value, i = hpack_string(block, i)
            headers.append((name, value))
    return headers


def grpc_message(message: bytes, compressed: int = 0) -> bytes:
    return bytes([compressed]) + struct.pack(">I", len(message)) + message


# the frames of a well-behaved answer
SERVER_SETTINGS = settings((MAX_CONCURRENT_STREAMS, 100), (INITIAL_WINDOW_SIZE, 1 << 20))
SETTINGS_ACK = h2_frame(SETTINGS, ACK)
PREAMBLE = SERVER_SETTINGS + SETTINGS_ACK  # ours, and an acknowledgement of the client's
RESPONSE_HEADERS = h2_frame(HEADERS, END_HEADERS, 1, b"\x88" + hpack_literal("content-type", "application/grpc"))
TRAILERS = h2_frame(HEADERS, END_HEADERS | END_STREAM, 1, hpack_literal("grpc-status", "0"))


def data(payload: bytes, flags: int = 0, stream: int = 1) -> bytes:
    return h2_frame(DATA, flags, stream, payload)


def answer_with(message: bytes) -> bytes:
    return PREAMBLE + RESPONSE_HEADERS + data(grpc_message(message)) + TRAILERS


def goaway(last_stream: int, code: int = 0) -> bytes:
    return h2_frame(GOAWAY, 0, 0, struct.pack(">II", last_stream, code))


# ------------------------------------------------------------------------------ fake server


@dataclass
class ClientCall:
    """One connection's call, as the server received it."""

    connection: int
    request: list[Frame] = field(default_factory=list)  # after the preface, up to the DATA that ends the request
    later: list[Frame] = field(default_factory=list)  # sent after that, while the server read
    closed: bool = False  # the client closed the connection (the server read its end)

    def only(self, kind: int) -> Frame:
        frames = [frame for frame in self.request if frame.kind == kind]
        assert len(frames) == 1, f"{len(frames)} frames of type {kind} in the request"
        return frames[0]

    @property
    def headers(self) -> list[tuple[str, str]]:
        return decode_header_block(self.only(HEADERS).payload)

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    @property
    def data_frames(self) -> list[Frame]:
        return [frame for frame in self.request if frame.kind == DATA]

    @property
    def message(self) -> bytes:
        """The gRPC message of the request, its 5-byte prefix checked."""
        body = b"".join(frame.payload for frame in self.data_frames)
        assert body[0] == 0, "a compressed request"
        assert int.from_bytes(body[1:5], "big") == len(body) - 5, "a wrong length prefix"
        return body[5:]


class Peer:
    """The server's end of one accepted connection, for a handler to script."""

    def __init__(self, sock: socket.socket, index: int, server: FakeServer) -> None:
        self.sock = sock
        self.index = index
        self.server = server
        self.call = ClientCall(index)
        self._buffer = b""

    def _read(self, size: int) -> bytes | None:
        """Exactly ``size`` bytes, or None if the client closed first."""
        while len(self._buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def read_frame(self) -> Frame | None:
        head = self._read(9)
        if head is None:
            return None
        stream = int.from_bytes(head[5:9], "big")
        assert not stream & 0x80000000, "the reserved bit of a stream id is set"
        payload = self._read(int.from_bytes(head[:3], "big"))
        assert payload is not None, "the client closed in the middle of a frame"
        return Frame(head[3], head[4], stream, payload)

    def read_call(self) -> ClientCall:
        """The preface and the frames of the request, up to the DATA frame that ends it."""
        preface = self._read(len(PREFACE))
        assert preface == PREFACE, f"not the HTTP/2 preface: {preface!r}"
        self.server.record(self.call)
        while True:
            frame = self.read_frame()
            assert frame is not None, "the client closed before the end of its request"
            self.call.request.append(frame)
            if frame.kind == DATA and frame.stream == 1 and frame.flags & END_STREAM:
                return self.call

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def expect(self, expected: Frame) -> None:
        """Read the next frame, which must be ``expected``."""
        frame = self.read_frame()
        assert frame == expected
        self.call.later.append(frame)

    def wait_for_close(self) -> None:
        """Record the frames the client sends until it closes its end."""
        while (frame := self.read_frame()) is not None:
            self.call.later.append(frame)
        self.call.closed = True

    def start_tls(self, context: ssl.SSLContext) -> None:
        self.sock = context.wrap_socket(self.sock, server_side=True)

    def reset(self) -> None:
        """Close abortively: the client's unread bytes are dropped, it gets a TCP RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Handler = Callable[[Peer], None]


class FakeServer(fake_server.FakeServer):
    """Accepts connections on 127.0.0.1 and runs ``handler`` on each in a thread of its own; the
    connection is closed when the handler returns. Records every call."""

    name = "fake-h2"

    def __init__(self, handler: Handler) -> None:
        self.calls: list[ClientCall] = []
        super().__init__(handler)

    def make_peer(self, sock: socket.socket, index: int) -> Peer:
        return Peer(sock, index, self)

    def record(self, call: ClientCall) -> None:
        with self._lock:
            self.calls.append(call)

    def the_call(self) -> ClientCall:
        """The one call made to this server, once its handler has returned."""
        deadline = time.monotonic() + SAFETY_TIMEOUT
        while self.finished < self.accepts or not self.accepts:
            assert time.monotonic() < deadline, "fake server: the handler did not return"
            time.sleep(0.002)
        [call] = self.calls
        return call


def answer(*parts: bytes) -> Handler:
    """Read the call, send ``parts``, then record what the client sends until it closes."""

    def handler(peer: Peer) -> None:
        peer.read_call()
        peer.send(b"".join(parts))
        peer.wait_for_close()

    return handler


def call(server: FakeServer, message: bytes = b"question", metadata: Mapping[str, str] | None = None,
         **options: float) -> bytes:
    options.setdefault("timeout", SAFETY_TIMEOUT)
    return unary_call(server.address, None, PATH, message, metadata, **options)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    with fake_server.leak_check():
        yield


ServerFactory = Callable[[Handler], FakeServer]


@pytest.fixture
def serve(no_leaks: None) -> Iterator[ServerFactory]:
    """serve(handler) -> a running FakeServer, closed after the test."""
    servers: list[FakeServer] = []

    def start(handler: Handler) -> FakeServer:
        server = FakeServer(handler)
        servers.append(server)
        return server

    yield start
    fake_server.close_servers(servers)


# ------------------------------------------------------------------------------ the request


def test_request_is_preface_settings_window_update_headers_and_data(serve: ServerFactory) -> None:
    server = serve(answer(answer_with(b"the answer")))

    assert call(server, b"\x12\x05hello", {"Token": "secret-1", "X-Trace": "t 1"}) == b"the answer"

    the_call = server.the_call()
    assert [(frame.kind, frame.stream) for frame in the_call.request] == [
        (SETTINGS, 0), (WINDOW_UPDATE, 0), (HEADERS, 1), (DATA, 1)]
    client_settings = the_call.only(SETTINGS)
    assert client_settings.flags == 0
    assert settings_of(client_settings) == [(ENABLE_PUSH, 0), (INITIAL_WINDOW_SIZE, 2**31 - 1)]
    # the connection window opened as wide as the streams' (65535 is where it starts)
    assert the_call.only(WINDOW_UPDATE).payload == struct.pack(">I", 2**31 - 1 - 65535)
    assert the_call.only(HEADERS).flags == END_HEADERS  # the request goes on in DATA
    assert the_call.only(HEADERS).payload.startswith(b"\x83")  # :method POST, indexed
    assert the_call.headers == [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", PATH),
        (":authority", f"127.0.0.1:{server.address.port}"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("token", "secret-1"),  # metadata names lower-cased, as HTTP/2 requires
        ("x-trace", "t 1"),
    ]
    [data_frame] = the_call.data_frames
    assert data_frame.flags == END_STREAM
    assert data_frame.payload == b"\x00\x00\x00\x00\x07\x12\x05hello"  # not compressed, length 7


def test_request_without_metadata_sends_only_the_required_headers(serve: ServerFactory) -> None:
    server = serve(answer(answer_with(b"")))

    assert call(server) == b""  # an empty message is a message: an answer of all defaults

    assert [name for name, _ in server.the_call().headers] == [
        ":method", ":scheme", ":path", ":authority", "content-type", "te"]


def test_long_metadata_values_have_multi_byte_hpack_lengths(serve: ServerFactory) -> None:
    token = "t" * 126 + "." + "x" * 300  # longer than the 127 of a one-byte length
    name = "x-" + "n" * 200

    server = serve(answer(answer_with(b"ok")))
    call(server, metadata={"token": token, name: "v"})

    assert server.the_call().header("token") == token
    assert server.the_call().header(name) == "v"


@pytest.mark.parametrize(
    ("message_size", "frame_sizes"),
    [
        (40_000, [16_384, 16_384, 7_237]),  # 40,005 bytes with the prefix
        (16_379, [16_384]),  # exactly one full frame
        (16_380, [16_384, 1]),
        (65_530, [16_384, 16_384, 16_384, 16_383]),  # the largest request: the peer's whole first window
    ],
)
def test_request_is_sent_in_data_frames_of_at_most_16384_bytes(
        serve: ServerFactory, message_size: int, frame_sizes: list[int]) -> None:
    message = bytes(range(251)) * (message_size // 251) + b"m" * (message_size % 251)
    server = serve(answer(answer_with(b"ok")))

    assert call(server, message) == b"ok"

    the_call = server.the_call()
    assert [len(frame.payload) for frame in the_call.data_frames] == frame_sizes
    assert [frame.flags for frame in the_call.data_frames] == [0] * (len(frame_sizes) - 1) + [END_STREAM]
    assert the_call.message == message


@pytest.mark.parametrize(
    ("message_size", "metadata"),
    [
        (65_531, {}),  # 65,536 bytes with the prefix: one more than the peer's first window
        (10, {"token": "t" * 16_384}),  # a header block larger than a frame
    ],
)
def test_request_too_large_raises_not_grpc_without_connecting(
        serve: ServerFactory, message_size: int, metadata: dict[str, str]) -> None:
    server = serve(answer(answer_with(b"never")))

    with pytest.raises(NotGrpc, match="larger than this client sends"):
        call(server, b"m" * message_size, metadata)

    server.close()
    assert server.accepts == 0


def test_client_says_goodbye_with_goaway_and_closes_after_the_answer(serve: ServerFactory) -> None:
    server = serve(answer(answer_with(b"ok")))

    call(server)

    the_call = server.the_call()
    assert the_call.later == [
        Frame(SETTINGS, ACK, 0),  # for the server's SETTINGS
        Frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)),  # last stream 1, NO_ERROR
    ]
    assert the_call.closed


# ------------------------------------------------------------------------------ the answer


@pytest.mark.parametrize("ending", ["trailers", "END_STREAM on the last DATA"])
def test_answer_split_across_data_frames_is_reassembled(serve: ServerFactory, ending: str) -> None:
    message = bytes(range(256)) * 400  # 102,400 bytes: more than one recv() on the client's side
    body = grpc_message(message)
    pieces = [body[:3], b"", body[3:10]] + [body[n:n + 16_384] for n in range(10, len(body), 16_384)]
    frames = [data(piece) for piece in pieces]
    if ending == "trailers":
        frames.append(TRAILERS)
    else:
        frames[-1] = data(pieces[-1], END_STREAM)
    server = serve(answer(PREAMBLE, RESPONSE_HEADERS, *frames))

    assert call(server) == message


def test_ping_is_answered_with_a_ping_ack_of_the_same_payload(serve: ServerFactory) -> None:
    body = grpc_message(b"pong?")
    server = serve(answer(
        PREAMBLE, RESPONSE_HEADERS, data(body[:4]),
        h2_frame(PING, 0, 0, b"12345678"),
        h2_frame(PING, ACK, 0, b"acked..."),  # an acknowledgement: not to be answered
        data(body[4:]), TRAILERS))

    assert call(server) == b"pong?"

    pings = [frame for frame in server.the_call().later if frame.kind == PING]
    assert pings == [Frame(PING, ACK, 0, b"12345678")]


def test_settings_are_acknowledged_and_acknowledgements_are_not(serve: ServerFactory) -> None:
    server = serve(answer(
        SERVER_SETTINGS, SETTINGS_ACK, RESPONSE_HEADERS,
        settings((INITIAL_WINDOW_SIZE, 100)),  # new settings mid-answer
        SETTINGS_ACK,  # a second acknowledgement
        data(grpc_message(b"settled")), TRAILERS))

    assert call(server) == b"settled"

    acks = [frame for frame in server.the_call().later if frame.kind == SETTINGS]
    assert acks == [Frame(SETTINGS, ACK, 0), Frame(SETTINGS, ACK, 0)]


def test_frames_of_other_streams_and_of_unknown_types_are_ignored(serve: ServerFactory) -> None:
    server = serve(answer(
        PREAMBLE,
        h2_frame(HEADERS, END_HEADERS | END_STREAM, 3, hpack_literal("grpc-status", "13")),
        h2_frame(RST_STREAM, 0, 3, struct.pack(">I", CANCEL)),
        RESPONSE_HEADERS,
        data(grpc_message(b"not for this call"), END_STREAM, stream=5),
        h2_frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1000)),
        h2_frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 1000)),
        h2_frame(0xFA, END_STREAM, 1, b"an extension frame type"),
        goaway(7),  # shutting down, but our stream 1 is below 7: it will be answered
        data(grpc_message(b"for this call"), stream=1),
        data(b"junk", END_STREAM, stream=2),
        TRAILERS))

    assert call(server) == b"for this call"


def test_padding_of_data_frames_is_dropped(serve: ServerFactory) -> None:
    body = grpc_message(b"padded answer")

    def padded(payload: bytes, pad: int) -> bytes:
        return data(bytes([pad]) + payload + b"\x00" * pad, PADDED)

    server = serve(answer(PREAMBLE, RESPONSE_HEADERS,
                          padded(body[:7], 5), padded(b"", 200), padded(body[7:], 0), TRAILERS))

    assert call(server) == b"padded answer"


def test_goaway_that_still_covers_the_call_lets_the_answer_come(serve: ServerFactory) -> None:
    server = serve(answer(PREAMBLE, goaway(1), RESPONSE_HEADERS, data(grpc_message(b"last one")), TRAILERS))

    assert call(server) == b"last one"


def test_answer_that_arrived_is_returned_even_if_the_server_then_resets(serve: ServerFactory) -> None:
    """The SETTINGS ACK and the closing GOAWAY are courtesies: if the server already reset the
    connection, failing to send them must not lose the answer sitting in the client's buffer."""

    def handler(peer: Peer) -> None:
        peer.read_call()
        peer.send(answer_with(b"complete"))  # begins with SETTINGS: an ACK is owed
        peer.reset()

    server = serve(handler)

    assert call(server) == b"complete"


class GoodbyeFails:
    """A client socket on which sending the GOAWAY fails, as it does once the server's reset
    has arrived: the one failure whose timing a fake server cannot script."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.goodbyes = 0

    def sendall(self, data: bytes) -> None:
        if data[3] == GOAWAY:
            self.goodbyes += 1
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        self._sock.sendall(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


def test_goodbye_that_cannot_be_sent_does_not_lose_the_answer(
        serve: ServerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    sockets: list[GoodbyeFails] = []

    def connect_failing_goodbye(*args: object) -> GoodbyeFails:
        sockets.append(GoodbyeFails(connect(*args)))  # type: ignore[arg-type]
        return sockets[-1]

    monkeypatch.setattr("pygen.grpc.connect", connect_failing_goodbye)
    server = serve(answer(answer_with(b"complete")))

    assert call(server) == b"complete"

    assert [sock.goodbyes for sock in sockets] == [1]
    assert server.the_call().later == [Frame(SETTINGS, ACK, 0)]


# ------------------------------------------------------------------------------ no message: a gRPC error


def test_trailers_only_answer_raises_no_message(serve: ServerFactory) -> None:
    trailers_only = h2_frame(HEADERS, END_HEADERS | END_STREAM, 1,
                             b"\x88" + hpack_literal("content-type", "application/grpc")
                             + hpack_literal("grpc-status", "7") + hpack_literal("grpc-message", "permission denied"))
    server = serve(answer(PREAMBLE, trailers_only))

    with pytest.raises(NoMessage, match="without a message") as caught:
        call(server)

    assert str(server.address) in str(caught.value)


def test_reset_stream_raises_no_message_with_its_error_code(serve: ServerFactory) -> None:
    server = serve(answer(PREAMBLE, RESPONSE_HEADERS, data(grpc_message(b"half")[:6]),
                          h2_frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL))))

    with pytest.raises(NoMessage, match=r"reset the call \(HTTP/2 error 8\)"):
        call(server)


# ------------------------------------------------------------------------------ not gRPC


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                     b"\r\n400 Bad Request", id="an HTTP/1.1 server"),
        pytest.param(RESPONSE_HEADERS + data(grpc_message(b"x"), END_STREAM), id="HTTP/2 without SETTINGS first"),
        pytest.param(h2_frame(SETTINGS, 0, 0, b"\x00" * 6 * 200), id="SETTINGS too long to be one"),
    ],
)
def test_server_that_does_not_begin_with_http2_settings_raises_not_grpc(serve: ServerFactory, reply: bytes) -> None:
    server = serve(answer(reply))

    with pytest.raises(NotGrpc, match="did not answer with HTTP/2"):
        call(server)


def test_compressed_message_raises_not_grpc(serve: ServerFactory) -> None:
    server = serve(answer(PREAMBLE, RESPONSE_HEADERS, data(grpc_message(b"gzip bytes", compressed=1)), TRAILERS))

    with pytest.raises(NotGrpc, match="compressed"):
        call(server)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"\x00\x00\x00\x00\x0a" + b"9 bytes..", "sent 9 bytes for a message of 10"),
        (b"\x00\x00\x00\x00\x0a" + b"11 bytes...", "sent 11 bytes for a message of 10"),
        (grpc_message(b"one") + grpc_message(b"two"), "sent 11 bytes for a message of 3"),
        (b"\x00\x00\x00", "sent 3 bytes where a gRPC message starts"),
    ],
    ids=["short", "long", "two messages", "a prefix cut short"],
)
def test_message_whose_length_prefix_does_not_match_raises_not_grpc(
        serve: ServerFactory, body: bytes, error: str) -> None:
    server = serve(answer(PREAMBLE, RESPONSE_HEADERS, data(body), TRAILERS))

    with pytest.raises(NotGrpc, match=error):
        call(server)


# ------------------------------------------------------------------------------ transport failures


def test_connection_refused_raises_connection_lost() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free again once closed, and nobody listens on it

    with pytest.raises(ConnectionLost) as caught:
        unary_call(Address("127.0.0.1", port, scheme="http"), None, PATH, b"q", timeout=SAFETY_TIMEOUT)

    assert caught.value.reason == "connection refused"
    assert f"127.0.0.1:{port}" in str(caught.value)


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"", id="before any answer"),
        pytest.param(RESPONSE_HEADERS + data(grpc_message(b"x" * 100))[:30], id="in the middle of a DATA frame"),
        pytest.param(RESPONSE_HEADERS + data(grpc_message(b"x" * 100)), id="after a DATA frame, before the end"),
        pytest.param(RESPONSE_HEADERS + data(b"")[:4], id="in the middle of a frame header"),
    ],
)
def test_server_closing_mid_answer_raises_connection_lost(serve: ServerFactory, partial: bytes) -> None:
    def handler(peer: Peer) -> None:
        peer.read_call()
        peer.send(PREAMBLE)
        peer.expect(Frame(SETTINGS, ACK, 0))  # all the client sends is read: the close is a clean FIN
        peer.send(partial)

    server = serve(handler)

    with pytest.raises(ConnectionLost) as caught:
        call(server)

    assert caught.value.reason == "connection closed by the server"


def test_server_resetting_mid_answer_raises_connection_lost(serve: ServerFactory) -> None:
    """The counterpart of the test above: the failed ACK is let pass, the broken read is not."""

    def handler(peer: Peer) -> None:
        peer.read_call()
        peer.send(PREAMBLE + RESPONSE_HEADERS + data(grpc_message(b"x" * 100)[:50]))
        peer.reset()

    server = serve(handler)

    with pytest.raises(ConnectionLost) as caught:
        call(server)

    assert caught.value.reason in ("connection reset by peer", "connection closed by the server")


def test_goaway_below_our_stream_raises_connection_lost(serve: ServerFactory) -> None:
    server = serve(answer(PREAMBLE, goaway(0)))

    with pytest.raises(ConnectionLost, match="is shutting down") as caught:
        call(server)

    assert caught.value.reason == "server shutting down"


@pytest.mark.parametrize("before_silence", [b"", PREAMBLE + RESPONSE_HEADERS + data(b"\x00\x00")],
                         ids=["before any answer", "mid-answer"])
def test_silent_server_raises_timeout_error(serve: ServerFactory, before_silence: bytes) -> None:
    server = serve(answer(before_silence))

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        call(server, timeout=SHORT)
    assert SHORT * 0.9 <= time.monotonic() - started < SHORT + 0.5

    assert server.the_call().closed  # the client gave up and closed the connection


# ------------------------------------------------------------------------------ TLS with ALPN


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=pygen-test",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def tls_server_context(certificate: tuple[Path, Path], protocols: list[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    context.set_alpn_protocols(protocols)
    return context


def tls_call(server: FakeServer, certificate: tuple[Path, Path]) -> bytes:
    client_context = alpn_h2(ssl.create_default_context(cafile=str(certificate[0])))
    return unary_call(Address("127.0.0.1", server.address.port, scheme="https"), client_context, PATH, b"q",
                      timeout=SAFETY_TIMEOUT)


def test_tls_server_agreeing_to_h2_is_called_with_scheme_https(
        serve: ServerFactory, certificate: tuple[Path, Path]) -> None:
    context = tls_server_context(certificate, ["h2", "http/1.1"])

    def handler(peer: Peer) -> None:
        peer.start_tls(context)
        answer(answer_with(b"secret answer"))(peer)

    server = serve(handler)

    assert tls_call(server, certificate) == b"secret answer"

    assert server.the_call().header(":scheme") == "https"


def test_tls_server_without_h2_raises_not_grpc(serve: ServerFactory, certificate: tuple[Path, Path]) -> None:
    context = tls_server_context(certificate, ["http/1.1"])
    received: list[bytes] = []

    def handler(peer: Peer) -> None:
        peer.start_tls(context)
        while chunk := peer.sock.recv(65536):
            received.append(chunk)

    server = serve(handler)

    with pytest.raises(NotGrpc, match="did not agree to HTTP/2"):
        tls_call(server, certificate)

    server.close()
    assert server.accepts == 1
    assert received == []  # not a byte of HTTP/2 was sent
