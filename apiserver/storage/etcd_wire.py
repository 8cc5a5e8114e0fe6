"""The hot etcd requests, encoded straight to protobuf wire bytes.

Every create, update, delete and get is one of three small requests: a compare-and-swap
Txn (put or delete), or a Range of one key. Building them as nested protobuf messages
(TxnRequest → Compare, RequestOp → PutRequest, ...) and serializing costs about twice
what concatenating the same bytes does, on the API server's one event-loop thread, per
write. The layout is fixed by etcd's ``rpc.proto`` and the output is byte-for-byte what
``SerializeToString`` produces (the tests compare the two), so etcd sees no difference.
Everything else (paged lists, watches, compaction) still builds messages: rare, or not
worth it.

Field numbers (etcdserverpb): TxnRequest compare=1 success=2 failure=3; Compare
target=2 (MOD=2) key=3 mod_revision=6, result EQUAL=0 is the default so it is omitted;
RequestOp request_range=1 request_put=2 request_delete_range=3; PutRequest key=1
value=2; DeleteRangeRequest and RangeRequest key=1. ``mod_revision`` sits in a oneof,
so protobuf writes it even when it is 0 (a create's "key absent" check), and so do we.
"""

from __future__ import annotations

_SMALL = tuple(bytes((n,)) for n in range(0x80))


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _SMALL[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag byte, length, payload."""
    return tag + _varint(len(payload)) + payload


def _bytes(tag: bytes, payload: bytes) -> bytes:
    """A proto3 ``bytes`` field, which is left out when empty."""
    return tag + _varint(len(payload)) + payload if payload else b""


def range_key(key: bytes) -> bytes:
    """RangeRequest(key=key): the current value of one key."""
    return _bytes(b"\x0a", key)


def cas_put(*, key: bytes, value: bytes, expected: int) -> bytes:
    """Txn(If mod_revision(key) == expected, Then Put(key, value), Else Range(key))."""
    put = _bytes(b"\x0a", key) + _bytes(b"\x12", value)
    return _cas(key=key, expected=expected, then=b"\x12" + _varint(len(put)) + put)


def cas_delete(*, key: bytes, expected: int) -> bytes:
    """Txn(If mod_revision(key) == expected, Then DeleteRange(key), Else Range(key))."""
    return _cas(key=key, expected=expected, then=_field(b"\x1a", _bytes(b"\x0a", key)))


def _cas(*, key: bytes, expected: int, then: bytes) -> bytes:
    compare = b"\x10\x02" + _bytes(b"\x1a", key) + b"\x30" + _varint(expected)
    otherwise = _field(b"\x0a", _bytes(b"\x0a", key))
    # One concatenation of the whole, rather than one per nesting level.
    return b"".join(
        (
            b"\x0a", _varint(len(compare)), compare,
            b"\x12", _varint(len(then)), then,
            b"\x1a", _varint(len(otherwise)), otherwise,
        )
    )  # fmt: skip
