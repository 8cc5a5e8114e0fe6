"""The hand-kept field tables against an independent source: Kubernetes' own OpenAPI.

The OpenAPI definitions shipped in kubernetes-validate (v1.36.0, the release the tables
follow) list every field of every type with its JSON name and type. Each table must
name exactly those fields with matching types; the field numbers themselves are
checked by the kubectl comparison and the wire tests.
"""

from __future__ import annotations

import functools
import importlib.resources
from types import ModuleType
from typing import Any

import orjson
import pytest

from apiserver.protobuf import tables
from apiserver.protobuf.fields import T
from apiserver.protobuf.schema import KINDS, MESSAGES, Field
from apiserver.protobuf.tables import (
    apps_v1,
    authentication_v1,
    authorization_v1,
    autoscaling_v1,
    autoscaling_v2,
    batch_v1,
    certificates_v1,
    core_v1,
    core_v1_pod,
    core_v1_volumes,
    meta_v1,
    networking_v1,
    policy_v1,
    rbac_v1,
    scheduling_v1,
)

OPENAPI_VERSION = "v1.36.0-local"

# table module → OpenAPI definition prefix of its messages
PREFIXES: dict[ModuleType, str] = {
    meta_v1: "io.k8s.apimachinery.pkg.apis.meta.v1.",
    core_v1: "io.k8s.api.core.v1.",
    core_v1_pod: "io.k8s.api.core.v1.",
    core_v1_volumes: "io.k8s.api.core.v1.",
    apps_v1: "io.k8s.api.apps.v1.",
    batch_v1: "io.k8s.api.batch.v1.",
    autoscaling_v1: "io.k8s.api.autoscaling.v1.",
    autoscaling_v2: "io.k8s.api.autoscaling.v2.",
    policy_v1: "io.k8s.api.policy.v1.",
    authorization_v1: "io.k8s.api.authorization.v1.",
    authentication_v1: "io.k8s.api.authentication.v1.",
    certificates_v1: "io.k8s.api.certificates.v1.",
    rbac_v1: "io.k8s.api.rbac.v1.",
    networking_v1: "io.k8s.api.networking.v1.",
    scheduling_v1: "io.k8s.api.scheduling.v1.",
}
# Inline-only structs: Go embeds them, so OpenAPI has no definition of their own.
NO_DEFINITION = {"ProbeHandler", "EphemeralContainerCommon", "VolumeSource", "IngressRuleValue"}


@functools.cache
def definitions() -> dict[str, Any]:
    resource = importlib.resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", OPENAPI_VERSION, "_definitions.json"
    )
    defs: dict[str, Any] = orjson.loads(resource.read_bytes())["$defs"]
    return defs


def _table_messages() -> list[tuple[str, str]]:
    """(message, OpenAPI definition) for every message of the per-group tables."""
    out = []
    for module, prefix in PREFIXES.items():
        table = next(v for k, v in vars(module).items() if k.isupper() and isinstance(v, dict))
        for name in table:
            if name not in NO_DEFINITION:
                out.append((name, prefix + name.rsplit(".", 1)[-1]))
    return out


def _json_names(message: str) -> set[str]:
    names: set[str] = set()
    for field in MESSAGES[message].fields.values():
        names |= _json_names(field.message) if field.presence == T.INLINE else {field.json}
    return names


def _fields(message: str) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for field in MESSAGES[message].fields.values():
        out |= _fields(field.message) if field.presence == T.INLINE else {field.json: field}
    return out


def _openapi_shape(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "ref:" + prop["$ref"].rsplit(".", 1)[-1]
    if "allOf" in prop:
        return _openapi_shape(prop["allOf"][0])
    kinds = prop.get("type", [])
    kind = next(k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null")
    if kind == "array":
        return "array:" + _openapi_shape(prop["items"])
    if kind == "object":
        return "map:" + _openapi_shape(prop["additionalProperties"])
    if kind == "string":
        return "byte" if prop.get("format") == "byte" else "string"
    if kind == "integer":
        return str(prop.get("format", "int64"))
    return str(kind)


_SCALARS = {T.STR: "string", T.BYTES: "byte", T.INT: "int64", T.I32: "int32", T.BOOL: "boolean"}


def _our_shape(field: Field) -> str:
    if field.kind == T.MSG:
        # ExtraValue is a wrapper message on the wire and a bare list in JSON.
        base = "array:string" if field.message == "ExtraValue" else "ref:" + field.message.rsplit(".", 1)[-1]
    else:
        base = _SCALARS[field.kind]
    if field.map:
        return "map:" + base
    return "array:" + base if field.repeated else base


@pytest.mark.parametrize(("message", "definition"), _table_messages())
def test_each_message_has_exactly_the_fields_of_its_openapi_definition(message: str, definition: str) -> None:
    properties = definitions()[definition]["properties"]
    expected = set(properties)
    if "x-kubernetes-group-version-kind" in definitions()[definition]:
        expected -= {"apiVersion", "kind"}  # top-level kinds: these come from the envelope
    assert _json_names(message) == expected
    for name, field in _fields(message).items():
        assert _our_shape(field) == _openapi_shape(properties[name]), f"{message}.{name}"


def test_every_table_message_is_reachable_from_a_kind() -> None:
    seen: set[str] = set()
    todo = [*KINDS.values(), "DeleteOptions", "Unknown"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(f.message for f in MESSAGES[name].fields.values() if f.message)
    assert set(MESSAGES) - seen == set()


def test_the_tables_cover_every_kind_listed_in_kinds() -> None:
    for (api_version, kind), message in KINDS.items():
        group_version = api_version.replace(".k8s.io", "").replace("rbac.authorization", "rbac")
        group, _, version = group_version.rpartition("/")
        prefix = f"io.k8s.api.{group or 'core'}.{version}."
        gvks = definitions()[prefix + kind].get("x-kubernetes-group-version-kind", [])
        assert any(g["kind"] == kind and g["version"] == version for g in gvks), (api_version, kind, message)


def test_every_table_module_is_checked() -> None:
    modules = {m for m in vars(tables).values() if isinstance(m, ModuleType) and m.__name__.startswith(tables.__name__)}
    assert modules - set(PREFIXES) == {tables.special}
