"""A CRD version's schema as ``kube.model`` nodes, for server-side apply and managedFields.

Field ownership depends on the schema: a list marked ``x-kubernetes-list-type: map``
is owned item by item (``k:{"name":"a"}``), any other list of a custom resource is one
atomic value, ``x-kubernetes-map-type: atomic`` objects are owned whole, and metadata
is ObjectMeta (finalizers a set, ownerReferences keyed by uid). ``kube.patch`` reads
all of that from ``kube.model.schema`` nodes, so a CRD's structural schema is
translated into such nodes and registered for its kind while the CRD is served;
without a registered node a custom kind would be "deduced" (objects granular, lists
atomic), which gets metadata and map lists wrong.
"""

from __future__ import annotations

from kube.model.schema import (
    JSONType,
    SchemaNode,
    definition_node,
    register_custom_node,
    unregister_custom_node,
)

from .schema import Schema

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_TYPES = {
    "object": JSONType.OBJECT,
    "array": JSONType.ARRAY,
    "string": JSONType.STRING,
    "integer": JSONType.INTEGER,
    "number": JSONType.NUMBER,
    "boolean": JSONType.BOOLEAN,
}


def to_node(schema: Schema, *, resource: bool = True) -> SchemaNode:
    """The node for ``schema``; ``resource`` adds ObjectMeta, apiVersion and kind, as
    every resource (and every embedded resource) has them."""
    node = SchemaNode(
        type=JSONType.INT_OR_STRING if schema.int_or_string else _TYPES.get(schema.type, JSONType.ANY),
        nullable=schema.nullable,
        format=schema.format,
        description=schema.description,
        required=schema.required,
        enum=schema.enum or (),
        list_type=schema.list_type or ("atomic" if schema.type == "array" else ""),
        list_map_keys=schema.list_map_keys,
        map_type=schema.map_type,
    )
    for name, child in schema.properties.items():
        node.properties[name] = to_node(child, resource=child.embedded)
    if resource:
        node.properties["metadata"] = definition_node(_OBJECT_META)
        for name in ("apiVersion", "kind"):
            node.properties.setdefault(name, SchemaNode(type=JSONType.STRING))
    if schema.additional is not None:
        node.values = to_node(schema.additional, resource=False)
    if schema.items is not None:
        node.items = to_node(schema.items, resource=schema.items.embedded)
    object_like = node.type in (JSONType.OBJECT, JSONType.ANY)
    node.free_form = object_like and not node.properties and node.values is None and schema.preserve_unknown
    return node


def register(*, group: str, version: str, kind: str, schema: Schema) -> None:
    register_custom_node(group=group, version=version, kind=kind, node=to_node(schema))


def unregister(*, group: str, version: str, kind: str) -> None:
    unregister_custom_node(group=group, version=version, kind=kind)
