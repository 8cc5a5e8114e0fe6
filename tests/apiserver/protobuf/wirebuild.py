"""A tiny protobuf writer for tests: builds bodies field by field, as kubectl would.

Written independently of the decoder (no shared code) so that a test of the decoder
is not a test of the decoder against itself.
"""

from __future__ import annotations

MAGIC = b"k8s\x00"
VARINT, LEN = 0, 2


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative numbers go out as 10-byte two's complement, as in Go
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def num(number: int, value: int | bool) -> bytes:
    """A varint field: ints, and bools as 0/1."""
    return key(number, VARINT) + varint(int(value))


def data(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return key(number, LEN) + varint(len(payload)) + payload


def text(number: int, value: str) -> bytes:
    return data(number, value.encode())


def msg(number: int, *fields: bytes) -> bytes:
    return data(number, b"".join(fields))


def entry(number: int, map_key: str, value: str | bytes) -> bytes:
    """One map entry: {1: key, 2: value}; a bytes value is a nested message or raw bytes."""
    encoded = value.encode() if isinstance(value, str) else value
    return msg(number, text(1, map_key), data(2, encoded))


def packed(number: int, values: list[int]) -> bytes:
    return data(number, b"".join(varint(v) for v in values))


def envelope(api_version: str, kind: str, raw: bytes, *, content_type: str = "", content_encoding: str = "") -> bytes:
    """The runtime.Unknown wrapper, written as Go writes it (every field, even empty)."""
    return MAGIC + b"".join([
        msg(1, text(1, api_version), text(2, kind)),
        data(2, raw),
        text(3, content_encoding),
        text(4, content_type),
    ])


def body(api_version: str, kind: str, *fields: bytes) -> bytes:
    return envelope(api_version, kind, b"".join(fields))


def empty_meta(number: int = 1, *fields: bytes) -> bytes:
    """ObjectMeta as Go writes a fresh one: empty strings, zero generation, zero time."""
    return msg(
        number, text(1, ""), text(2, ""), text(3, ""), text(4, ""), text(5, ""), text(6, ""), num(7, 0),
        data(8, b""), *fields,
    )
