"""HPACK for the etcd HTTP/2 client: the examples of RFC 7541 Appendix C, and errors."""

from __future__ import annotations

import pytest

from apiserver.storage import etcd_hpack
from apiserver.storage.etcd_hpack import Decoder, HpackError


def test_huffman_strings_from_the_rfc() -> None:
    assert etcd_hpack.huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")) == b"www.example.com"
    assert etcd_hpack.huffman_decode(bytes.fromhex("a8eb10649cbf")) == b"no-cache"
    assert etcd_hpack.huffman_decode(bytes.fromhex("25a849e95ba97d7f")) == b"custom-key"


def test_requests_with_huffman_and_the_dynamic_table_rfc_c4() -> None:
    decoder = Decoder()
    blocks = [
        "828684418cf1e3c2e5f23a6ba0ab90f4ff",
        "828684be5886a8eb10649cbf",
        "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
    ]
    decoded = [decoder.decode(bytes.fromhex(b)) for b in blocks]
    base = [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":path", b"/"),
        (b":authority", b"www.example.com"),
    ]
    assert decoded[0] == base
    assert decoded[1] == [*base, (b"cache-control", b"no-cache")]
    assert decoded[2] == [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":path", b"/index.html"),
        (b":authority", b"www.example.com"),
        (b"custom-key", b"custom-value"),
    ]
    assert decoder._size == 164  # as the RFC's table state after C.4.3


def test_responses_with_eviction_rfc_c6() -> None:
    decoder = Decoder(max_table_size=256)
    blocks = [
        "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff"
        "6e919d29ad171863c78f0b97c8e9ae82ae43d3",
        "4883640effc1c0bf",
        "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b3"
        "35dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
    ]
    decoded = [decoder.decode(bytes.fromhex(b)) for b in blocks]
    assert decoded[1] == [
        (b":status", b"307"),
        (b"cache-control", b"private"),
        (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT"),
        (b"location", b"https://www.example.com"),
    ]
    assert decoded[2][-1] == (b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
    assert decoder._size == 215


def test_a_repeated_block_is_remembered_only_while_the_table_is_unchanged() -> None:
    decoder = Decoder()
    decoder.decode(etcd_hpack.encode([]) + b"\x40\x01a\x01b")  # adds a: b at index 62
    assert decoder.decode(b"\xbe") == [(b"a", b"b")]
    decoder.decode(b"\x40\x01c\x01d")  # now c: d is 62
    assert decoder.decode(b"\xbe") == [(b"c", b"d")]


def test_encode_round_trips_through_the_decoder() -> None:
    headers = [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        (b":path", b"/etcdserverpb.KV/Txn"),
        (b":authority", b"127.0.0.1:2379"),
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
        (b"grpc-timeout", b"30000m"),
        (b"x-long", b"v" * 300),
    ]
    assert Decoder().decode(etcd_hpack.encode(headers)) == headers


@pytest.mark.parametrize(
    "block",
    [
        b"\xff\xff\xff\xff\xff\xff\x7f",  # an index past any table
        b"\xbe",  # an empty dynamic table
        b"\x00\x85abc",  # a string longer than the block
        b"\x00\x81\x00\x81\x00",  # a Huffman string with bad padding
        b"\x3f\xe2\x1f",  # a table size above what we advertised
    ],
)
def test_bad_blocks_are_errors(block: bytes) -> None:
    with pytest.raises(HpackError):
        Decoder().decode(block)
