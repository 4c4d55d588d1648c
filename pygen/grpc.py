"""One gRPC unary call over HTTP/2: the fast way to read a big etcd prefix.

Why: etcd's JSON gateway marshals a 10,000-key range in 100-160 ms (reflection-based JSON of
base64 fields, 1.5 MB), while its gRPC server sends the same range as 0.6 MB of protobuf in
20-35 ms. That difference is a third of etcd-gen's budget for a first render. grpcio would do
it, but its import alone costs what we save, and a read needs very little of HTTP/2:

* one connection per call (reads are rare: start-up, after compaction or a lost watch), cleartext
  with prior knowledge ("h2c", which etcd's client port accepts) or TLS with ALPN ``h2``;
* one stream; the request is small, so it fits the peer's first flow-control window;
* our windows opened wide at once, so the server never waits for a WINDOW_UPDATE;
* request headers sent as HPACK literals (no tables, no Huffman), answers to SETTINGS and PING.

Response headers and trailers are not decoded (that would take HPACK's tables and Huffman
code): a unary call either carries exactly one length-prefixed message, which is a success,
or none, which is an error status. The caller learns the error's text some other way (etcd's
client asks the same question of the gateway), so this module only has to say which of the
three happened: a message (returned), :class:`NoMessage`, or :class:`NotGrpc` (the server does
not speak HTTP/2 here: a proxy, a TLS peer without ``h2``) - and, as the HTTP/1.1 client does,
:class:`pygen.http1.ConnectionLost` or TimeoutError when the transport fails.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pygen.http1 import Address, ConnectionLost, connect, describe_error

if TYPE_CHECKING:
    import socket
    import ssl

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
SETTINGS_ENABLE_PUSH, SETTINGS_INITIAL_WINDOW_SIZE = 0x2, 0x4
MAX_WINDOW = 2**31 - 1
DEFAULT_WINDOW = 65535  # what the peer grants us before its SETTINGS say otherwise
DEFAULT_MAX_FRAME = 16384  # the largest frame a peer must accept
MAX_FRAME_ACCEPTED = 2**24 - 1  # the largest a frame header can announce
STREAM = 1
_RECV_SIZE = 262144


class NotGrpc(Exception):
    """The server does not speak gRPC over HTTP/2 at this address (or spoke it wrongly)."""


class NoMessage(Exception):
    """The call ended without a response message: the server refused it with a gRPC status."""


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload."""
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


def varint(value: int) -> bytes:
    """An unsigned LEB128 integer: 7 bits a byte, low first, the top bit set on all but the last.
    It is protobuf's varint, and the continuation of an HPACK integer."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_int(value: int, prefix_bits: int, first_byte: int = 0) -> bytes:
    """An HPACK integer (RFC 7541 5.1) in a ``prefix_bits``-bit prefix of ``first_byte``."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    return bytes([first_byte | limit]) + varint(value - limit)


def hpack_literal(name: bytes, value: bytes) -> bytes:
    """A header as "literal without indexing, new name", neither string Huffman-coded: the
    one representation that needs no table on either side."""
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def request_headers(address: Address, path: str, metadata: Mapping[str, str]) -> bytes:
    scheme = b"https" if address.scheme == "https" else b"http"
    block = b"\x83"  # :method POST (static table entry 3)
    block += hpack_literal(b":scheme", scheme)
    block += hpack_literal(b":path", path.encode("ascii"))
    host = f"[{address.host}]" if ":" in address.host else address.host
    block += hpack_literal(b":authority", f"{host}:{address.port}".encode("ascii" if host.isascii() else "idna"))
    block += hpack_literal(b"content-type", b"application/grpc")
    block += hpack_literal(b"te", b"trailers")
    for name, value in metadata.items():
        block += hpack_literal(name.lower().encode("ascii"), value.encode("ascii"))
    return block


def data_frames(body: bytes) -> bytes:
    """``body`` as DATA frames of at most the size every peer accepts, END_STREAM on the last."""
    starts = range(0, len(body), DEFAULT_MAX_FRAME)
    return b"".join(frame(DATA, END_STREAM if start + DEFAULT_MAX_FRAME >= len(body) else 0, STREAM,
                          body[start:start + DEFAULT_MAX_FRAME]) for start in starts)


