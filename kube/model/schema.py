"""The official Kubernetes 1.33 API schema, compiled once into navigable nodes.

Why this exists: every built-in kind we serve must accept exactly the fields the real
API accepts, and several parts of the system need to know more than "which fields":
strategic merge patch needs each list's merge key, server-side apply needs list types
and map keys, ``/openapi/v3`` and ``kubectl explain`` need descriptions and formats.
Hand-typing that for 700 types would drift from Kubernetes, so the single source is
the OpenAPI definitions the ``kubernetes-validate`` package ships (JSON Schema under
``$defs``, one entry per Go type, e.g. ``io.k8s.api.core.v1.PodSpec``).

The raw JSON is 1.4 MB and full of ``$ref`` indirections, which are slow to follow on
every request. So each definition is compiled, on first use, into a ``SchemaNode``
tree whose references are already resolved: walking ``spec.containers[0].ports`` is a
few dictionary lookups. Compilation is lazy (only the kinds actually used are built),
cached for the life of the process, and thread-safe.

Field-level facts (a field's own description, ``x-kubernetes-patch-merge-key``, list
type) live beside the ``$ref`` in the parent, so a field that refers to a shared type
gets its own node which shares the type's ``properties`` table but carries the field's
annotations. That is why ``node.field("containers").patch_merge_key == "name"``
although ``Container`` itself knows nothing of merging.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from kube.resources import GroupVersionKind

KUBERNETES_VERSION = "1.33"
_SCHEMA_DIR = "v1.33.0-local"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


class JSONType(StrEnum):
    """The JSON shape a node accepts. Two Kubernetes-specific unions get their own
    member because both the checker and ``/openapi`` treat them as one type."""

    OBJECT = "object"
    ARRAY = "array"
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    INT_OR_STRING = "int-or-string"
    """``intstr.IntOrString``: a JSON integer or string (ports, maxSurge)."""
    QUANTITY = "quantity"
    """``resource.Quantity``: a string such as ``"500m"`` or a JSON number."""
    ANY = "any"
    """No constraint at all (``apiextensions.v1.JSON`` and friends)."""


@dataclass(slots=True, eq=False, kw_only=True)
class SchemaNode:
    """One compiled schema position: a definition, or a field that refers to one.

    Navigation: ``field(name)`` for object properties, ``items`` for array elements,
    ``values`` for map values (``additionalProperties``); ``descend`` follows a dotted
    path through all three. Nodes are shared and must be treated as read-only.
    """

    type: JSONType = JSONType.ANY
    nullable: bool = True
    """JSON ``null`` is allowed (the field is optional and null means unset)."""
    format: str = ""
    """``int32``, ``int64``, ``double``, ``byte`` (base64), ``date-time``, and, for the
    two unions, ``int-or-string`` / ``quantity`` as the OpenAPI v3 document spells them."""
    description: str = ""
    """The field's own description when it has one (what ``kubectl explain`` prints for
    a field), otherwise its type's."""
    definition: str = ""
    """The ``$defs`` name this node's type came from (``io.k8s.api.core.v1.Container``)."""
    properties: dict[str, SchemaNode] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    """Property names the schema requires (Kubernetes' non-``omitempty`` fields)."""
    items: SchemaNode | None = None
    values: SchemaNode | None = None
    """Schema of map values when the object is a map (``additionalProperties``)."""
    free_form: bool = False
    """An object with no declared fields and no value schema (RawExtension, FieldsV1):
    any content is preserved as it is."""
    enum: tuple[Any, ...] = ()
    patch_merge_key: str = ""
    """``x-kubernetes-patch-merge-key``: strategic merge patch matches list items by it."""
    patch_strategy: str = ""
    """``x-kubernetes-patch-strategy``: ``merge``, ``retainKeys`` or both (comma-joined)."""
    list_type: str = ""
    """``x-kubernetes-list-type``: ``atomic``, ``set`` or ``map`` (server-side apply)."""
    list_map_keys: tuple[str, ...] = ()
    map_type: str = ""
    """``x-kubernetes-map-type``: ``atomic`` or ``granular``."""
    gvks: tuple[GroupVersionKind, ...] = ()
    """The kinds this definition serves (``x-kubernetes-group-version-kind``)."""

    def __repr__(self) -> str:
        # The default dataclass repr would print the whole (possibly recursive) tree.
        what = self.definition or self.type.value
        return f"<SchemaNode {what} fields={len(self.properties)}>"

    def field(self, name: str) -> SchemaNode | None:
        """The node of object property ``name``, or None when the field does not exist."""
        return self.properties.get(name)

    def descend(self, path: Iterable[str] | str) -> SchemaNode | None:
        """Follow field names (``"spec.containers.ports"`` or a list of names) the way
        ``kubectl explain`` does: arrays and maps are stepped through transparently."""
        parts = path.split(".") if isinstance(path, str) else path
        node: SchemaNode | None = self
        for name in parts:
            if not name:
                continue
            node = _through_collections(node)
            node = node.properties.get(name) if node is not None else None
            if node is None:
                return None
        return node

    @property
    def is_map(self) -> bool:
        return self.type is JSONType.OBJECT and self.values is not None


