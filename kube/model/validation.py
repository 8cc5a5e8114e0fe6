"""Semantic validation of built-in kinds: every rule the API server enforces, at once.

``validate`` runs three layers, in the order their messages appear:

1. ``metadata`` — ``kube.meta.validate_object_meta`` with the kind's name rule (most
   kinds want a DNS-1123 subdomain, namespaces a DNS-1123 label, services a DNS-1035
   label) and, on update, ``validate_object_meta_update``;
2. required fields — from the schema's ``required`` lists, so ``containers[0].name``
   is reported wherever a container appears, without a hand-kept list;
3. the kind's own rules (``validate_pod``, ``validate_apps``, ...) and, on update, its
   immutability rules.

Objects must have passed ``check_structure`` (types are right; optional fields may be
missing or null). Kinds without a built-in schema (custom resources) get no errors
here; their schema lives in their CustomResourceDefinition and is checked elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from kube.errors import FieldError, required
from kube.meta import validate_object_meta, validate_object_meta_update
from kube.model import checks, validate_apps, validate_batch, validate_core, validate_misc
from kube.model.checks import Obj
from kube.model.schema import CUSTOM_DEFINITION, JSONType, SchemaNode, node_for_api_version
from kube.model.validate_pod import validate_pod_spec, validate_pod_template
from kube.model.validate_pod_update import validate_pod_update
from kube.resources import default_registry

Rule = Callable[[Obj], list[FieldError]]
UpdateRule = Callable[[Obj, Obj], list[FieldError]]

_REGISTRY = default_registry()
# Scope of the built-in kinds the resource registry does not serve (yet); the schema
# itself does not say. Everything else is namespaced.
_CLUSTER_SCOPED = frozenset({
    "APIService", "CSIDriver", "CSINode", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding",
    "ClusterTrustBundle", "ComponentStatus", "CustomResourceDefinition", "DeviceClass", "FlowSchema", "IPAddress",
    "IngressClass", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration",
    "Namespace", "Node", "PersistentVolume", "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass",
    "SelfSubjectAccessReview", "SelfSubjectReview", "SelfSubjectRulesReview", "ServiceCIDR", "StorageClass",
    "StorageVersion", "StorageVersionMigration", "SubjectAccessReview", "TokenReview", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration", "VolumeAttachment", "VolumeAttributesClass",
})  # fmt: skip


def _path_segment(name: str) -> list[str]:
    """RBAC objects are named like URL path segments (``system:node`` is valid), as
    Kubernetes' ``ValidateRBACName``."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


_NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "Namespace": checks.dns1123_label,
    "Service": checks.dns1035_label,
    "Role": _path_segment,
    "ClusterRole": _path_segment,
    "RoleBinding": _path_segment,
    "ClusterRoleBinding": _path_segment,
}


def validate(obj: Obj, *, old: Obj | None = None) -> list[FieldError]:
    """Every semantic problem of ``obj`` (a create, or an update of ``old``)."""
    return _validate(obj, old, missing=None)


def validate_semantics(obj: Obj, *, old: Obj | None = None, missing: list[FieldError]) -> list[FieldError]:
    """``validate`` for callers that already know the missing required fields (from
    ``check_structure``'s ``StructureResult.missing``): those are listed in their
    place, after the metadata problems, instead of being looked for again."""
    return _validate(obj, old, missing=missing)


def _validate(obj: Obj, old: Obj | None, *, missing: list[FieldError] | None) -> list[FieldError]:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []
    node = node_for_api_version(api_version=api_version, kind=kind)
    if node is None or node.definition == CUSTOM_DEFINITION:
        return []
    obj = without_nulls(obj)
    old = without_nulls(old) if old is not None else None
    errors = _metadata(obj, old, api_version=api_version, kind=kind)
    errors += required_fields(obj, node) if missing is None else missing
    return errors + _kind_rules(obj, old, api_version=api_version, kind=kind)


def _kind_rules(obj: Obj, old: Obj | None, *, api_version: str, kind: str) -> list[FieldError]:
    errors: list[FieldError] = []
    rule = _RULES.get((api_version, kind))
    if rule is not None:
        errors += rule(obj)
    if old is not None:
        update_rule = _UPDATE_RULES.get((api_version, kind))
        if update_rule is not None:
            errors += update_rule(obj, old)
    return errors


