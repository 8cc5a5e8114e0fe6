"""Property tests: no input makes decode fail with anything but BadRequest or
UnsupportedMediaType, and every message in the tables decodes to JSON-serializable data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiserver.protobuf import MAGIC, decode
from apiserver.protobuf.fields import T
from apiserver.protobuf.schema import KINDS, MESSAGES, Field
from kube.errors import BadRequest, UnsupportedMediaType
from tests.apiserver.protobuf.wirebuild import (
    LEN,
    VARINT,
    data,
    envelope,
    key,
    msg,
    num,
    packed,
    text,
    varint,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KIND_LIST = [*sorted(KINDS), ("v1", "DeleteOptions")]


def _decodes_or_refuses(raw: bytes) -> None:
    try:
        result = decode(raw)
    except (BadRequest, UnsupportedMediaType):
        return
    orjson.dumps(result)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_after_the_magic_only_raise_status_errors(tail: bytes) -> None:
    _decodes_or_refuses(MAGIC + tail)


@FUZZ
@given(st.sampled_from(KIND_LIST), st.binary(max_size=300))
def test_random_payloads_of_every_kind_only_raise_status_errors(kind: tuple[str, str], raw: bytes) -> None:
    _decodes_or_refuses(envelope(*kind, raw))


# Wire-valid but meaningless: random field numbers and wire types, nested at random.
_fields = st.recursive(
    st.one_of(
        st.builds(num, st.integers(1, 20), st.integers(-(1 << 63), (1 << 64) - 1)),
        st.builds(data, st.integers(1, 20), st.binary(max_size=12)),
    ),
    lambda inner: st.builds(lambda n, parts: msg(n, *parts), st.integers(1, 20), st.lists(inner, max_size=4)),
    max_leaves=30,
)


@FUZZ
@given(st.sampled_from(KIND_LIST), st.lists(_fields, max_size=6))
def test_wire_valid_nonsense_only_raises_status_errors(kind: tuple[str, str], parts: list[bytes]) -> None:
    _decodes_or_refuses(envelope(*kind, b"".join(parts)))


# Schema-driven: a valid body for any message, built from the tables, must decode.
_QUANTITIES = ["0", "1", "500m", "1.5", "64Mi", "1Gi", "2e3", "100k"]
_text = st.text(st.characters(codec="utf-8"), max_size=8)  # UTF-8 only: no lone surrogates
Draw = Callable[[st.SearchStrategy[Any]], Any]


def _scalar(draw: Draw, field: Field) -> bytes:
    n = field.number
    if field.kind == T.STR:
        return text(n, draw(_text))
    if field.kind in (T.BYTES | T.RAW):
        return data(n, draw(st.binary(max_size=8)))
    if field.kind == T.BOOL:
        return num(n, draw(st.booleans()))
    bits = 31 if field.kind == T.I32 else 63
    return num(n, draw(st.integers(-(1 << bits), (1 << bits) - 1)))


def _special(draw: Draw, name: str) -> bytes | None:
    """Valid contents for the messages whose values the converters check."""
    if name == "Time":
        return num(1, draw(st.integers(-62135596800, 253402300799))) + num(2, draw(st.integers(0, 999_999_999)))
    if name == "Quantity":
        return text(1, draw(st.sampled_from(_QUANTITIES)))
    if name == "IntOrString":
        return num(1, draw(st.integers(0, 1))) + num(2, draw(st.integers(0, 100))) + text(3, draw(_text))
    if name == "FieldsV1":
        return data(1, orjson.dumps(draw(st.dictionaries(_text, st.just({}), max_size=3))))
    return None


def _message(draw: Draw, name: str, depth: int) -> bytes:
    special = _special(draw, name)
    if special is not None:
        return special
    if depth <= 0:
        return b""
    fields = list(MESSAGES[name].fields.values())
    chosen = draw(st.lists(st.sampled_from(fields), max_size=6)) if fields else []
    return b"".join(_field(draw, f, depth) for f in chosen)


def _field(draw: Draw, field: Field, depth: int) -> bytes:
    n = field.number
    if field.map:
        if field.kind == T.MSG:
            value = _message(draw, field.message, depth - 1)
        elif field.kind == T.STR:
            value = draw(_text).encode()
        else:
            value = draw(st.binary(max_size=8))
        return msg(n, text(1, draw(_text)), data(2, value))
    if field.kind == T.MSG:
        return msg(n, _message(draw, field.message, depth - 1))
    if field.repeated and field.kind in (T.INT | T.I32 | T.BOOL) and draw(st.booleans()):
        return packed(n, draw(st.lists(st.integers(0, 1 << 20), max_size=3)))
    return _scalar(draw, field)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KIND_LIST), st.data())
def test_every_table_entry_decodes_from_valid_bytes(kind: tuple[str, str], drawn: st.DataObject) -> None:
    api_version, kind_name = kind
    message = KINDS.get(kind, kind_name)
    raw = _message(drawn.draw, message, depth=5)
    obj = decode(envelope(api_version, kind_name, raw))
    orjson.dumps(obj)
    assert set(obj) <= {"kind", "apiVersion"} | _json_names(message)


def _json_names(message: str) -> set[str]:
    names: set[str] = set()
    for field in MESSAGES[message].fields.values():
        names |= _json_names(field.message) if field.presence == T.INLINE else {field.json}
    return names


@FUZZ
@given(st.data())
def test_a_corrupted_valid_body_only_raises_status_errors(drawn: st.DataObject) -> None:
    kind = drawn.draw(st.sampled_from(KIND_LIST))
    raw = bytearray(envelope(*kind, _message(drawn.draw, KINDS.get(kind, kind[1]), depth=3)))
    for _ in range(drawn.draw(st.integers(1, 4))):
        where = drawn.draw(st.integers(len(MAGIC), max(len(MAGIC), len(raw) - 1)))
        action = drawn.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and where < len(raw):
            raw[where] ^= drawn.draw(st.integers(1, 255))
        elif action == "cut":
            del raw[where:]
        else:
            raw[where:where] = drawn.draw(st.binary(min_size=1, max_size=3))
    _decodes_or_refuses(bytes(raw))


def test_the_helpers_write_wire_format_as_documented() -> None:
    # The generators above lean on these; a wrong helper would make the fuzzing hollow.
    assert varint(300) == b"\xac\x02"
    assert varint(-1) == b"\xff" * 9 + b"\x01"
    assert key(1, LEN) == b"\x0a" and key(2, VARINT) == b"\x10"
    assert text(1, "hi") == b"\x0a\x02hi"
