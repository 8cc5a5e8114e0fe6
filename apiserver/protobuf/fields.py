"""The vocabulary of the field tables: what a field carries and how its JSON form shows it.

A protobuf body only says "field 3 is a varint"; turning it into the JSON kubectl would
have sent needs two more facts per field, both from Kubernetes' Go types: the JSON name
and how Go's ``encoding/json`` treats an empty value. kubectl's Go marshaller writes
every non-pointer scalar, even ``""`` and ``0``, so the decoder must drop those where the
Go field is ``omitempty`` and keep them where it is a pointer (``replicas: 0`` is a
real choice) or has no ``omitempty`` (``containerPort: 0``). Absent fields matter too:
Go writes ``"selector": null`` for a nil pointer without omitempty.

Each table row is ``number: (json name, flags[, nested message])``, e.g.
``3: ("containerPort", I32 | ALWAYS)`` or ``2: ("selector", MSG | PTR, "LabelSelector")``.
"""

from __future__ import annotations

from enum import IntFlag, auto
from typing import TypeAlias


class T(IntFlag):
    """One field's kind (exactly one of the first seven), shape and JSON presence."""

    # What the wire carries. RAW is bytes kept as bytes for the converters
    # (runtime.Unknown's payload, managedFields' JSON); BYTES shows as base64 in JSON.
    STR = auto()
    BYTES = auto()
    RAW = auto()
    INT = auto()  # int64: two's complement over 64 bits
    I32 = auto()  # int32: Go keeps only the low 32 bits of the varint
    BOOL = auto()
    MSG = auto()
    # Shape: a list, or a map<string, value> (wire: repeated entries {1: key, 2: value}).
    REP = auto()
    MAP = auto()
    # JSON presence. Without one of these a field is Go ``omitempty`` non-pointer: a zero
    # value is left out. PTR: a Go pointer, shown whenever it is on the wire, even zero.
    # NULL: a pointer without omitempty, also shown as null when absent. ALWAYS: no
    # omitempty (or a struct, which Go always writes): shown even when absent, as its
    # zero value (null for lists, maps and times). INLINE: an embedded Go struct whose
    # fields JSON flattens into the parent while protobuf nests them.
    PTR = auto()
    NULL = auto()
    ALWAYS = auto()
    INLINE = auto()


VALUE_KINDS = T.STR | T.BYTES | T.RAW | T.INT | T.I32 | T.BOOL | T.MSG
PRESENCE = T.PTR | T.NULL | T.ALWAYS | T.INLINE

STR, BYTES, RAW, INT, I32, BOOL, MSG = T.STR, T.BYTES, T.RAW, T.INT, T.I32, T.BOOL, T.MSG
REP, MAP = T.REP, T.MAP
PTR, NULL, ALWAYS, INLINE = T.PTR, T.NULL, T.ALWAYS, T.INLINE

Entry: TypeAlias = tuple[str, T] | tuple[str, T, str]
"""``(json name, flags)`` or, for messages and maps of messages, ``(json name, flags, message)``."""

Table: TypeAlias = dict[str, dict[int, Entry]]
"""Message name → field number → entry."""
