"""The protobuf wire format, read by hand.

A body is a sequence of (key, value) pairs: the key is a varint holding the field number
and a wire type; the value is a varint, 8 or 4 little-endian bytes, or a varint length
followed by that many bytes (strings, bytes, nested messages, packed lists). That is the
whole format, so a short reader is clearer than driving ``google.protobuf`` internals
without the generated classes, and it fails with messages we choose.

The limits follow Go's generated ``Unmarshal`` code, which is what the real API server
runs: a varint has at most 10 bytes, field numbers are positive, groups are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import IntEnum
from typing import Final

_MAX_FIELD_NUMBER: Final = (1 << 29) - 1
_UINT64: Final = (1 << 64) - 1


class Wire(IntEnum):
    VARINT = 0
    FIXED64 = 1
    LEN = 2
    START_GROUP = 3
    END_GROUP = 4
    FIXED32 = 5

    @classmethod
    def label(cls, wire_type: int) -> str:
        return f"{wire_type} ({cls(wire_type).name.lower().replace('_', ' ').replace('len', 'length-delimited')})"


class Malformed(ValueError):
    """Bytes that are not a valid message. ``path`` is the JSON path of the message being
    read when it is known, filled in by the decoder as the error passes outward."""

    def __init__(self, detail: str, *, path: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.path = path


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The unsigned 64-bit varint at ``pos`` and the position after it."""
    if pos < len(data) and data[pos] < 0x80:
        return data[pos], pos + 1  # most keys and lengths fit one byte
    result = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise Malformed(f"the data ends inside a varint at byte {pos}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            # Bits past 64 in a 10th byte are dropped, as Go's uint64 shift drops them.
            return result & _UINT64, pos
    raise Malformed(f"a varint longer than 10 bytes ends at byte {pos}")


def read_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Each field as (number, wire type, value): an int for numeric wire types, the
    payload bytes for length-delimited ones. Wire types are plain ints (compare them
    with ``Wire``): building an enum per field would double the decoding time."""
    pos, end = 0, len(data)
    while pos < end:
        start = pos
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if not 0 < number <= _MAX_FIELD_NUMBER:
            raise Malformed(f"invalid field number {number} at byte {start}")
        value: int | bytes
        if wire_type == Wire.VARINT:
            value, pos = read_varint(data, pos)
        elif wire_type == Wire.LEN:
            length, pos = read_varint(data, pos)
            if length > end - pos:
                raise Malformed(
                    f"field {number} at byte {start} declares {length} bytes but only {end - pos} remain"
                )
            value, pos = data[pos : pos + length], pos + length
        elif wire_type in (Wire.FIXED64, Wire.FIXED32):
            size = 8 if wire_type == Wire.FIXED64 else 4
            if size > end - pos:
                raise Malformed(f"field {number} at byte {start} needs {size} bytes but only {end - pos} remain")
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        else:
            # Groups (3, 4) are proto1 leftovers no Kubernetes type uses; 6 and 7 do not exist.
            raise Malformed(f"field {number} at byte {start} has wire type {wire_type}, which is not supported")
        yield number, wire_type, value


def read_packed(data: bytes) -> Iterator[int]:
    """The varints of a packed repeated field."""
    pos = 0
    while pos < len(data):
        value, pos = read_varint(data, pos)
        yield value


def as_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def as_int32(value: int) -> int:
    # Go's generated code accumulates an int32 field in an int32: only the low bits stay.
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value