def _through_collections(node: SchemaNode | None) -> SchemaNode | None:
    while node is not None:
        if node.type is JSONType.ARRAY:
            node = node.items
        elif node.is_map:
            node = node.values
        else:
            return node
    return None


# The attributes a field's own schema may override on the type it refers to.
_FIELD_LEVEL = ("description", "patch_merge_key", "patch_strategy", "list_type", "list_map_keys", "map_type")
_ALL_ATTRS = tuple(f.name for f in dataclasses.fields(SchemaNode))


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """The raw ``$defs`` table of the official schema (loaded once; do not mutate)."""
    resource = importlib.resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", _SCHEMA_DIR, "_definitions.json"
    )
    loaded: dict[str, Any] = orjson.loads(resource.read_bytes())
    defs: dict[str, dict[str, Any]] = loaded["$defs"]
    return defs


@functools.cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, raw in definitions().items():
        for gvk in raw.get("x-kubernetes-group-version-kind") or ():
            # A few meta types (DeleteOptions, WatchEvent) are listed under every group;
            # the first definition that claims a GVK keeps it.
            index.setdefault((gvk.get("group", ""), gvk["version"], gvk["kind"]), name)
    return index


def definition_for(*, group: str, version: str, kind: str) -> str | None:
    """The ``$defs`` name of a kind (``apps``, ``v1``, ``Deployment`` →
    ``io.k8s.api.apps.v1.Deployment``), or None if the schema has no such kind."""
    return _gvk_index().get((group, version, kind))


def node_for(*, group: str, version: str, kind: str) -> SchemaNode | None:
    """The compiled schema of a kind: a built-in kind's, else a custom resource's as
    its CRD registered it (``register_custom_node``), else None."""
    name = definition_for(group=group, version=version, kind=kind)
    if name is None:
        return _CUSTOM_NODES.get((group, version, kind))
    return _COMPILER.compile(name)


CUSTOM_DEFINITION = "<custom>"
"""The ``definition`` of a custom resource's root node: such kinds are shaped by their
CRD (``kube.crd``), so the built-in checks and defaults skip them; server-side apply
and managedFields use the node for list types and map keys."""
_CUSTOM_NODES: dict[tuple[str, str, str], SchemaNode] = {}


def register_custom_node(*, group: str, version: str, kind: str, node: SchemaNode) -> None:
    """Make ``node`` (built by ``kube.crd.nodes``) the schema of a custom kind."""
    node.definition = CUSTOM_DEFINITION
    _CUSTOM_NODES[(group, version, kind)] = node


def unregister_custom_node(*, group: str, version: str, kind: str) -> None:
    _CUSTOM_NODES.pop((group, version, kind), None)


def node_for_api_version(*, api_version: str, kind: str) -> SchemaNode | None:
    """Like ``node_for`` but from an object's ``apiVersion`` (``apps/v1``, ``v1``)."""
    group, _, version = api_version.rpartition("/")
    return node_for(group=group, version=version, kind=kind)


def definition_node(name: str) -> SchemaNode:
    """The compiled node of any definition by its ``$defs`` name (KeyError if unknown)."""
    if name not in definitions():
        raise KeyError(name)
    return _COMPILER.compile(name)


