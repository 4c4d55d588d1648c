"""pygen.etcd.v3proto, the hand-written protobuf of etcd's KV/Txn, against an independent codec.

The messages the decoder reads are built here by a tiny protobuf encoder of the test's own
(varints, tags, length-delimited fields: a dozen lines, written from the wire-format spec, not
from the module), field by field as etcd's rpc.proto and kv.proto number them. The requests
the module encodes are read back by the test's own decoder. So both directions are checked
against the wire format, and a mistake shared by the module's encoder and decoder cannot hide.
"""

from __future__ import annotations

import struct

import pytest

from pygen.etcd import keys
from pygen.etcd.v3proto import (
    TXN_METHOD,
    MalformedMessage,
    decode_txn_ranges,
    txn_of_ranges,
)

# ------------------------------------------------------------------------------ the test's protobuf codec

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def int_field(number: int, value: int) -> bytes:
    return tag(number, VARINT) + varint(value)


def bytes_field(number: int, payload: bytes) -> bytes:
    return tag(number, LENGTH_DELIMITED) + varint(len(payload)) + payload


def fixed64_field(number: int, value: int) -> bytes:
    return tag(number, FIXED64) + struct.pack("<Q", value)


def fixed32_field(number: int, value: int) -> bytes:
    return tag(number, FIXED32) + struct.pack("<I", value)


