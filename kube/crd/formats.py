"""The string and number ``format``s Kubernetes checks in custom resources.

apiextensions accepts a fixed list of formats (kube-openapi's ``strfmt`` registry);
a value of a known format that does not parse is refused with
``<path> in body must be of type <format>: "<value>"``. Formats outside the list are
accepted in a CRD and ignored on values, as in Kubernetes.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import uuid
from collections.abc import Callable
from datetime import datetime

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION = re.compile(r"^(-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+|0)$")
_HOSTNAME = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?))*\.?$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$")
_HEXCOLOR = re.compile(r"^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
_RGBCOLOR = re.compile(r"^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$")
_BSON = re.compile(r"^[0-9a-fA-F]{24}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")


def _datetime(text: str) -> bool:
    if _RFC3339.match(text) is None:
        return False
    try:
        datetime.fromisoformat(text.replace("z", "Z").replace("t", "T").replace(" ", "T"))
    except ValueError:
        return False
    return True


def _date(text: str) -> bool:
    if _DATE.match(text) is None:
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _byte(text: str) -> bool:
    try:
        base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _ip(version: int) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            return ipaddress.ip_address(text).version == version
        except ValueError:
            return False

    return check


def _cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def _uuid(version: int | None) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            parsed = uuid.UUID(text)
        except ValueError:
            return False
        return version is None or parsed.version == version

    return check


STRING_FORMATS: dict[str, Callable[[str], bool]] = {
    "date-time": _datetime,
    "datetime": _datetime,
    "date": _date,
    "duration": lambda t: _DURATION.match(t) is not None,
    "byte": _byte,
    "password": lambda t: True,
    "hostname": lambda t: len(t) <= 255 and _HOSTNAME.match(t) is not None,
    "email": lambda t: _EMAIL.match(t) is not None,
    "ipv4": _ip(4),
    "ipv6": _ip(6),
    "cidr": _cidr,
    "mac": lambda t: _MAC.match(t) is not None,
    "uuid": _uuid(None),
    "uuid3": _uuid(3),
    "uuid4": _uuid(4),
    "uuid5": _uuid(5),
    "uri": lambda t: _URI.match(t) is not None,
    "hexcolor": lambda t: _HEXCOLOR.match(t) is not None,
    "rgbcolor": lambda t: _RGBCOLOR.match(t) is not None,
    "bsonobjectid": lambda t: _BSON.match(t) is not None,
}

INT_RANGES: dict[str, tuple[int, int]] = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

KNOWN_FORMATS = frozenset(
    {*STRING_FORMATS, "int32", "int64", "float", "double", "isbn", "isbn10", "isbn13", "creditcard", "ssn",
     "int-or-string", "quantity"}
)  # fmt: skip
