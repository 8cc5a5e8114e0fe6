"""Field paths and field sets: the vocabulary of server-side apply's ownership records.

Server-side apply remembers, per manager, *which fields* it set. Kubernetes writes these
sets into ``metadata.managedFields[*].fieldsV1`` in a compact trie form (structured-merge-
diff's "FieldsV1") that kubectl and every client library read back:

    {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers":
        {"k:{\\"name\\":\\"c\\"}": {".": {}, "f:image": {}}}}}}}

A path is a tuple of *path elements*, each kept in exactly that serialized form:
``f:<field>`` (an object key), ``k:<json>`` (the item of an associative list, by its key
fields, JSON with sorted keys), ``v:<json>`` (the item of a set, by value) and ``i:<n>``
(a list index; never produced for associative lists). Keeping the serialized string as
the element makes sets plain Python ``set``s of tuples, which is all the set algebra
apply needs (union, difference, intersection), and makes encoding a trie walk.

``describe`` prints a path as conflicts report it: ``.spec.template.spec.containers[name="c"].image``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from kube.patch._gofmt import go_json, go_quote

PathElement = str
Path = tuple[PathElement, ...]
FieldSet = set[Path]


def field(name: str) -> PathElement:
    return "f:" + name


# Element texts by content: the same few keys (``{"name":"app"}``, a port) recur in
# every object, and Go-compatible JSON is a slow Python encoder pass. Only strings,
# integers, booleans and null are remembered, with their type in the cache key
# (``True == 1`` and hash alike yet encode differently; so do ``0.0`` and ``-0.0``).
_KEYS: dict[tuple[Any, ...], PathElement] = {}
_CACHE_SIZE = 4096
_CACHED_TYPES = frozenset({str, int, bool, type(None)})


def key(fields: dict[str, Any]) -> PathElement:
    cache_key = tuple((name, v.__class__, v) for name, v in fields.items())
    if not all(t in _CACHED_TYPES for _, t, _ in cache_key):
        return "k:" + go_json(fields)
    found = _KEYS.get(cache_key)
    if found is None:
        if len(_KEYS) >= _CACHE_SIZE:
            _KEYS.clear()
        found = _KEYS[cache_key] = "k:" + go_json(fields)
    return found


def value(item: Any) -> PathElement:
    return "v:" + go_json(item)


def index(position: int) -> PathElement:
    return f"i:{position}"


def field_name(element: PathElement) -> str | None:
    """The object key of an ``f:`` element; None for list-item elements."""
    return element[2:] if element.startswith("f:") else None


# --- printing -------------------------------------------------------------------------

def describe(path: Path) -> str:
    """The path as structured-merge-diff prints it in conflict messages."""
    out = []
    for element in path:
        kind, body = element[:2], element[2:]
        if kind == "f:":
            out.append("." + body)
        elif kind == "k:":
            fields = json.loads(body)
            out.append("[" + ",".join(f"{k}={_show(v)}" for k, v in fields.items()) + "]")
        elif kind == "v:":
            out.append(f"[={_show(json.loads(body))}]")
        else:
            out.append(f"[{body}]")
    return "".join(out)


def _show(item: Any) -> str:
    """``value.ToString``: strings quoted, lists in brackets, maps as k=v runs."""
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return go_quote(item)
    if isinstance(item, float) and item.is_integer():
        return str(int(item))
    if isinstance(item, list):
        return "[" + ",".join(_show(v) for v in item) + "]"
    if isinstance(item, dict):
        return "".join(f"{k}={_show(v)}" for k, v in item.items())
    return str(item)


# --- ordering -------------------------------------------------------------------------

@functools.lru_cache(maxsize=_CACHE_SIZE)
def sort_key(element: PathElement) -> tuple[Any, ...]:
    """structured-merge-diff's element order: fields < keys < values < indexes.
    Remembered (elements recur), so the result is immutable: tuples all the way down,
    which order exactly as the lists they stand for."""
    kind, body = element[:2], element[2:]
    if kind == "f:":
        return (0, body)
    if kind == "k:":
        return (1, tuple((k, _value_key(v)) for k, v in json.loads(body).items()))
    if kind == "v:":
        return (2, _value_key(json.loads(body)))
    return (3, int(body))


def _value_key(item: Any) -> tuple[Any, ...]:
    # value.Compare: numbers < strings < booleans < lists < maps < null.
    if isinstance(item, bool):
        return (2, item)
    if isinstance(item, int | float):
        return (0, float(item))
    if isinstance(item, str):
        return (1, item)
    if isinstance(item, list):
        return (3, tuple(_value_key(v) for v in item))
    if isinstance(item, dict):
        return (4, tuple((k, _value_key(item[k])) for k in sorted(item)))
    return (5,)


def path_sort_key(path: Path) -> list[tuple[Any, ...]]:
    return [sort_key(e) for e in path]


def sorted_paths(paths: Iterable[Path]) -> list[Path]:
    return sorted(paths, key=path_sort_key)


# --- tries and FieldsV1 ----------------------------------------------------------------

class Trie:
    """A field set as a tree: ``member`` marks paths in the set, ``children`` go deeper."""

    __slots__ = ("children", "member")

    def __init__(self) -> None:
        self.member = False
        self.children: dict[PathElement, Trie] = {}

    @classmethod
    def of(cls, paths: Iterable[Path]) -> Trie:
        root = cls()
        for path in paths:
            node = root
            for element in path:
                node = node.children.setdefault(element, cls())
            node.member = True
        return root


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """Encode a field set as the ``fieldsV1`` object of a managedFields entry."""
    return _emit(Trie.of(p for p in paths if p))


def _emit(node: Trie) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element in sorted(node.children, key=sort_key):
        child = node.children[element]
        body = _emit(child)
        if child.member and body:
            body = {".": {}, **body}
        out[element] = body
    return out


def from_fields_v1(fields: Any) -> FieldSet:
    """Decode a ``fieldsV1`` object; ValueError when it is not one."""
    out: FieldSet = set()
    _read(fields, (), out)
    return out


def _read(fields: Any, prefix: Path, out: FieldSet) -> None:
    if not isinstance(fields, dict):
        raise ValueError(f"expected an object at {describe(prefix) or 'the top'}")
    for element, body in fields.items():
        if element == ".":
            out.add(prefix)
            continue
        if element[:2] not in ("f:", "k:", "v:", "i:"):
            raise ValueError(f"unknown path element type in {element!r}")
        if element[:2] in ("k:", "v:"):
            json.loads(element[2:])  # raises ValueError on a malformed key
        path = (*prefix, element)
        if body == {}:
            out.add(path)
        else:
            _read(body, path, out)


def without_prefix(paths: Iterable[Path], prefix: Path) -> FieldSet:
    """The paths that are neither ``prefix`` nor below it (an exclusion filter)."""
    size = len(prefix)
    return {p for p in paths if p[:size] != prefix}
