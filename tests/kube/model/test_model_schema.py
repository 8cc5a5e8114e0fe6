"""The compiled official schema: lookup by kind, navigation, and the annotations that
strategic merge patch, server-side apply, /openapi and kubectl explain rely on."""

from __future__ import annotations

import threading

import pytest

from kube.model import definition_for, definitions, node_for
from kube.model.schema import JSONType, SchemaNode, definition_node, node_for_api_version


def _pod() -> SchemaNode:
    node = node_for(group="", version="v1", kind="Pod")
    assert node is not None
    return node


def test_definitions_are_the_official_1_33_schema() -> None:
    defs = definitions()
    assert len(defs) > 700
    assert "io.k8s.api.core.v1.PodSpec" in defs
    assert defs is definitions()  # loaded once


@pytest.mark.parametrize(
    ("group", "version", "kind", "name"),
    [
        ("", "v1", "Pod", "io.k8s.api.core.v1.Pod"),
        ("apps", "v1", "Deployment", "io.k8s.api.apps.v1.Deployment"),
        ("coordination.k8s.io", "v1", "Lease", "io.k8s.api.coordination.v1.Lease"),
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
         "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"),
    ],
)  # fmt: skip
def test_definition_for_finds_kinds_by_group_version_kind(
    group: str, version: str, kind: str, name: str
) -> None:
    assert definition_for(group=group, version=version, kind=kind) == name


def test_unknown_kinds_have_no_schema() -> None:
    assert definition_for(group="example.com", version="v1", kind="Widget") is None
    assert node_for(group="apps", version="v1beta9", kind="Deployment") is None
    with pytest.raises(KeyError):
        definition_node("io.k8s.api.core.v1.Nope")


def test_navigation_and_types() -> None:
    pod = _pod()
    assert pod.type is JSONType.OBJECT and pod.definition == "io.k8s.api.core.v1.Pod"
    assert pod.gvks[0].kind == "Pod" and pod.gvks[0].api_version == "v1"
    containers = pod.descend("spec.containers")
    assert containers is not None and containers.type is JSONType.ARRAY
    container = containers.items
    assert container is not None and container.definition == "io.k8s.api.core.v1.Container"
    assert container.required == ("name",)
    assert pod.descend(["spec", "containers", "ports", "containerPort"]) is container.descend(
        "ports.containerPort"
    )
    assert pod.descend("spec.nope") is None
    labels = pod.descend("metadata.labels")
    assert (
        labels is not None
        and labels.is_map
        and labels.values is not None
        and labels.values.type is JSONType.STRING
    )


def test_kubernetes_unions_and_formats() -> None:
    pod = _pod()
    limits = pod.descend("spec.containers.resources.limits")
    assert limits is not None and limits.values is not None
    assert (limits.values.type, limits.values.format) == (JSONType.QUANTITY, "quantity")
    port = pod.descend("spec.containers.livenessProbe.httpGet.port")
    assert port is not None and (port.type, port.format) == (JSONType.INT_OR_STRING, "int-or-string")
    created = pod.descend("metadata.creationTimestamp")
    assert created is not None and (created.type, created.format, created.nullable) == (
        JSONType.STRING,
        "date-time",
        True,
    )
    container_port = pod.descend("spec.containers.ports.containerPort")
    assert container_port is not None and (container_port.format, container_port.nullable) == ("int32", False)
    raw = definition_node("io.k8s.apimachinery.pkg.runtime.RawExtension")
    assert raw.free_form


def test_patch_and_apply_annotations_are_per_field() -> None:
    spec = _pod().field("spec")
    assert spec is not None
    containers = spec.field("containers")
    assert containers is not None
    assert (containers.patch_merge_key, containers.patch_strategy) == ("name", "merge")
    assert (containers.list_type, containers.list_map_keys) == ("map", ("name",))
    ports = containers.items.field("ports") if containers.items else None
    assert ports is not None and ports.patch_merge_key == "containerPort"
    assert ports.list_map_keys == ("containerPort", "protocol")
    volumes = spec.field("volumes")
    assert volumes is not None and volumes.patch_strategy == "merge,retainKeys"
    tolerations = spec.field("tolerations")
    assert tolerations is not None and (tolerations.patch_merge_key, tolerations.list_type) == ("", "atomic")
    selector = node_for(group="apps", version="v1", kind="Deployment")
    assert selector is not None
    match = selector.descend("spec.selector")
    assert match is not None and match.map_type == "atomic"
    finalizers = _pod().descend("metadata.finalizers")
    assert finalizers is not None and finalizers.list_type == "set"


def test_field_descriptions_differ_from_type_descriptions() -> None:
    metadata = _pod().field("metadata")
    assert metadata is not None and metadata.description.startswith("Standard object's metadata.")
    assert definition_node("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").description.startswith(
        "ObjectMeta is"
    )
    assert (
        metadata.properties is definition_node("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").properties
    )


def test_recursive_types_compile() -> None:
    crd = node_for(group="apiextensions.k8s.io", version="v1", kind="CustomResourceDefinition")
    assert crd is not None
    schema = crd.descend("spec.versions.schema.openAPIV3Schema")
    assert schema is not None
    nested = schema.descend("properties")
    assert nested is not None and nested.values is not None
    assert nested.values.properties is schema.properties
    assert "SchemaNode" in repr(schema) and len(repr(schema)) < 200


def test_api_version_lookup_and_threads() -> None:
    results: list[SchemaNode | None] = []

    def look() -> None:
        results.append(node_for_api_version(api_version="batch/v1", kind="CronJob"))

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(r) for r in results}) == 1 and results[0] is not None
    assert results[0].descend("spec.jobTemplate.spec.template.spec.containers") is not None
