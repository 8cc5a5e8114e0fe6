"""Pruning and defaulting: the two ways a CRD's schema changes an object before it is stored.

**Pruning.** A structural schema says exactly which fields exist; anything else in a
custom resource is unknown. As for built-in kinds the ``fieldValidation`` query
parameter decides what happens: ``Strict`` refuses the write (``unknown field
"spec.foo"``), ``Warn`` stores the object without the field and says so in a
``Warning`` header, ``Ignore`` drops it silently. Unlike built-in kinds nothing unknown
is ever stored (Kubernetes prunes custom resources unless a node says
``x-kubernetes-preserve-unknown-fields``). ``apiVersion``, ``kind`` and ``metadata``
of the resource, and of every ``x-kubernetes-embedded-resource``, are always kept;
``metadata`` keeps only the fields ObjectMeta has.

**Defaulting.** ``default:`` values fill absent fields top-down, on every write and on
every read from storage (so a default added to a CRD later shows on old objects).
Before that, ``null`` in a field that is not ``nullable`` is dropped (and so defaulted
when it has a default), as Kubernetes does since 1.20.
"""

from __future__ import annotations

import copy
from typing import Any

from kube.model.schema import definition_node

from .schema import MISSING, Schema, join

Obj = dict[str, Any]
_RESOURCE_FIELDS = ("apiVersion", "kind", "metadata")
_OBJECT_META = frozenset(definition_node("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").properties)


def prune(obj: Obj, node: Schema) -> list[str]:
    """Remove every field ``node`` does not know from ``obj`` (a whole resource), in
    place. Returns the paths removed, in the order met."""
    pruned: list[str] = []
    _resource(obj, node, "", pruned)
    return pruned


def unknown_fields(value: Any, node: Schema, path: str = "") -> list[str]:
    """The paths pruning would remove from ``value`` (any value at ``path``, not only a
    whole resource), without changing it."""
    pruned: list[str] = []
    _value(copy.deepcopy(value), node, path, pruned)
    return pruned


def _resource(value: Obj, node: Schema, path: str, pruned: list[str]) -> None:
    meta = value.get("metadata")
    if isinstance(meta, dict):
        for key in [k for k in meta if k not in _OBJECT_META]:
            del meta[key]
            pruned.append(join(join(path, "metadata"), key))
    _object(value, node, path, pruned, keep=_RESOURCE_FIELDS)


def _object(value: Obj, node: Schema, path: str, pruned: list[str], *, keep: tuple[str, ...] = ()) -> None:
    props = node.properties
    values = node.additional
    doomed: list[str] = []
    for key, item in value.items():
        child = props.get(key)
        if child is None:
            if key in keep:
                continue
            if values is not None:
                _value(item, values, f"{path}[{key}]", pruned)
            elif not node.preserve_unknown:
                doomed.append(key)
            continue
        _value(item, child, join(path, key), pruned)
    for key in doomed:
        del value[key]
        pruned.append(join(path, key))


def _value(value: Any, node: Schema, path: str, pruned: list[str]) -> None:
    if isinstance(value, dict):
        if node.embedded:
            _resource(value, node, path, pruned)
        elif node.properties or node.additional is not None or not node.preserve_unknown:
            _object(value, node, path, pruned)
    elif isinstance(value, list) and node.items is not None:
        items = node.items
        for index, element in enumerate(value):
            _value(element, items, f"{path}[{index}]", pruned)


def apply_defaults(value: Any, node: Schema) -> None:
    """Fill absent fields with their ``default`` (deep-copied), top-down, in place."""
    if isinstance(value, dict):
        for key, child in node.properties.items():
            if key in value:
                item = value[key]
                if item is None:
                    if child.nullable:
                        continue
                    del value[key]  # a null for a non-nullable field means "unset"
                else:
                    if isinstance(item, dict | list):
                        apply_defaults(item, child)
                    continue
            if child.default is not MISSING:
                value[key] = copy.deepcopy(child.default)
                apply_defaults(value[key], child)
        values = node.additional
        if values is not None and not node.properties:
            for item in value.values():
                if isinstance(item, dict | list):
                    apply_defaults(item, values)
    elif isinstance(value, list) and node.items is not None:
        items = node.items
        for element in value:
            if isinstance(element, dict | list):
                apply_defaults(element, items)


def needs_defaults(value: Any, node: Schema) -> bool:
    """Whether ``apply_defaults`` would change ``value``: objects read from storage were
    defaulted when written, so this is usually False and no copy is needed."""
    if not node.defaults_below and not isinstance(value, dict | list):
        return False
    if isinstance(value, dict):
        for key, child in node.properties.items():
            item = value.get(key, MISSING)
            if item is MISSING or (item is None and not child.nullable):
                if child.default is not MISSING or item is None:
                    return True
            elif isinstance(item, dict | list) and child.defaults_below and needs_defaults(item, child):
                return True
        values = node.additional
        if values is not None and values.defaults_below and not node.properties:
            return any(isinstance(v, dict | list) and needs_defaults(v, values) for v in value.values())
    elif isinstance(value, list) and node.items is not None and node.items.defaults_below:
        return any(isinstance(v, dict | list) and needs_defaults(v, node.items) for v in value)
    return False


def needs_pruning(obj: Obj, node: Schema) -> bool:
    """Whether ``prune`` would remove anything from ``obj`` (a whole resource), without
    changing or copying it: objects read from storage were pruned when written, so this
    is True only when the schema has since dropped a field or another version wrote it."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and any(k not in _OBJECT_META for k in meta):
        return True
    return _has_unknown(obj, node, keep=_RESOURCE_FIELDS)


def _has_unknown(value: Any, node: Schema, *, keep: tuple[str, ...] = ()) -> bool:
    if isinstance(value, dict):
        if node.embedded and not keep:
            return needs_pruning(value, node)
        props, values = node.properties, node.additional
        if not props and values is None and node.preserve_unknown:
            return False
        for key, item in value.items():
            child = props.get(key)
            if child is None:
                if key in keep:
                    continue
                if values is not None:
                    if _has_unknown(item, values):
                        return True
                elif not node.preserve_unknown:
                    return True
            elif isinstance(item, dict | list) and _has_unknown(item, child):
                return True
        return False
    if isinstance(value, list) and node.items is not None:
        return any(isinstance(v, dict | list) and _has_unknown(v, node.items) for v in value)
    return False