def _metadata(obj: Obj, old: Obj | None, *, api_version: str, kind: str) -> list[FieldError]:
    namespaced = _namespaced(api_version, kind)
    meta = checks.obj(obj.get("metadata"))
    errors = validate_object_meta(
        meta, namespaced=namespaced, name_check=_NAME_RULES.get(kind, checks.dns1123_subdomain)
    )
    if old is not None:
        errors += validate_object_meta_update(meta, checks.obj(old.get("metadata")), "metadata")
    return errors


_SCOPES: dict[tuple[str, str, int], bool] = {}


def _namespaced(api_version: str, kind: str) -> bool:
    """Whether ``kind`` is namespaced; remembered per registry generation, as the
    registry's lookup by kind is a scan of every resource."""
    cache_key = (api_version, kind, _REGISTRY.generation)
    found = _SCOPES.get(cache_key)
    if found is None:
        info = _REGISTRY.by_api_version_kind(api_version=api_version, kind=kind)
        found = _SCOPES[cache_key] = info.namespaced if info is not None else kind not in _CLUSTER_SCOPED
    return found


def without_nulls(value: Obj) -> Obj:
    """``value`` itself when it holds no JSON null, else a copy without null fields.

    Null means "unset" for a field, so validating the copy gives exactly Go's
    semantics, and no rule has to guard against None where the schema promises a type.
    """
    try:
        if b"null" not in orjson.dumps(value):
            return value
    except TypeError:
        pass  # an integer orjson cannot encode; look the slow way
    stripped = _strip(value)
    return stripped if isinstance(stripped, dict) else value


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


# -- required fields -------------------------------------------------------------------

_WORTH: dict[int, bool] = {}
"""id(node) → whether anything at or below it is required (nodes live forever)."""
_PLANS: dict[int, dict[str, tuple[SchemaNode, int, SchemaNode | None]]] = {}
"""id(node) → field → (node, shape, element node), for the fields worth descending into."""
_OBJECT, _LIST, _MAP, _OTHER = range(4)

# The walk visits most of an object, so paths are built only when a field is missing:
# a path is () at the root or (parent, segment), where a segment is a field name, a
# list index (int) or a map key (a 1-tuple).
Path = tuple[Any, ...]


def render_path(path: Path) -> str:
    segments = []
    while path:
        path, segment = path
        segments.append(segment)
    out = ""
    for segment in reversed(segments):
        if type(segment) is int:
            out += f"[{segment}]"
        elif type(segment) is tuple:
            out += f"[{segment[0]}]"
        else:
            out += f".{segment}" if out else str(segment)
    return out


def _worth_walking(node: SchemaNode, visiting: frozenset[int] = frozenset()) -> bool:
    known = _WORTH.get(id(node))
    if known is not None:
        return known
    if id(node) in visiting:
        return True  # a recursive type: walking it is merely slower, never wrong
    inside = visiting | {id(node)}
    answer = bool(node.required) or any(
        _worth_walking(child, inside)
        for child in (*node.properties.values(), node.items, node.values)
        if child is not None
    )
    _WORTH[id(node)] = answer
    return answer


def _shape(node: SchemaNode) -> tuple[int, SchemaNode | None]:
    """How the walk steps into a field: an object, a list or map of objects, or else."""
    if node.type is JSONType.OBJECT and node.values is None:
        return _OBJECT, None
    element = node.items if node.type is JSONType.ARRAY else node.values
    if element is not None and element.type is JSONType.OBJECT and element.values is None:
        return (_LIST if node.type is JSONType.ARRAY else _MAP), element
    return _OTHER, None


def _plan(node: SchemaNode) -> dict[str, tuple[SchemaNode, int, SchemaNode | None]]:
    plan = _PLANS.get(id(node))
    if plan is None:
        plan = _PLANS[id(node)] = {
            k: (c, *_shape(c)) for k, c in node.properties.items() if _worth_walking(c)
        }
    return plan


def required_fields(value: Obj, node: SchemaNode) -> list[FieldError]:
    """``Required value`` for every field the schema requires that is missing or null."""
    errors: list[FieldError] = []
    _required(value, node, (), errors)
    if value.get("spec") is None and "spec" in node.properties:
        # A kind's spec is a Go value, never absent: what it requires is missing.
        errors += [required(f"spec.{name}") for name in node.properties["spec"].required]
    return errors