class _Compiler:
    """Turns raw definitions into ``SchemaNode`` trees, each definition exactly once.

    A definition's node is registered before its fields are compiled, so recursive
    types (JSONSchemaProps refers to itself) terminate. Field nodes that refer to a
    definition copy its attributes only after the whole closure is built, because
    during recursion the definition may still be half-filled.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[str, SchemaNode] = {}
        # Only finished trees are published here, so readers never need the lock.
        self._ready: dict[str, SchemaNode] = {}

    def compile(self, name: str) -> SchemaNode:
        node = self._ready.get(name)
        if node is not None:
            return node
        with self._lock:
            pending: list[tuple[SchemaNode, SchemaNode, frozenset[str]]] = []
            node = self._definition(name, pending)
            for derived, base, own in pending:
                for attr in _ALL_ATTRS:
                    if attr not in own:
                        setattr(derived, attr, getattr(base, attr))
            self._ready.update(self._nodes)
            return node

    def _definition(
        self, name: str, pending: list[tuple[SchemaNode, SchemaNode, frozenset[str]]]
    ) -> SchemaNode:
        node = self._nodes.get(name)
        if node is not None:
            return node
        raw = definitions()[name]
        node = SchemaNode(definition=name)
        self._nodes[name] = node
        self._fill(node, raw, pending)
        node.gvks = tuple(
            GroupVersionKind(group=g.get("group", ""), version=g["version"], kind=g["kind"])
            for g in raw.get("x-kubernetes-group-version-kind") or ()
        )
        if name == _QUANTITY:
            node.type, node.format = JSONType.QUANTITY, "quantity"
        elif name == _INT_OR_STRING:
            node.type, node.format = JSONType.INT_OR_STRING, "int-or-string"
        return node

    def _node(
        self, raw: dict[str, Any], pending: list[tuple[SchemaNode, SchemaNode, frozenset[str]]]
    ) -> SchemaNode:
        ref = raw.get("$ref")
        if ref is None:
            node = SchemaNode()
            self._fill(node, raw, pending)
            return node
        base = self._definition(ref.rsplit("/", 1)[-1], pending)
        if len(raw) == 1:
            return base
        derived = SchemaNode()
        own = _annotations(derived, raw)
        pending.append((derived, base, own))
        return derived

    def _fill(
        self,
        node: SchemaNode,
        raw: dict[str, Any],
        pending: list[tuple[SchemaNode, SchemaNode, frozenset[str]]],
    ) -> None:
        node.type, node.nullable = _json_type(raw)
        node.format = raw.get("format", "")
        _annotations(node, raw)
        node.enum = tuple(raw.get("enum") or ())
        node.required = tuple(raw.get("required") or ())
        props = raw.get("properties")
        if props:
            node.properties.update((key, self._node(sub, pending)) for key, sub in props.items())
        if isinstance(raw.get("items"), dict):
            node.items = self._node(raw["items"], pending)
        if isinstance(raw.get("additionalProperties"), dict):
            node.values = self._node(raw["additionalProperties"], pending)
        node.free_form = node.type is JSONType.OBJECT and not props and node.values is None


def _annotations(node: SchemaNode, raw: dict[str, Any]) -> frozenset[str]:
    """Copy field-level annotations from ``raw``; return the attribute names set."""
    own: set[str] = set()
    if "description" in raw:
        node.description = raw["description"]
        own.add("description")
    if "x-kubernetes-patch-merge-key" in raw:
        node.patch_merge_key = raw["x-kubernetes-patch-merge-key"]
        own.add("patch_merge_key")
    if "x-kubernetes-patch-strategy" in raw:
        node.patch_strategy = raw["x-kubernetes-patch-strategy"]
        own.add("patch_strategy")
    if "x-kubernetes-list-type" in raw:
        node.list_type = raw["x-kubernetes-list-type"]
        own.add("list_type")
    if "x-kubernetes-list-map-keys" in raw:
        node.list_map_keys = tuple(raw["x-kubernetes-list-map-keys"])
        own.add("list_map_keys")
    if "x-kubernetes-map-type" in raw:
        node.map_type = raw["x-kubernetes-map-type"]
        own.add("map_type")
    assert own <= set(_FIELD_LEVEL)
    return frozenset(own)


def _json_type(raw: dict[str, Any]) -> tuple[JSONType, bool]:
    declared = raw.get("type")
    if declared is None:
        # Only the two unions (oneOf) and apiextensions' JSON wrappers have no type.
        return JSONType.ANY, True
    if isinstance(declared, str):
        return JSONType(declared), False
    names = [t for t in declared if t != "null"]
    return (JSONType(names[0]) if names else JSONType.ANY), "null" in declared


_COMPILER = _Compiler()