def read_varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def fields_of(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of each field of ``buf``: an int for varints, the payload for
    length-delimited fields (the only two wire types a request uses); all of ``buf`` must parse."""
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, i = read_varint(buf, i)
            out.append((number, value))
        elif wire_type == LENGTH_DELIMITED:
            length, i = read_varint(buf, i)
            assert i + length <= len(buf), "a field runs past the end"
            out.append((number, buf[i:i + length]))
            i += length
        else:
            raise AssertionError(f"unexpected wire type {wire_type} in a request")
    return out


# ------------------------------------------------------------------------------ etcd's messages, field by field


def key_value(key: bytes, value: bytes | None, *, create_revision: int = 5, mod_revision: int = 9,
              version: int = 2, lease: int = 0, extra: bytes = b"") -> bytes:
    """mvccpb.KeyValue in field order, as etcd writes it (proto3: zero and empty fields omitted)."""
    return (bytes_field(1, key) + int_field(2, create_revision) + int_field(3, mod_revision)
            + int_field(4, version) + (bytes_field(5, value) if value else b"")
            + (int_field(6, lease) if lease else b"") + extra)


def response_header(revision: int, extra: bytes = b"") -> bytes:
    """etcdserverpb.ResponseHeader: cluster_id = 1, member_id = 2, revision = 3, raft_term = 4."""
    return int_field(1, 0x1234_5678_9ABC_DEF0) + int_field(2, 0xFEDC_BA98) + int_field(3, revision) + int_field(4, 7) + extra


def range_response(*kvs: bytes, revision: int = 100, more: bool = False, count: int | None = None,
                   extra: bytes = b"") -> bytes:
    """RangeResponse: header = 1, kvs = 2, more = 3, count = 4."""
    return (bytes_field(1, response_header(revision)) + b"".join(bytes_field(2, kv) for kv in kvs)
            + (int_field(3, 1) if more else b"") + int_field(4, len(kvs) if count is None else count) + extra)


def response_op(range_payload: bytes, extra: bytes = b"") -> bytes:
    """ResponseOp with response_range = 1."""
    return bytes_field(1, range_payload) + extra


def txn_response(*ops: bytes, revision: int = 100, header_extra: bytes = b"", extra: bytes = b"") -> bytes:
    """TxnResponse: header = 1, succeeded = 2, responses = 3."""
    return (bytes_field(1, response_header(revision, header_extra)) + int_field(2, 1)
            + b"".join(bytes_field(3, op) for op in ops) + extra)


def txn_of(*ranges: list[tuple[bytes, bytes | None]], revision: int = 100) -> bytes:
    """A TxnResponse of one RangeResponse per list of (key, value)."""
    return txn_response(*(response_op(range_response(*(key_value(k, v) for k, v in kvs), revision=revision))
                          for kvs in ranges), revision=revision)


def decode(buf: bytes) -> tuple[int, dict[str, bytes]]:
    into: dict[str, bytes] = {}
    revision = decode_txn_ranges(buf, into)
    return revision, into


def test_the_encoder_of_this_test_follows_the_spec() -> None:
    """The examples of protobuf's encoding guide: if these hold, the builders above are right."""
    assert varint(0) == b"\x00"
    assert varint(1) == b"\x01"
    assert varint(150) == b"\x96\x01"
    assert varint(2**35) == b"\x80\x80\x80\x80\x80\x01"
    assert int_field(1, 150) == b"\x08\x96\x01"
    assert bytes_field(2, b"testing") == b"\x12\x07testing"
    assert tag(16, VARINT) == b"\x80\x01"
    assert read_varint(b"\x96\x01", 0) == (150, 2)


# ------------------------------------------------------------------------------ decoding: content


def test_several_ranges_of_several_key_values_are_all_added() -> None:
    buf = txn_of(
        [(b"/services/web/1", b"10.0.0.1:80"), (b"/services/web/2", b"10.0.0.2:80")],
        [(b"/config/a", b'{"x": 1}'), (b"/config/b", b"b"), (b"/config/c", b"c")],
        [(b"/lonely", b"one")],
        revision=4242,
    )

    assert decode(buf) == (4242, {
        "/services/web/1": b"10.0.0.1:80",
        "/services/web/2": b"10.0.0.2:80",
        "/config/a": b'{"x": 1}',
        "/config/b": b"b",
        "/config/c": b"c",
        "/lonely": b"one",
    })


def test_keys_are_added_to_what_into_already_holds() -> None:
    into = {"/before": b"kept", "/a": b"old"}

    assert decode_txn_ranges(txn_of([(b"/a", b"new")], revision=8), into) == 8

    assert into == {"/before": b"kept", "/a": b"new"}
    assert all(type(value) is bytes for value in into.values())


def test_response_without_key_values_adds_nothing() -> None:
    assert decode(txn_response(revision=77)) == (77, {})  # no responses at all
    assert decode(txn_of([], [], revision=78)) == (78, {})  # two empty ranges
    assert decode(b"") == (0, {})  # every field at its default: no header, no revision


def test_range_response_with_more_and_count_is_read_for_its_key_values_only() -> None:
    kvs = [key_value(b"/k1", b"v1"), key_value(b"/k2", b"v2")]
    buf = txn_response(response_op(range_response(*kvs, more=True, count=10_000)), revision=12)

    assert decode(buf) == (12, {"/k1": b"v1", "/k2": b"v2"})


def test_empty_value_is_empty_bytes_whether_omitted_or_sent_empty() -> None:
    omitted = key_value(b"/omitted", None)  # how proto3 (and so etcd) sends an empty value
    sent_empty = bytes_field(1, b"/sent-empty") + bytes_field(5, b"")

    _, into = decode(txn_response(response_op(range_response(omitted, sent_empty))))

    assert into == {"/omitted": b"", "/sent-empty": b""}


@pytest.mark.parametrize(
    "raw_key",
    [b"/bin/\xff\xfe", b"/half-\xc3", b"\xc3(", b"/latin1-caf\xe9", b"/nul\x00byte"],
)
def test_key_bytes_that_are_not_utf8_survive_as_surrogates(raw_key: bytes) -> None:
    _, into = decode(txn_of([(raw_key, b"v")]))

    [key] = into
    assert key == keys.from_bytes(raw_key)
    assert key.encode("utf-8", "surrogateescape") == raw_key


def test_utf8_keys_decode_to_their_characters() -> None:
    _, into = decode(txn_of([("/café/ключ/鍵".encode(), b"v")]))

    assert into == {"/café/ключ/鍵": b"v"}


@pytest.mark.parametrize(
    ("key_size", "value_size"),
    [
        (127, 127),  # the largest one-byte lengths
        (128, 128),  # the smallest two-byte lengths
        (300, 16_383),
        (2_000, 16_384),  # three-byte length
        (16_385, 70_000),
        (10, 2**21 + 5),  # four-byte length (of the value, and of each enclosing message)
    ],
)
def test_long_keys_and_values_have_multi_byte_lengths(key_size: int, value_size: int) -> None:
    key = b"/" + b"k" * (key_size - 1)
    value = bytes(range(256)) * (value_size // 256) + b"v" * (value_size % 256)
    other = b"/after-the-long-one"

    revision, into = decode(txn_of([(key, value), (other, b"still read")], revision=31))

    assert revision == 31
    assert len(into[key.decode()]) == value_size
    assert into == {key.decode(): value, other.decode(): b"still read"}


def test_fields_in_unusual_order_and_big_revisions() -> None:
    """Protobuf allows fields in any order; etcd's revisions are int64."""
    big = 2**35 + 123_456_789
    kv = (int_field(6, 2**62 + 1)  # lease first
          + bytes_field(5, b"the value")  # value before key
          + int_field(3, big + 1)
          + bytes_field(1, b"/unusual")
          + int_field(4, 2**40)
          + int_field(2, big))
    kv_usual = key_value(b"/usual", b"v", create_revision=big, mod_revision=2**63 - 1, version=2**33, lease=2**50)
    range_payload = int_field(4, 2) + bytes_field(2, kv) + bytes_field(1, response_header(big)) + bytes_field(2, kv_usual)
    buf = (bytes_field(3, response_op(range_payload))  # responses before the header
           + int_field(2, 1)
           + bytes_field(1, int_field(3, big) + int_field(1, 1)))  # revision before cluster_id

    assert decode(buf) == (big, {"/unusual": b"the value", "/usual": b"v"})


def test_the_last_header_revision_and_the_last_key_field_win() -> None:
    """Protobuf's rule for a scalar field sent twice."""
    kv = bytes_field(1, b"/first") + bytes_field(5, b"v") + bytes_field(1, b"/second")
    buf = bytes_field(1, int_field(3, 5)) + bytes_field(3, response_op(bytes_field(2, kv))) + bytes_field(1, int_field(3, 6))

    assert decode(buf) == (6, {"/second": b"v"})


# ------------------------------------------------------------------------------ decoding: unknown fields


UNKNOWN_FIELDS = {
    "varint": int_field(9, 2**63 + 5),  # ten-byte varint
    "fixed32": fixed32_field(10, 0xFFFF_FFFF),
    "fixed64": fixed64_field(11, 0x8080_8080_8080_8080),  # bytes that look like varint continuations
    "length-delimited": bytes_field(12, b"\x0a\x05inner" * 3),  # looks like a key field inside
    "number 16 (two-byte tag)": bytes_field(16, b"x" * 200),  # and a two-byte length
    "number 2047, varint": int_field(2047, 1),
    "largest number (five-byte tag), fixed64": fixed64_field(2**29 - 1, 1),
    "number 100, fixed32": fixed32_field(100, 7),
    "empty length-delimited": bytes_field(13, b""),
}


@pytest.mark.parametrize("unknown", UNKNOWN_FIELDS.values(), ids=UNKNOWN_FIELDS.keys())
@pytest.mark.parametrize("where", ["TxnResponse", "ResponseHeader", "ResponseOp", "RangeResponse", "KeyValue"])
def test_unknown_fields_are_skipped_wherever_they_are(where: str, unknown: bytes) -> None:
    """Newer etcd versions may add fields; every message must skip what it does not know,
    before and after the fields it reads."""
    def extra(here: str) -> bytes:
        return unknown if here == where else b""

    def kv(key: bytes, value: bytes) -> bytes:
        return extra("KeyValue") + key_value(key, value, extra=extra("KeyValue"))

    def rng(*kvs: bytes) -> bytes:
        return extra("RangeResponse") + range_response(*kvs, extra=extra("RangeResponse"))

    def op(range_payload: bytes) -> bytes:
        return extra("ResponseOp") + response_op(range_payload, extra=extra("ResponseOp"))

    header = extra("ResponseHeader") + response_header(555, extra("ResponseHeader"))
    buf = (extra("TxnResponse") + bytes_field(1, header) + extra("TxnResponse")
           + bytes_field(3, op(rng(kv(b"/a", b"1"), kv(b"/b", b"2"))))
           + bytes_field(3, op(rng(kv(b"/c", b"3"))))
           + extra("TxnResponse"))

    assert decode(buf) == (555, {"/a": b"1", "/b": b"2", "/c": b"3"})


def test_response_ops_of_other_kinds_are_skipped() -> None:
    """ResponseOp's response_put = 2, response_delete_range = 3, response_txn = 4: not ranges,
    even when their bytes would read as one."""
    looks_like_a_range = range_response(key_value(b"/not-a-range", b"x"))
    ops = [bytes_field(number, looks_like_a_range) for number in (2, 3, 4)]
    buf = txn_response(*ops, response_op(range_response(key_value(b"/range", b"y"))), revision=3)

    assert decode(buf) == (3, {"/range": b"y"})


# ------------------------------------------------------------------------------ decoding: malformed input


def rich_response() -> tuple[bytes, list[int]]:
    """A response with a bit of everything, and the offsets where its top-level fields start."""
    fields = [
        bytes_field(1, response_header(2**36)),
        int_field(2, 1),
        bytes_field(3, response_op(range_response(
            key_value(b"/a/" + b"k" * 150, b"v" * 200, lease=2**40),
            key_value(b"/a/short", None, extra=fixed32_field(20, 1) + fixed64_field(21, 2)),
            more=True))),
        bytes_field(3, response_op(range_response(key_value(b"/b", b"x" * 20_000)), extra=bytes_field(7, b"zz"))),
        int_field(200, 2**40),
    ]
    starts = [sum(map(len, fields[:n])) for n in range(len(fields) + 1)]
    return b"".join(fields), starts


def test_the_rich_response_decodes_whole() -> None:
    buf, _ = rich_response()

    revision, into = decode(buf)

    assert revision == 2**36
    assert sorted(into) == ["/a/" + "k" * 150, "/a/short", "/b"]


def test_a_message_cut_anywhere_inside_a_field_raises_malformed_message() -> None:
    """Every cut that is not between two top-level fields leaves a field running past the end
    (or a varint unfinished); it must raise MalformedMessage, not IndexError, and not return."""
    buf, starts = rich_response()
    # every cut in the small fields, every 97th in the long values, and around each length's bytes
    cuts = sorted({cut for cut in range(1, len(buf)) if cut < 600 or cut % 97 == 0 or len(buf) - cut < 50} - set(starts))
    assert len(cuts) > 700

    wrong: list[tuple[int, str]] = []
    for cut in cuts:
        try:
            decode_txn_ranges(buf[:cut], {})
        except MalformedMessage:
            continue
        except Exception as error:  # noqa: BLE001 - collected, then reported all at once
            wrong.append((cut, repr(error)))
        else:
            wrong.append((cut, "returned"))
    assert not wrong, f"{len(wrong)} cuts of {len(cuts)} did not raise MalformedMessage: {wrong[:10]}"


def test_a_cut_between_top_level_fields_is_a_shorter_valid_message() -> None:
    """Protobuf has no end marker: such a cut cannot be seen here. The gRPC length prefix (which
    pygen.grpc checks) is what catches it."""
    buf, starts = rich_response()

    assert decode(buf[:starts[3]]) == (2**36, {"/a/" + "k" * 150: b"v" * 200, "/a/short": b""})


def test_varint_of_more_than_ten_bytes_raises_malformed_message() -> None:
    with pytest.raises(MalformedMessage):
        decode(bytes_field(1, tag(3, VARINT) + b"\xff" * 11 + b"\x01"))
    with pytest.raises(MalformedMessage):
        decode(b"\x80" * 12 + b"\x01")  # as a tag


def kv_range(kv_field: bytes) -> bytes:
    """A TxnResponse whose one RangeResponse holds ``kv_field`` (a kvs field, maybe malformed)
    and then a good key, followed by a second range: bytes a runaway read would eat."""
    good = bytes_field(2, key_value(b"/good", b"g"))
    return txn_response(response_op(kv_field + good), response_op(range_response(key_value(b"/next", b"n"))))


def at_the_end(range_payload: bytes) -> bytes:
    """A TxnResponse whose last bytes are ``range_payload``, a RangeResponse that may be malformed:
    a runaway read there runs off the end of the buffer."""
    return txn_of([(b"/first", b"1")]) + bytes_field(3, response_op(range_payload))


GARBLED = {
    "group start in the TxnResponse": txn_of([(b"/a", b"1")]) + tag(5, 3),
    "group end in the ResponseHeader": bytes_field(1, tag(3, 4)),
    "wire type 6 in a ResponseOp": txn_response(tag(1, 6) + b"\x00" * 8),
    "wire type 7 in a RangeResponse": txn_response(response_op(tag(9, 7) + b"\x00" * 8)),
    "wire type 3 in a KeyValue": kv_range(bytes_field(2, bytes_field(1, b"/k") + tag(7, 3))),
    "wire type 7 with a two-byte tag in a KeyValue": kv_range(bytes_field(2, bytes_field(1, b"/k") + tag(30, 7))),
    "KeyValue longer than its RangeResponse": kv_range(tag(2, LENGTH_DELIMITED) + varint(40) + bytes_field(1, b"/k")),
    "key longer than its KeyValue": kv_range(bytes_field(2, tag(1, LENGTH_DELIMITED) + varint(30) + b"/k")),
    "value longer than its KeyValue": kv_range(bytes_field(2, bytes_field(1, b"/k") + tag(5, LENGTH_DELIMITED)
                                                          + varint(3) + b"v")),
    "key tag as the last byte of a KeyValue": kv_range(bytes_field(2, bytes_field(5, b"v") + tag(1, LENGTH_DELIMITED))),
    "revision varint running out of its KeyValue": kv_range(bytes_field(2, bytes_field(1, b"/k") + tag(2, VARINT)
                                                                        + b"\x80")),
    "fixed64 running out of its KeyValue": kv_range(bytes_field(2, bytes_field(1, b"/k") + tag(9, FIXED64) + b"\x01")),
    "unknown field running out of its RangeResponse": kv_range(tag(15, LENGTH_DELIMITED) + varint(200) + b"x"),
    "header revision running out of the header": bytes_field(1, tag(3, VARINT) + b"\x80") + b"\x01",
    "ResponseOp longer than the message": tag(3, LENGTH_DELIMITED) + varint(10) + b"\x0a\x00",
    "kvs tag as the last byte of the message": at_the_end(tag(2, LENGTH_DELIMITED)),
    "KeyValue running off the message": at_the_end(tag(2, LENGTH_DELIMITED) + varint(9) + bytes_field(1, b"/k")),
    "key tag as the last byte of the message": at_the_end(bytes_field(2, bytes_field(5, b"v") + tag(1, LENGTH_DELIMITED))),
    "revision varint running off the message": at_the_end(bytes_field(2, bytes_field(1, b"/k") + tag(3, VARINT) + b"\xff")),
    "key length running off the message": at_the_end(bytes_field(2, tag(1, LENGTH_DELIMITED) + b"\x80")),
}


@pytest.mark.parametrize("buf", GARBLED.values(), ids=GARBLED.keys())
def test_garbled_message_raises_malformed_message(buf: bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode_txn_ranges(buf, {})


# ------------------------------------------------------------------------------ encoding


def range_requests(buf: bytes) -> list[dict[int, int | bytes]]:
    """The RangeRequests of a TxnRequest (field number -> value), checking the nesting: only
    success = 2 at the top, only request_range = 1 in each RequestOp."""
    requests = []
    for number, op in fields_of(buf):
        assert number == 2 and isinstance(op, bytes), "TxnRequest: only success ops"
        [(op_number, request)] = fields_of(op)
        assert op_number == 1 and isinstance(request, bytes), "RequestOp: only request_range"
        request_fields = fields_of(request)
        as_dict = dict(request_fields)
        assert len(as_dict) == len(request_fields), f"a field sent twice: {request_fields}"
        requests.append(as_dict)
    return requests


def test_txn_of_ranges_reads_each_range_in_order_at_the_latest_revision() -> None:
    long_key, long_end = b"/" + b"p" * 300, b"/" + b"p" * 299 + b"q"  # two-byte lengths
    buf = txn_of_ranges([(b"/services/", b"/services0"), (b"/config", b""), (long_key, long_end)])

    assert range_requests(buf) == [
        {1: b"/services/", 2: b"/services0"},
        {1: b"/config", 2: b""},
        {1: long_key, 2: long_end},
    ]  # and no revision = 4: the latest


@pytest.mark.parametrize("revision", [1, 127, 128, 2**35 + 7, 2**63 - 1])
def test_txn_of_ranges_pins_every_range_to_the_revision_given(revision: int) -> None:
    buf = txn_of_ranges([(b"/a", b"/b"), (b"\x00", b"\x00")], revision)

    assert range_requests(buf) == [{1: b"/a", 2: b"/b", 4: revision}, {1: b"\x00", 2: b"\x00", 4: revision}]


def test_txn_of_no_ranges_is_the_empty_message() -> None:
    assert txn_of_ranges([]) == b""


def test_txn_method_is_etcds_kv_txn() -> None:
    assert TXN_METHOD == "/etcdserverpb.KV/Txn"
