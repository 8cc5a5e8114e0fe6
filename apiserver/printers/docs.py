"""Column descriptions for server-side Tables, read from the Kubernetes schema.

kube-apiserver fills ``columnDefinitions[].description`` from its Go types'
``SwaggerDoc()`` strings, which are the OpenAPI field descriptions. So a column names the
field it shows, and its description is looked up in the 1.33 definitions that
``kube.model.schema`` loads (the same schema validation and ``/openapi`` use): one load
on first use, a cached lookup afterwards, and the text kubectl receives is exactly the
real server's without a copy here that could drift.

``FIELD_DOCS`` maps ``<group>.<version>.<Type>.<field>`` (``meta.v1.ObjectMeta.name``)
to the description; it knows only the fields below, which are the ones printers use.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

from kube.model.schema import definitions

# Type → the fields whose descriptions printers show as column descriptions.
_FIELDS: dict[str, tuple[str, ...]] = {
    "meta.v1.ObjectMeta": ("name", "creationTimestamp"),
    "core.v1.PodStatus": ("podIP", "nominatedNodeName"),
    "core.v1.PodSpec": ("nodeName", "readinessGates", "nodeSelector"),
    "core.v1.NodeSystemInfo": ("kubeletVersion", "osImage", "kernelVersion", "containerRuntimeVersion"),
    "core.v1.NodeStatus": ("addresses",),
    "core.v1.ServiceSpec": ("type", "clusterIP", "externalIPs", "ports", "selector"),
    "core.v1.Endpoints": ("subsets",),
    "core.v1.Event": (
        "lastTimestamp",
        "type",
        "reason",
        "involvedObject",
        "source",
        "message",
        "firstTimestamp",
        "count",
    ),
    "core.v1.ObjectReference": ("fieldPath",),
    "core.v1.Secret": ("type", "data"),
    "core.v1.ServiceAccount": ("secrets",),
    "core.v1.ConfigMap": ("data",),
    "apps.v1.ReplicaSetSpec": ("replicas", "selector"),
    "apps.v1.ReplicaSetStatus": ("replicas", "readyReplicas"),
    "apps.v1.DaemonSetStatus": (
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    ),
    "apps.v1.DaemonSetSpec": ("selector",),
    "apps.v1.DeploymentStatus": ("updatedReplicas", "availableReplicas"),
    "apps.v1.DeploymentSpec": ("selector",),
    "batch.v1.JobStatus": ("succeeded",),
    "batch.v1.JobSpec": ("selector",),
    "coordination.v1.LeaseSpec": ("holderIdentity",),
    "scheduling.v1.PriorityClass": ("value", "globalDefault", "preemptionPolicy"),
}


def _definition(type_name: str) -> str:
    # meta types live under apimachinery, every other group under io.k8s.api.
    prefix = "io.k8s.apimachinery.pkg.apis." if type_name.startswith("meta.") else "io.k8s.api."
    return prefix + type_name


@functools.cache
def describe(key: str) -> str:
    """The schema's description of field ``key`` (``core.v1.PodSpec.nodeName``); KeyError
    if the schema has no such field."""
    type_name, field = key.rsplit(".", 1)
    description: str = definitions()[_definition(type_name)]["properties"][field]["description"]
    return description


class _FieldDocs(Mapping[str, str]):
    """A read-only mapping whose values are looked up in the schema when first read."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = keys
        self._known = frozenset(keys)

    def __getitem__(self, key: str) -> str:
        if key not in self._known:
            raise KeyError(key)
        return describe(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


FIELD_DOCS: Mapping[str, str] = _FieldDocs(
    tuple(f"{type_name}.{field}" for type_name, fields in _FIELDS.items() for field in fields)
)


class _RBACv1beta1Docs(Mapping[str, str]):
    """``roleRef`` as rbac/v1beta1 described it, for the role binding printers.

    Kubernetes' printers still take ROLE's description from the v1beta1 types, which no
    shipped schema has any more. v1 describes the field with the same words plus one
    sentence, so the v1beta1 text is the v1 text without it.
    """

    _KINDS = ("RoleBinding", "ClusterRoleBinding")
    _ADDED_IN_V1 = " This field is immutable."

    def __getitem__(self, key: str) -> str:
        kind, _, field = key.partition(".")
        if kind not in self._KINDS or field != "roleRef":
            raise KeyError(key)
        return describe(f"rbac.v1.{kind}.roleRef").removesuffix(self._ADDED_IN_V1)

    def __iter__(self) -> Iterator[str]:
        return iter(f"{kind}.roleRef" for kind in self._KINDS)

    def __len__(self) -> int:
        return len(self._KINDS)


RBAC_V1BETA1_DOCS: Mapping[str, str] = _RBACv1beta1Docs()


def __getattr__(name: str) -> str:
    # NAME and CREATION_TIMESTAMP are module attributes, resolved on first access so
    # that importing this module never loads the schema by itself.
    if name == "NAME":
        return describe("meta.v1.ObjectMeta.name")
    if name == "CREATION_TIMESTAMP":
        return describe("meta.v1.ObjectMeta.creationTimestamp")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