def unary_call(address: Address, tls: ssl.SSLContext | None, path: str, message: bytes,
               metadata: Mapping[str, str] | None = None, *, timeout: float,
               connect_timeout: float | None = None) -> bytes:
    """Call ``path`` (``/package.Service/Method``) with one serialized ``message``; return the
    serialized answer. ``tls`` must offer ALPN ``h2`` (see :func:`alpn_h2`)."""
    body = b"\x00" + struct.pack(">I", len(message)) + message  # not compressed, length
    headers = request_headers(address, path, metadata or {})
    if len(body) > DEFAULT_WINDOW or len(headers) > DEFAULT_MAX_FRAME:
        raise NotGrpc(f"request of {len(body)} bytes is larger than this client sends")
    sock = connect(address, tls, connect_timeout or timeout)
    try:
        sock.settimeout(timeout)
        if tls is not None and sock.selected_alpn_protocol() != "h2":  # type: ignore[attr-defined]
            raise NotGrpc(f"{address} did not agree to HTTP/2 in the TLS handshake")
        call = _Call(sock, address)
        call.send(PREFACE
                  + frame(SETTINGS, 0, 0, struct.pack(">HIHI", SETTINGS_ENABLE_PUSH, 0,
                                                      SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW))
                  + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - DEFAULT_WINDOW))
                  + frame(HEADERS, END_HEADERS, STREAM, headers)
                  + data_frames(body))
        answer = call.receive()
        call.send(frame(GOAWAY, 0, 0, struct.pack(">II", STREAM, 0)), courtesy=True)  # a polite goodbye
        return answer
    finally:
        sock.close()


class _Call:
    """The receiving side of one call: frames in, the response message out."""

    def __init__(self, sock: socket.socket, address: Address) -> None:
        self.sock = sock
        self.address = address
        self.buffer = bytearray()
        self.frames_seen = 0

    def send(self, data: bytes, *, courtesy: bool = False) -> None:
        """A ``courtesy`` (an ACK, the goodbye) failing is not an error: if the connection is
        broken, the next read says so, unless the whole answer is already in."""
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise
        except OSError as error:
            if not courtesy:
                self._lost(error)

    def _lost(self, error: OSError | None) -> None:
        reason = describe_error(error) if error is not None else "connection closed by the server"
        raise ConnectionLost(f"lost connection to {self.address}: {reason}", reason) from None

    def _fill(self, wanted: int) -> None:
        while len(self.buffer) < wanted:
            try:
                chunk = self.sock.recv(_RECV_SIZE)
            except TimeoutError:
                raise
            except OSError as error:
                self._lost(error)
            if not chunk:
                self._lost(None)
            self.buffer += chunk

    def next_frame(self) -> tuple[int, int, int, bytes]:
        self._fill(9)
        length = int.from_bytes(self.buffer[:3], "big")
        kind, flags = self.buffer[3], self.buffer[4]
        stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
        if self.frames_seen == 0 and (kind != SETTINGS or length > 1024):
            raise NotGrpc(f"{self.address} did not answer with HTTP/2")  # "HTTP/1.1 400 ..."
        if length > MAX_FRAME_ACCEPTED:
            raise NotGrpc(f"{self.address} sent an impossible frame")
        self._fill(9 + length)
        payload = bytes(self.buffer[9:9 + length])
        del self.buffer[:9 + length]
        self.frames_seen += 1
        return kind, flags, stream, payload

    def receive(self) -> bytes:
        data = bytearray()
        while True:
            kind, flags, stream, payload = self.next_frame()
            if stream == 0:
                if kind == SETTINGS and not flags & ACK:
                    self.send(frame(SETTINGS, ACK, 0), courtesy=True)
                elif kind == PING and not flags & ACK:
                    self.send(frame(PING, ACK, 0, payload), courtesy=True)
                elif kind == GOAWAY and len(payload) >= 8:
                    last_stream = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
                    if last_stream < STREAM:  # our call will not be processed
                        raise ConnectionLost(f"{self.address} is shutting down", "server shutting down")
                continue
            if stream != STREAM:
                continue
            if kind == RST_STREAM:
                code = int.from_bytes(payload[:4], "big") if len(payload) >= 4 else 0
                raise NoMessage(f"{self.address} reset the call (HTTP/2 error {code})")
            if kind == DATA:
                if flags & 0x8:  # PADDED
                    pad = payload[0] if payload else 0
                    payload = payload[1:len(payload) - pad]
                data += payload
            if flags & END_STREAM and kind in (DATA, HEADERS):
                return self._message(data)

    def _message(self, data: bytearray) -> bytes:
        if not data:
            raise NoMessage(f"{self.address} answered without a message")
        if len(data) < 5:
            raise NotGrpc(f"{self.address} sent {len(data)} bytes where a gRPC message starts")
        compressed, length = data[0], int.from_bytes(data[1:5], "big")
        if compressed:
            raise NotGrpc(f"{self.address} sent a compressed message, which was not asked for")
        if length != len(data) - 5:
            raise NotGrpc(f"{self.address} sent {len(data) - 5} bytes for a message of {length}")
        return bytes(data[5:])


def alpn_h2(context: ssl.SSLContext) -> ssl.SSLContext:
    """The TLS context offering HTTP/2 only (a context for HTTP/1.1 must not offer it)."""
    context.set_alpn_protocols(["h2"])
    return context