def _required(value: Obj, node: SchemaNode, path: Path, errors: list[FieldError]) -> None:
    for name in node.required:
        if value.get(name) is None:
            errors.append(required(render_path((path, name))))
    plan = _PLANS.get(id(node)) or _plan(node)
    for key, item in value.items():
        step = plan.get(key)
        if step is None or item is None:
            continue
        child, shape, element = step
        if shape == _OBJECT:
            if type(item) is dict:
                _required(item, child, (path, key), errors)
        elif shape == _LIST and element is not None:
            if type(item) is list:
                here = (path, key)
                for index, entry in enumerate(item):
                    if type(entry) is dict:
                        _required(entry, element, (here, index), errors)
        elif shape == _MAP and element is not None:
            if type(item) is dict:
                here = (path, key)
                for name, entry in item.items():
                    if type(entry) is dict:
                        _required(entry, element, (here, (name,)), errors)
        else:
            _descend(item, child, (path, key), errors)


def _descend(item: Any, node: SchemaNode, path: Path, errors: list[FieldError]) -> None:
    if node.type is JSONType.ARRAY and isinstance(item, list) and node.items is not None:
        for index, element in enumerate(item):
            _descend(element, node.items, (path, index), errors)
    elif node.type is JSONType.OBJECT and isinstance(item, dict):
        if node.values is not None:
            for key, element in item.items():
                _descend(element, node.values, (path, (key,)), errors)
        else:
            _required(item, node, path, errors)


# -- per-kind rules --------------------------------------------------------------------


def validate_pod(pod: Obj) -> list[FieldError]:
    spec = pod.get("spec")
    return validate_pod_spec(spec, "spec", pod=True) if isinstance(spec, dict) else []


def _pod_template(template_obj: Obj) -> list[FieldError]:
    template = template_obj.get("template")
    return validate_pod_template(template, "template") if isinstance(template, dict) else []


_RULES: dict[tuple[str, str], Rule] = {
    ("v1", "Pod"): validate_pod,
    ("v1", "PodTemplate"): _pod_template,
    ("v1", "Service"): validate_core.validate_service,
    ("v1", "ConfigMap"): validate_core.validate_config_map,
    ("v1", "Secret"): validate_core.validate_secret,
    ("v1", "Namespace"): validate_core.validate_namespace,
    ("v1", "Node"): validate_core.validate_node,
    ("v1", "Event"): validate_core.validate_event,
    ("apps/v1", "Deployment"): validate_apps.validate_deployment,
    ("apps/v1", "ReplicaSet"): validate_apps.validate_replica_set,
    ("apps/v1", "DaemonSet"): validate_apps.validate_daemon_set,
    ("apps/v1", "StatefulSet"): validate_apps.validate_stateful_set,
    ("batch/v1", "Job"): validate_batch.validate_job,
    ("batch/v1", "CronJob"): validate_batch.validate_cron_job,
    ("coordination.k8s.io/v1", "Lease"): validate_misc.validate_lease,
    ("scheduling.k8s.io/v1", "PriorityClass"): validate_misc.validate_priority_class,
    ("policy/v1", "PodDisruptionBudget"): validate_misc.validate_pod_disruption_budget,
    ("rbac.authorization.k8s.io/v1", "Role"): validate_misc.validate_role,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): validate_misc.validate_cluster_role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): validate_misc.validate_role_binding,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): validate_misc.validate_cluster_role_binding,
}

_UPDATE_RULES: dict[tuple[str, str], UpdateRule] = {
    ("v1", "Pod"): validate_pod_update,
    ("v1", "Service"): validate_core.validate_service_update,
    ("v1", "ConfigMap"): validate_core.validate_config_map_update,
    ("v1", "Secret"): validate_core.validate_secret_update,
    ("v1", "Node"): validate_core.validate_node_update,
    ("apps/v1", "Deployment"): validate_apps.validate_selector_update,
    ("apps/v1", "ReplicaSet"): validate_apps.validate_selector_update,
    ("apps/v1", "DaemonSet"): validate_apps.validate_selector_update,
    ("apps/v1", "StatefulSet"): validate_apps.validate_stateful_set_update,
    ("batch/v1", "Job"): validate_batch.validate_job_update,
    ("scheduling.k8s.io/v1", "PriorityClass"): validate_misc.validate_priority_class_update,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): validate_misc.validate_binding_update,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): validate_misc.validate_binding_update,
}
