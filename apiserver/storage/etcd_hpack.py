"""HPACK (RFC 7541), the header compression of HTTP/2, as far as ``etcd_h2`` needs it.

Requests: a header block built once per method, with every field a literal that is not
indexed, so the encoder keeps no state and a call pays nothing for its headers.

Responses: a full decoder, because etcd's gRPC server (Go) indexes what it sends in its
dynamic table and Huffman-codes literals that get shorter. After the first few answers a
response's header blocks are a handful of indexed fields, the same bytes every time, so
blocks that leave the table alone are remembered by their bytes until the table changes.

The Huffman code is canonical (RFC 7541 Appendix B): codes follow from the bit lengths
of the 257 symbols alone, which is all this module stores.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache


class HpackError(Exception):
    """A header block we cannot decode: the connection is no longer usable."""


# RFC 7541 Appendix A.
STATIC_TABLE: tuple[tuple[bytes, bytes], ...] = (
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    *(
        (name, b"gzip, deflate" if name == b"accept-encoding" else b"")
        for name in (
            b"accept-charset accept-encoding accept-language accept-ranges accept "
            b"access-control-allow-origin age allow authorization cache-control "
            b"content-disposition content-encoding content-language content-length "
            b"content-location content-range content-type cookie date etag expect expires "
            b"from host if-match if-modified-since if-none-match if-range "
            b"if-unmodified-since last-modified link location max-forwards "
            b"proxy-authenticate proxy-authorization range referer refresh retry-after "
            b"server set-cookie strict-transport-security transfer-encoding user-agent "
            b"vary via www-authenticate"
        ).split()
    ),
)
_STATIC_INDEX = {entry: i for i, entry in reversed(list(enumerate(STATIC_TABLE, 1)))}
_STATIC_NAME_INDEX = {name: i for i, (name, _) in reversed(list(enumerate(STATIC_TABLE, 1)))}

# Bit lengths of the Huffman codes of symbols 0..255 and EOS (256), RFC 7541 Appendix B.
_HUFFMAN_LENGTHS = bytes(
    [13, 23] + [28] * 7 + [24, 30, 28, 28, 30] + [28] * 8 + [30] + [28] * 9
    + [6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5] + [6] * 7
    + [7, 8, 15, 6, 12, 10, 13, 6] + [7] * 22 + [8, 7, 8, 13, 19, 13, 14, 6, 15]
    + [5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7]
    + [15, 11, 14, 13, 28]
    + [20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23]
    + [24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21]
    + [23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22]
    + [23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25]
    + [19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21]
    + [22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27]
    + [27, 28, 27, 27, 27, 27, 27, 26, 30]
)  # fmt: skip
_EOS = 256


def _canonical_codes() -> dict[tuple[int, int], int]:
    """(bit length, code) → symbol."""
    order = sorted(range(257), key=lambda s: (_HUFFMAN_LENGTHS[s], s))
    decode: dict[tuple[int, int], int] = {}
    code, length = 0, _HUFFMAN_LENGTHS[order[0]]
    for i, symbol in enumerate(order):
        if i:
            code = (code + 1) << (_HUFFMAN_LENGTHS[symbol] - length)
            length = _HUFFMAN_LENGTHS[symbol]
        decode[(length, code)] = symbol
    return decode


_HUFFMAN_DECODE = _canonical_codes()


@lru_cache(maxsize=512)
def huffman_decode(data: bytes) -> bytes:
    """Bit by bit: slow, but each distinct string is decoded once (cached), and after
    warm-up etcd sends indexed fields instead of strings."""
    out = bytearray()
    code = length = 0
    for byte in data:
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            length += 1
            symbol = _HUFFMAN_DECODE.get((length, code))
            if symbol is not None:
                if symbol == _EOS:
                    raise HpackError("Huffman string contains EOS")
                out.append(symbol)
                code = length = 0
            elif length > 30:
                raise HpackError("invalid Huffman code")
    # Padding: fewer than 8 bits, all ones (the prefix of EOS).
    if length > 7 or code != (1 << length) - 1:
        raise HpackError("invalid Huffman padding")
    return bytes(out)


def _integer(data: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    mask = (1 << prefix_bits) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise HpackError("truncated or oversized integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    huffman = data[pos] & 0x80
    length, pos = _integer(data, pos, 7)
    end = pos + length
    if end > len(data):
        raise HpackError("truncated string")
    raw = data[pos:end]
    return (huffman_decode(raw) if huffman else raw), end


class Decoder:
    """One per connection: the dynamic table is connection state."""

    def __init__(self, *, max_table_size: int = 4096) -> None:
        self._limit = max_table_size  # what we advertised (SETTINGS_HEADER_TABLE_SIZE)
        self._max = max_table_size
        self._size = 0
        self._table: deque[tuple[bytes, bytes]] = deque()
        self._memo: dict[bytes, list[tuple[bytes, bytes]]] = {}

    def decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        """The fields of a header block; the caller must not change the list."""
        known = self._memo.get(block)
        if known is not None:
            return known
        headers, changed = self._decode(block)
        if changed:
            self._memo.clear()
        elif len(self._memo) < 256:
            self._memo[block] = headers
        return headers

    def _decode(self, data: bytes) -> tuple[list[tuple[bytes, bytes]], bool]:
        headers: list[tuple[bytes, bytes]] = []
        changed = False
        pos, end = 0, len(data)
        while pos < end:
            first = data[pos]
            if first & 0x80:  # indexed field
                index, pos = _integer(data, pos, 7)
                headers.append(self._entry(index))
                continue
            if first & 0x40:  # literal, added to the table
                index, pos = _integer(data, pos, 6)
                indexed = True
            elif first & 0x20:  # dynamic table size update
                size, pos = _integer(data, pos, 5)
                if size > self._limit:
                    raise HpackError(f"table size {size} above the advertised {self._limit}")
                self._max = size
                self._evict(0)
                changed = True
                continue
            else:  # literal not indexed (0000) or never indexed (0001)
                index, pos = _integer(data, pos, 4)
                indexed = False
            if index:
                name = self._entry(index)[0]
            else:
                name, pos = _string(data, pos)
            value, pos = _string(data, pos)
            headers.append((name, value))
            if indexed:
                self._add(name, value)
                changed = True
        return headers, changed

    def _entry(self, index: int) -> tuple[bytes, bytes]:
        if 0 < index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        dynamic = index - len(STATIC_TABLE) - 1
        if 0 <= dynamic < len(self._table):
            return self._table[dynamic]
        raise HpackError(f"header table index {index} out of range")

    def _add(self, name: bytes, value: bytes) -> None:
        size = 32 + len(name) + len(value)
        if size > self._max:
            self._table.clear()
            self._size = 0
            return
        self._evict(size)
        self._table.appendleft((name, value))
        self._size += size

    def _evict(self, room: int) -> None:
        while self._table and self._size + room > self._max:
            name, value = self._table.pop()
            self._size -= 32 + len(name) + len(value)


def _encode_integer(value: int, prefix_bits: int, first: int) -> bytes:
    mask = (1 << prefix_bits) - 1
    if value < mask:
        return bytes((first | value,))
    out = bytearray((first | mask,))
    value -= mask
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode(headers: list[tuple[bytes, bytes]]) -> bytes:
    """A stateless header block: static-table hits are indexed, the rest are literals
    that are not indexed, with their names indexed where the static table has them."""
    out = bytearray()
    for name, value in headers:
        full = _STATIC_INDEX.get((name, value))
        if full is not None:
            out += _encode_integer(full, 7, 0x80)
            continue
        name_index = _STATIC_NAME_INDEX.get(name, 0)
        out += _encode_integer(name_index, 4, 0x00)
        if not name_index:
            out += _encode_integer(len(name), 7, 0x00) + name
        out += _encode_integer(len(value), 7, 0x00) + value
    return bytes(out)
