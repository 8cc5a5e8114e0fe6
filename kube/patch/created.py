"""The fields a newly created object sets, straight into the ``fieldsV1`` form.

Every create records one managedFields entry: the creator owns every field it set.
The general bookkeeping gets there in three steps — ``typed.compare({}, obj)`` builds
a set of path tuples, the ignored and stripped paths are subtracted, and
``fieldpath.to_fields_v1`` builds a trie from the set and sorts it into JSON. On the
API server's hottest path (pod creates) that was ~0.4 ms of the ~1.4 ms a create
costs. When nothing existed before, the diff can only *add*, so one walk of the
object can emit the sorted ``fieldsV1`` directly, with no tuples, sets or tries.

``fields_v1(obj, node, drop=drop_plan(exact=E, whole=W))`` is exactly
``to_fields_v1(without_prefix(compare({}, obj, node).added, W) - E)``;
``tests/kube/patch/test_created.py`` checks that equality on realistic and generated
objects, so the two stay one definition of "what a create owns". The rules it
mirrors from ``typed._diff`` with the old side absent:

- a scalar, an empty map or list, an atomic map and an atomic list are leaves: owned;
- a map owns each key; the map itself is owned too unless it is *implicit* (a struct
  field Go always holds, see ``typed``): ``metadata.labels`` is owned, ``spec`` is not;
- an associative list owns each item (``k:{...}``/``v:...``) and what is inside it;
  an item given twice is owned whole, never field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from kube.model.checks import ContentMemo
from kube.model.schema import SchemaNode
from kube.patch import fieldpath as fp
from kube.patch import typed
from kube.patch.fieldpath import FieldSet, Path

FieldsV1 = dict[str, Any]
_MEMBER = "."


@dataclass(slots=True)
class Drop:
    """What to take out of a fieldsV1 at one element: the element's own ownership
    (``exact``), everything under it too (``whole``), or paths below it (``below``)."""

    exact: bool = False
    whole: bool = False
    below: dict[str, Drop] = field(default_factory=dict)


def drop_plan(*, exact: FieldSet, whole: Path | None = None) -> dict[str, Drop]:
    """Compile the paths to drop once (the callers' sets are constants)."""
    plan: dict[str, Drop] = {}
    for path, is_whole in [*((p, False) for p in exact if p), *([(whole, True)] if whole else [])]:
        level = plan
        for element in path[:-1]:
            level = level.setdefault(element, Drop()).below
        last = level.setdefault(path[-1], Drop())
        if is_whole:
            last.whole = True
        else:
            last.exact = True
    return plan


def fields_v1(obj: dict[str, Any], node: SchemaNode | None, *, drop: dict[str, Drop]) -> FieldsV1:
    """The ``fieldsV1`` owned by creating ``obj``, less what ``drop`` (a ``drop_plan``)
    names. Raises ``TypedError`` where ``typed.compare`` would (an associative-list
    item without its key)."""
    # The plan is in the key by identity; keeping it in the entry keeps that id unique.
    key = _SHAPES.key(_shape(obj, _SHAPE_DEPTH), node, id(drop))
    if key is not None and len(key[-1]) > _SHAPE_KEY_MAX:
        key = None
    known: tuple[dict[str, Drop], bytes] | None = _SHAPES.get(key)
    if known is not None and known[0] is drop:
        body: FieldsV1 = orjson.loads(known[1])
        return body
    _, body = _walk(obj, node, implicit=True)
    _prune(body, drop)
    _SHAPES.put(key, (drop, orjson.dumps(body)))
    return body


# Results by the object's shape. Objects made from one template differ in scalars (names,
# uids, times, label values, a pod's nodeName), and what a create owns never depends on
# the scalar values in a map: each is an owned leaf, whatever it holds. Only list items
# are told apart by content (their keys, or the values of a set). So the key is the
# object's JSON with the scalars of its top maps blanked out (the object, its sections
# such as metadata and spec, and their maps such as labels), lists kept whole: one
# serialisation instead of a walk. Results are kept as JSON bytes, so each hit is a
# fresh copy (it is stored in the object).
_SHAPES = ContentMemo(size=1024)
_SHAPE_DEPTH = 3
_SHAPE_KEY_MAX = 8 * 1024  # a larger object is walked every time rather than kept (≤ 8 MiB in all)


def _shape(value: dict[str, Any], depth: int) -> dict[str, Any]:
    """``value`` with the scalars in it and in its maps ``depth`` levels down blanked."""
    shape: dict[str, Any] = {}
    for name, sub in value.items():
        if isinstance(sub, dict):
            shape[name] = _shape(sub, depth - 1) if depth > 1 else sub
        else:
            shape[name] = sub if isinstance(sub, list) else None
    return shape


def _walk(value: Any, node: SchemaNode | None, *, implicit: bool) -> tuple[bool, FieldsV1]:
    """(whether the path holding ``value`` is itself owned, the ``fieldsV1`` below it)."""
    if isinstance(value, dict):
        if not value or (node is not None and node.map_type == "atomic"):
            return True, {}
        return not implicit, _walk_map(value, node, implicit=implicit)
    if isinstance(value, list):
        keys = typed.list_keys(node)
        if keys is None or node is None or not value:
            return True, {}
        return not implicit, _walk_items(value, node, keys=keys)
    return True, {}


def _walk_map(value: dict[str, Any], node: SchemaNode | None, *, implicit: bool) -> FieldsV1:
    props, other = _children(node)
    body: FieldsV1 = {}
    for name in sorted(value):  # fieldsV1 orders f: elements by name
        sub = value[name]
        if not isinstance(sub, dict | list):
            body["f:" + name] = {}  # a scalar (or null) is always an owned leaf
            continue
        sub_node, struct_like = props.get(name, other)
        member, inner = _walk(sub, sub_node, implicit=implicit and struct_like)
        body["f:" + name] = {_MEMBER: {}, **inner} if member and inner else inner
    return body


def _walk_items(value: list[Any], node: SchemaNode, *, keys: tuple[str, ...]) -> FieldsV1:
    # The path only words TypedError's message, which the caller swallows.
    indexed = typed.item_elements(value, node=node, keys=keys, path=())
    counts: dict[str, int] = {}
    for element, _ in indexed:
        counts[element] = counts.get(element, 0) + 1
    body: FieldsV1 = {}
    for element, item in sorted(indexed, key=lambda pair: fp.sort_key(pair[0])):
        if element in body:
            continue
        if counts[element] > 1:
            body[element] = {}  # duplicated items are owned whole
            continue
        body[element] = _item_body(item, node.items)
    return body


# Items by content: every pod of a template carries the same containers, and their
# fields are most of a pod's fieldsV1. Kept as JSON bytes, so each hit decodes a fresh
# copy (the result is stored in the object; no two objects may share it).
_ITEMS = ContentMemo(size=1024)


def _item_body(item: Any, node: SchemaNode | None) -> FieldsV1:
    """The fieldsV1 entry of one associative-list item (which is always owned itself)."""
    key = _ITEMS.key(item, node) if isinstance(item, dict) else None
    known: bytes | None = _ITEMS.get(key)
    if known is not None:
        body: FieldsV1 = orjson.loads(known)
        return body
    _, inner = _walk(item, node, implicit=False)
    body = {_MEMBER: {}, **inner} if inner else {}
    _ITEMS.put(key, orjson.dumps(body))
    return body


_Child = tuple[SchemaNode | None, bool]
_CHILDREN: dict[SchemaNode, tuple[dict[str, _Child], _Child]] = {}  # by identity (nodes are eq=False)
_CHILDREN_MAX = 4096


def _children(node: SchemaNode | None) -> tuple[dict[str, _Child], _Child]:
    """Per schema node, what ``typed.child`` answers for each declared field — with
    whether it is implicit below an implicit parent (a struct or required field) — and
    for any other key. Built-in schema nodes live as long as the process; a custom
    resource's are replaced when its CRD changes, so the table is bounded and simply
    starts over when full. Keys of maps (labels, data) are never stored."""
    if node is None:
        return {}, (None, False)
    found = _CHILDREN.get(node)
    if found is None:
        if len(_CHILDREN) >= _CHILDREN_MAX:
            _CHILDREN.clear()
        values = node.values if not node.free_form and not node.properties else None
        other: _Child = (values, False)
        props: dict[str, _Child] = {}
        if not node.free_form and other[0] is None:
            for name in node.properties:
                sub, declared = typed.child(node, name)
                props[name] = (sub, declared and (typed.is_struct(sub) or name in node.required))
        found = _CHILDREN[node] = (props, other)
    return found


def _prune(body: FieldsV1, plan: dict[str, Drop]) -> None:
    """Apply ``plan`` to ``body``. An element left owning nothing (not itself, nothing
    below) is dropped, as a trie built from the remaining paths would not have it."""
    for element, drop in plan.items():
        entry = body.get(element)
        if entry is None:
            continue
        if drop.whole:
            del body[element]
            continue
        member = not entry or _MEMBER in entry  # a leaf is {}; a parent marks itself "."
        if drop.below:
            _prune(entry, drop.below)
        member = member and not drop.exact
        if len(entry) - (_MEMBER in entry):  # something is still owned below
            if not member:
                entry.pop(_MEMBER, None)
        elif member:
            body[element] = {}
        else:
            del body[element]
