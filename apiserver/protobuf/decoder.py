"""One generic reader from wire fields to the JSON form, driven by the field tables.

The result must equal what kubectl sends as JSON for the same object, because
everything downstream (validation, defaulting, storage) only knows JSON. Three rules
make that so, each mirroring a side of kubectl's Go code:

* protobuf semantics: a repeated message field merges (its chunks concatenate), a
  repeated scalar keeps the last value, lists append, maps keep the last entry per key;
* Go's ``encoding/json``: omitempty zeros are dropped, pointers are kept, fields
  without omitempty appear even when absent (as null if they are pointers), embedded
  structs flatten (``fields.py``);
* custom marshallers: Time, IntOrString, Quantity, FieldsV1 and ExtraValue become
  strings, numbers, raw JSON or lists (``convert.py``).

A field number the tables do not know is refused rather than skipped (Go would skip
it): dropping a field the client set would silently change the object.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from typing import Any, Final

from apiserver.protobuf.convert import CONVERTERS
from apiserver.protobuf.fields import T
from apiserver.protobuf.schema import MESSAGES, Field, Message
from apiserver.protobuf.wire import Malformed, Wire, as_int32, as_int64, read_fields, read_packed

# Plain ints: comparing with Wire members costs an enum attribute lookup per field.
_VARINT: Final = int(Wire.VARINT)
_LEN: Final = int(Wire.LEN)


class UnknownField(Exception):
    """A well-formed field this server has no table entry for."""

    def __init__(self, *, message: str, number: int, path: str) -> None:
        super().__init__(f"{message} field {number}")
        self.message = message
        self.number = number
        self.path = path


def decode_message(data: bytes, *, message: str, path: str) -> Any:
    """The JSON form of ``data`` read as ``message``: a dict, or a scalar for the
    messages ``convert.py`` handles. ``path`` names it in errors (``spec.template``)."""
    schema = MESSAGES[message]
    fields = schema.fields
    out: dict[str, Any] = {}
    chunks: dict[int, list[bytes]] = {}
    try:
        for number, wire, value in read_fields(data):
            field = fields.get(number)
            if field is None:
                raise UnknownField(message=message, number=number, path=path)
            if field.single_message:
                chunks.setdefault(number, []).append(_payload(field, wire, value))
            elif field.map:
                key, item = _map_entry(field, _payload(field, wire, value), path=_join(path, field.json))
                out.setdefault(field.json, {})[key] = item
            elif field.repeated:
                items = out.setdefault(field.json, [])
                if field.kind == T.MSG:
                    item_path = f"{_join(path, field.json)}[{len(items)}]"
                    items.append(decode_message(_payload(field, wire, value), message=field.message, path=item_path))
                elif field.packable and wire == _LEN:
                    assert isinstance(value, bytes)
                    items.extend(_scalar(field, _VARINT, v) for v in read_packed(value))
                else:
                    items.append(_scalar(field, wire, value))
            else:
                out[field.json] = _scalar(field, wire, value)
    except Malformed as err:
        if err.path is None:
            err.path = path
        raise
    for number, parts in chunks.items():
        field = fields[number]
        value = decode_message(b"".join(parts), message=field.message, path=_join(path, field.json))
        if field.presence == T.INLINE:
            out.update(value)
        else:
            out[field.json] = value
    _apply_presence(out, schema=schema, merged=chunks.keys(), path=path)
    convert = CONVERTERS.get(message)
    return convert(out, path=path) if convert is not None else out


def _join(path: str, name: str) -> str:
    if not name:  # an inline struct's fields sit at its parent's path
        return path
    return f"{path}.{name}" if path else name


def _expect(field: Field, wire: int, expected: Wire) -> None:
    if wire != expected:  # the callers check the common case inline; this explains the rest
        raise Malformed(
            f"field {field.number} ({field.json or 'inline'}) arrived with wire type {Wire.label(wire)}, "
            f"but its type needs {Wire.label(expected)}"
        )


def _payload(field: Field, wire: int, value: int | bytes) -> bytes:
    if wire != _LEN:
        _expect(field, wire, Wire.LEN)
    assert isinstance(value, bytes)
    return value


def _scalar(field: Field, wire: int, value: int | bytes) -> Any:
    kind = field.kind
    if kind == T.STR:
        return _text(_payload(field, wire, value), what=f"field {field.number} ({field.json})")
    if kind == T.BYTES:
        return base64.b64encode(_payload(field, wire, value)).decode()
    if kind == T.RAW:
        return _payload(field, wire, value)
    if wire != _VARINT:
        _expect(field, wire, Wire.VARINT)
    assert isinstance(value, int)
    if kind == T.BOOL:
        return value != 0
    return as_int32(value) if kind == T.I32 else as_int64(value)


def _text(data: bytes, *, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        # Go would carry the bytes and JSON would mangle them into U+FFFD; refusing
        # tells the client instead of storing something it did not send.
        raise Malformed(f"{what} is not valid UTF-8 (byte {err.start} of the string)") from None


def _map_entry(field: Field, data: bytes, *, path: str) -> tuple[str, Any]:
    """A map entry is a tiny message {1: key, 2: value}; either may be absent."""
    key = ""
    raw: bytes | None = None
    for number, wire, value in read_fields(data):
        if number not in (1, 2) or wire != _LEN:
            raise Malformed(
                f"a map entry of field {field.number} ({field.json}) holds field {number} with wire type "
                f"{Wire.label(wire)}; entries hold only a key (1) and a value (2), both length-delimited"
            )
        assert isinstance(value, bytes)
        if number == 1:
            key = _text(value, what=f"a key of {field.json}")
        else:
            raw = value
    here = f"{path}[{key}]"
    if field.kind == T.MSG:
        return key, decode_message(raw or b"", message=field.message, path=here)
    if field.kind == T.BYTES:
        return key, base64.b64encode(raw or b"").decode()
    return key, _text(raw or b"", what=f"the value of {here}")


def _apply_presence(out: dict[str, Any], *, schema: Message, merged: Collection[int], path: str) -> None:
    for field in schema.omitempty:
        if field.json in out and _is_zero(out[field.json]):
            del out[field.json]
    for field in schema.defaults:
        if field.presence == T.INLINE:
            if field.number not in merged:
                # An embedded struct always exists in Go, so its no-omitempty fields show.
                out.update(decode_message(b"", message=field.message, path=path))
        elif field.json not in out:
            out[field.json] = None if field.presence == T.NULL else _zero(field, path=path)


def _is_zero(value: Any) -> bool:
    return value in ("", 0, False) or value == [] or value == {}


def _zero(field: Field, *, path: str) -> Any:
    if field.repeated or field.map or field.kind == T.BYTES or field.kind == T.RAW:
        return None  # Go's nil slice or map, which JSON writes as null
    if field.kind == T.MSG:
        return decode_message(b"", message=field.message, path=_join(path, field.json))
    return {T.STR: "", T.INT: 0, T.I32: 0, T.BOOL: False}[field.kind]
