"""The envelope every body comes in, and the messages JSON shows as scalars.

``runtime.Unknown`` (``k8s.io/apimachinery/pkg/runtime/generated.proto``) wraps every
body: its raw bytes hold the typed message, which carries no apiVersion/kind of its own.
Time, IntOrString, Quantity, FieldsV1 and ExtraValue are messages on the wire but a
string, number, raw JSON or list in JSON; ``convert.py`` turns them into that. Their
fields are all PTR because the converters must see what was on the wire, zero or not.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, I32, INT, MSG, PTR, RAW, REP, STR, Table

ENVELOPE: Table = {
    "Unknown": {
        1: ("typeMeta", MSG | ALWAYS, "TypeMeta"), 2: ("raw", RAW | PTR),
        3: ("contentEncoding", STR), 4: ("contentType", STR),
    },
    "TypeMeta": {1: ("apiVersion", STR), 2: ("kind", STR)},
}

SCALAR_MESSAGES: Table = {
    # meta/v1: seconds since 1970 and nanoseconds, as google.protobuf.Timestamp.
    "Time": {1: ("seconds", INT | PTR), 2: ("nanos", I32 | PTR)},
    # meta/v1: the field set of a managedFields entry, as JSON bytes.
    "FieldsV1": {1: ("raw", RAW | PTR)},
    # util/intstr: type 0 is intVal, 1 is strVal.
    "IntOrString": {1: ("type", INT | PTR), 2: ("intVal", I32 | PTR), 3: ("strVal", STR | PTR)},
    # api/resource: the quantity's text.
    "Quantity": {1: ("string", STR | PTR)},
    # authentication/v1, authorization/v1 and certificates/v1 each define this same
    # wrapper, so a map can hold lists; in JSON it is the bare list.
    "ExtraValue": {1: ("items", STR | REP | PTR)},
}
