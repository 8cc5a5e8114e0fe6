"""Schema-aware walks over objects for server-side apply: field sets, diffs, merges, removal.

Server-side apply cannot treat an object as plain JSON: whether ``containers`` is one
value or a map of items keyed by ``name`` decides who owns what, and so whether two
managers conflict. These are the four operations of structured-merge-diff's ``typed``
package, written against ``kube.model.schema`` nodes:

* ``field_set``: the fields a value sets (what an applier claims to own);
* ``compare``: which fields differ between two objects (added, modified, removed);
* ``merge``: an applied configuration laid over the live object;
* ``remove``: an object with some fields (and everything below them) taken out.

How the schema shapes them: lists are ``atomic`` (one leaf), ``map`` (items are
``k:{keys}``) or ``set`` (items are ``v:value``), from ``x-kubernetes-list-type`` or, as
kube-openapi falls back, from ``x-kubernetes-patch-strategy: merge``; objects are
granular unless ``x-kubernetes-map-type: atomic``. Values with no schema (custom
resources, ``RawExtension``) are "deduced": objects granular, lists atomic.

One approximation: Go compares typed objects, in which a *non-pointer* struct such as
``spec`` and a non-omitempty field such as ``containers`` exist (zero or null) even when
the JSON lacks them, so they are never "added" themselves when their parent exists;
pointer structs such as ``rollingUpdate`` are. The JSON schema does not say which
structs are pointers, so here every struct field (and every required field) of an
existing struct counts as always present. Maps (``labels``), list items, empty objects
and everything inside a newly added item are recorded as in Kubernetes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kube.model.schema import SchemaNode
from kube.patch import fieldpath as fp
from kube.patch.fieldpath import FieldSet, Path, PathElement, Trie

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""An absent value (not JSON ``null``)."""

# The key fields that may be omitted from list items because the API defaults them
# (the OpenAPI ``default`` the kubernetes-validate schemas leave out).
_KEY_DEFAULTS: dict[str, dict[str, Any]] = {
    "io.k8s.api.core.v1.ContainerPort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.ServicePort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.LocalObjectReference": {"name": ""},
}


