"""Typed query parameters, refused with kube-apiserver's wording when malformed.

Shared by the verb endpoints (list, watch, delete options) and the subresources that
read their own parameters (``pods/log``), so a boolean or an integer parses the same
way on every path. Booleans take Go's ``strconv.ParseBool`` spellings; an empty value
is false, as Kubernetes' query decoder treats it.
"""

from __future__ import annotations

from kube.errors import BadRequest

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False", ""})


def query_bool(query: dict[str, str], name: str) -> bool | None:
    """The parameter as a boolean; None when absent."""
    value = query.get(name)
    if value is None:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRequest(f'invalid value for query parameter {name}: "{value}" is not a boolean')


def query_int(query: dict[str, str], name: str) -> int | None:
    """The parameter as an integer; None when absent or empty."""
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f'invalid value for query parameter {name}: "{value}" is not an integer') from None