class TypedError(ValueError):
    """A value the schema cannot index, e.g. a list item without its key field."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{fp.describe(path)}: {message}" if path else message)


# --- schema questions -----------------------------------------------------------------

def child(node: SchemaNode | None, name: str) -> tuple[SchemaNode | None, bool]:
    """(schema of object key ``name``, whether it is a declared struct field)."""
    if node is None or node.free_form:
        return None, False
    if node.values is not None and not node.properties:
        return node.values, False
    sub = node.field(name)
    return sub, sub is not None


def is_struct(node: SchemaNode | None) -> bool:
    return node is not None and bool(node.properties) and node.values is None


def list_keys(node: SchemaNode | None) -> tuple[str, ...] | None:
    """Key fields of an associative list, ``()`` for a set, None for an atomic list."""
    if node is None:
        return None
    if node.list_type == "map":
        return node.list_map_keys or ((node.patch_merge_key,) if node.patch_merge_key else ())
    if node.list_type == "set":
        return ()
    if node.list_type == "" and "merge" in node.patch_strategy.split(","):
        return (node.patch_merge_key,) if node.patch_merge_key else ()
    return None


def is_atomic_map(node: SchemaNode | None) -> bool:
    return node is not None and node.map_type == "atomic"


def descend(node: SchemaNode | None, element: PathElement) -> SchemaNode | None:
    name = fp.field_name(element)
    if name is not None:
        return child(node, name)[0]
    return node.items if node is not None else None


def item_element(item: Any, *, keys: tuple[str, ...], items: SchemaNode | None, path: Path) -> PathElement:
    """The path element naming one item of an associative list."""
    if not keys:
        return fp.value(item)
    if not isinstance(item, dict):
        raise TypedError(path, f"associative list with keys has an element that is not a map: {item!r}")
    defaults = _KEY_DEFAULTS.get(items.definition, {}) if items is not None else {}
    fields: dict[str, Any] = {}
    for name in keys:
        if name in item:
            fields[name] = item[name]
        elif name in defaults:
            fields[name] = defaults[name]
        else:
            raise TypedError(path, f"associative list with keys has an element that omits key field "
                                   f'"{name}" (and doesn\'t have default value)')
    return fp.key(fields)


def item_elements(values: list[Any], *, node: SchemaNode, keys: tuple[str, ...], path: Path) -> list[tuple[PathElement, Any]]:
    return [(item_element(v, keys=keys, items=node.items, path=path), v) for v in values]


def _empty(value: Any) -> bool:
    return value is MISSING or value is None or (isinstance(value, dict | list) and not value)


# --- field_set ------------------------------------------------------------------------

def field_set(obj: dict[str, Any], node: SchemaNode | None, *, allow_duplicates: bool = True) -> FieldSet:
    """Every field ``obj`` sets, as apply records ownership (``TypedValue.ToFieldSet``).

    Live objects may hold duplicate list items (old clients wrote them); an applied
    configuration may not (``allow_duplicates=False`` raises TypedError).
    """
    out: FieldSet = set()
    _collect(obj, node, (), out, strict=not allow_duplicates)
    return out


def _collect(value: Any, node: SchemaNode | None, path: Path, out: FieldSet, *, strict: bool) -> None:
    if isinstance(value, dict):
        if is_atomic_map(node):
            out.add(path)
            return
        for name, sub in value.items():
            sub_node, declared = child(node, name)
            sub_path = (*path, fp.field(name))
            _collect(sub, sub_node, sub_path, out, strict=strict)
            if sub is None or sub == {} or not declared:
                out.add(sub_path)
    elif isinstance(value, list):
        keys = list_keys(node)
        if keys is None or node is None:
            out.add(path)
            return
        indexed = item_elements(value, node=node, keys=keys, path=path)
        counts: dict[PathElement, int] = {}
        for element, _ in indexed:
            counts[element] = counts.get(element, 0) + 1
            if strict and counts[element] > 1:
                raise TypedError(path, f"duplicate entries for key {fp.describe((element,))}")
        for element, item in indexed:
            item_path = (*path, element)
            out.add(item_path)
            if counts[element] == 1:  # duplicated items are owned whole, never field by field
                _collect(item, node.items, item_path, out, strict=strict)
    else:
        out.add(path)


def named_prefixes(paths: FieldSet, node: SchemaNode | None) -> FieldSet:
    """Every proper prefix of ``paths`` that ends in a declared struct field.

    Pruning treats ``.spec`` as owned by whoever owns ``.spec.replicas``
    (``EnsureNamedFieldsAreMembers``), so that a struct is removed only when nobody
    owns anything inside it.
    """
    out: FieldSet = set()
    for path in paths:
        current = node
        for depth, element in enumerate(path[:-1], start=1):
            name = fp.field_name(element)
            if name is not None and child(current, name)[1]:
                out.add(path[:depth])
            current = descend(current, element)
    return out


# --- compare --------------------------------------------------------------------------

@dataclass(slots=True, kw_only=True)
class Comparison:
    added: FieldSet = field(default_factory=set)
    modified: FieldSet = field(default_factory=set)
    removed: FieldSet = field(default_factory=set)

    def changed(self) -> FieldSet:
        return self.added | self.modified


def compare(old: dict[str, Any], new: dict[str, Any], node: SchemaNode | None) -> Comparison:
    """Which fields ``new`` adds, modifies and removes relative to ``old``."""
    out = Comparison()
    _diff(old, new, node, (), out, implicit=True)
    return out


def _shape(value: Any) -> str:
    if value is MISSING:
        return ""
    return "map" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"


def _diff(old: Any, new: Any, node: SchemaNode | None, path: Path, out: Comparison, *, implicit: bool) -> None:
    """``implicit``: a Go object would hold this field even when the JSON lacks it (a
    non-pointer struct, or a required field, inside a struct that exists), so it is
    never "added" or "removed" as a whole — only what is inside it changes."""
    shape_old, shape_new = _shape(old), _shape(new)
    shape = shape_new or shape_old
    keys = list_keys(node) if shape == "list" else None
    is_leaf = (
        (shape_old and shape_new and shape_old != shape_new)
        or shape == "scalar"
        or (shape == "map" and is_atomic_map(node))
        or (shape == "list" and keys is None)
        or (shape != "scalar" and _empty(old) and _empty(new))
    )
    if is_leaf:
        if old is MISSING:
            out.added.add(path)
        elif new is MISSING:
            out.removed.add(path)
        elif not equal(old, new):
            out.modified.add(path)
        return
    if shape == "map":
        old_map = old if isinstance(old, dict) else {}
        new_map = new if isinstance(new, dict) else {}
        exists = implicit or old is not MISSING
        required = node.required if node is not None else ()
        for name in _union_keys(old_map, new_map):
            sub_node, declared = child(node, name)
            _diff(old_map.get(name, MISSING), new_map.get(name, MISSING), sub_node, (*path, fp.field(name)),
                  out, implicit=exists and declared and (is_struct(sub_node) or name in required))
    else:
        assert node is not None and keys is not None
        _diff_items(old if isinstance(old, list) else [], new if isinstance(new, list) else [],
                    node=node, keys=keys, path=path, out=out)
    # A container that appears or disappears is itself a field (labels, list items).
    if not implicit:
        if old is MISSING:
            out.added.add(path)
        elif new is MISSING:
            out.removed.add(path)


def _union_keys(left: dict[str, Any], right: dict[str, Any]) -> Iterator[str]:
    yield from left
    yield from (k for k in right if k not in left)


def _diff_items(old: list[Any], new: list[Any], *, node: SchemaNode, keys: tuple[str, ...],
                path: Path, out: Comparison) -> None:
    groups: dict[PathElement, tuple[list[Any], list[Any]]] = {}
    for element, item in item_elements(old, node=node, keys=keys, path=path):
        groups.setdefault(element, ([], []))[0].append(item)
    for element, item in item_elements(new, node=node, keys=keys, path=path):
        groups.setdefault(element, ([], []))[1].append(item)
    for element, (before, after) in groups.items():
        item_path = (*path, element)
        if len(before) <= 1 and len(after) <= 1:
            _diff(before[0] if before else MISSING, after[0] if after else MISSING, node.items, item_path,
                  out, implicit=False)
        elif len(before) >= 2 and len(after) >= 2:
            # Duplicated items (tolerated in live objects) compare as one atomic value.
            if not equal(before, after):
                out.modified.add(item_path)
        elif len(before) >= 2:
            if after:
                _diff(MISSING, after[0], node.items, item_path, out, implicit=False)
            out.removed.add(item_path)
        else:
            if before:
                _diff(before[0], MISSING, node.items, item_path, out, implicit=False)
            out.added.add(item_path)


def equal(left: Any, right: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1 (Python's == says otherwise)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict):
        return (isinstance(right, dict) and left.keys() == right.keys()
                and all(equal(v, right[k]) for k, v in left.items()))
    if isinstance(left, list):
        return (isinstance(right, list) and len(left) == len(right)
                and all(equal(a, b) for a, b in zip(left, right, strict=True)))
    return bool(left == right) and _shape(left) == _shape(right)


# --- merge ----------------------------------------------------------------------------

def merge(live: Any, config: Any, node: SchemaNode | None, path: Path = ()) -> Any:
    """``config`` laid over ``live`` (``TypedValue.Merge``); results share no containers with ``config``."""
    if config is MISSING:
        return live
    if live is MISSING or _shape(live) != _shape(config):
        return _copy(config)
    if isinstance(config, dict):
        if is_atomic_map(node) or (not live and not config):
            return _copy(config)
        out = {}
        for name in _union_keys(live, config):
            out[name] = merge(live.get(name, MISSING), config.get(name, MISSING), child(node, name)[0],
                              (*path, fp.field(name)))
        return out
    if isinstance(config, list):
        keys = list_keys(node)
        if keys is None or node is None or (not live and not config):
            return _copy(config)
        return _merge_items(live, config, node=node, keys=keys, path=path)
    return config


def _merge_items(live: list[Any], config: list[Any], *, node: SchemaNode, keys: tuple[str, ...],
                 path: Path) -> list[Any]:
    """Merge associative lists: the config's order wins for the items it names, and
    live-only items stay where they were relative to their neighbours."""
    live_items = item_elements(live, node=node, keys=keys, path=path)
    config_items = item_elements(config, node=node, keys=keys, path=path)
    from_config: dict[PathElement, Any] = {}
    for element, item in config_items:
        if element in from_config:
            raise TypedError(path, f"duplicate entries for key {fp.describe((element,))}")
        from_config[element] = item
    from_live: dict[PathElement, Any] = {}
    for element, item in live_items:
        # A duplicated live item has no single value to merge with.
        from_live[element] = MISSING if element in from_live else item

    shared = [e for e, _ in config_items if e in from_live]
    next_shared = shared.pop(0) if shared else None
    done: set[PathElement] = set()
    out: list[Any] = []
    at_live = at_config = 0

    def take(element: PathElement, live_item: Any, config_item: Any) -> None:
        out.append(merge(live_item, config_item, node.items, (*path, element)))

    while at_live < len(live_items) or at_config < len(config_items):
        if at_live < len(live_items) and at_config < len(config_items):
            element = live_items[at_live][0]
            if element == config_items[at_config][0]:
                done.add(element)
                take(element, from_live[element], from_config[element])
                at_live += 1
                at_config += 1
                next_shared = shared.pop(0) if shared else None
                continue
            if element in from_config and next_shared is not None and next_shared != element:
                at_live += 1  # emitted later, at the config's position
                continue
        if at_live < len(live_items):
            element, item = live_items[at_live]
            if element not in from_config:
                take(element, item, MISSING)
                at_live += 1
                continue
            if element in done:
                at_live += 1
        if at_config < len(config_items):
            element = config_items[at_config][0]
            done.add(element)
            take(element, from_live.get(element, MISSING), from_config[element])
            at_config += 1
            if next_shared == element:
                next_shared = shared.pop(0) if shared else None
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# --- remove ---------------------------------------------------------------------------

def remove(obj: dict[str, Any], paths: FieldSet, node: SchemaNode | None, *,
           keep: FieldSet | None = None) -> dict[str, Any]:
    """``obj`` without ``paths`` and everything below them (``TypedValue.RemoveItems``).

    A map or list emptied by the removal is dropped too (a typed Go object would omit
    it), unless its own path is in ``keep`` (someone owns it as an empty value).
    """
    if not paths:
        return obj
    result = _remove(obj, Trie.of(paths), node, (), keep or set())
    return result if isinstance(result, dict) else {}


def _remove(value: Any, trie: Trie, node: SchemaNode | None, path: Path, keep: FieldSet) -> Any:
    if isinstance(value, dict):
        if is_atomic_map(node) or not value:
            return value
        out: dict[str, Any] = {}
        for name, sub in value.items():
            entry = trie.children.get(fp.field(name))
            if entry is None:
                out[name] = sub
            elif not entry.member:
                sub_path = (*path, fp.field(name))
                kept = _remove(sub, entry, child(node, name)[0], sub_path, keep)
                if not _emptied(sub, kept) or sub_path in keep:
                    out[name] = kept
        return out
    if isinstance(value, list):
        keys = list_keys(node)
        if keys is None or node is None or not value:
            return value
        kept_items = []
        for element, item in item_elements(value, node=node, keys=keys, path=path):
            entry = trie.children.get(element)
            if entry is None:
                kept_items.append(item)
            elif not entry.member:
                kept_items.append(_remove(item, entry, node.items, (*path, element), keep))
        return kept_items
    return value


def _emptied(before: Any, after: Any) -> bool:
    """A map or list that lost all its content to removal is dropped, as Go's decode drops null."""
    return isinstance(after, dict | list) and not after and bool(before)
