"""The discovery documents, built from the registry: legacy and aggregated forms.

Pure functions of a ``Registry``; ``http`` caches and serves them. The facts that are
not in the registry (what each kind of subresource accepts and answers, the order of
groups and versions) are Kubernetes' own, kept here so that our answers read the same
as kube-apiserver's.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from apiserver.negotiation import parse_accept
from kube.resources import Registry, ResourceInfo

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")

# kube-aggregator orders built-in groups by a fixed priority, and clients resolve a
# resource name found in two groups (``events``) to the earlier one, so we keep that
# order. Groups not listed (custom resources) follow, alphabetically.
GROUP_ORDER = (
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "resource.k8s.io",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _SubresourceFacts:
    verbs: tuple[str, ...]
    kind_gv: tuple[str, str] | None = None
    """Group and version of the kind answered, when not the parent's (``scale`` answers
    ``autoscaling/v1`` Scale for any workload)."""
    kind: str = ""


# What each known subresource accepts and answers, as Kubernetes declares it. The kind
# otherwise comes from ``ResourceInfo.subresource_kinds`` or is the parent's own kind
# (``pods/status`` and ``pods/log`` both answer Pod).
SUBRESOURCES: dict[str, _SubresourceFacts] = {
    "status": _SubresourceFacts(verbs=("get", "patch", "update")),
    "scale": _SubresourceFacts(verbs=("get", "patch", "update"), kind_gv=("autoscaling", "v1"), kind="Scale"),
    "binding": _SubresourceFacts(verbs=("create",)),
    "eviction": _SubresourceFacts(verbs=("create",), kind_gv=("policy", "v1"), kind="Eviction"),
    "log": _SubresourceFacts(verbs=("get",)),
    "finalize": _SubresourceFacts(verbs=("update",)),
    "exec": _SubresourceFacts(verbs=("create", "get")),
    "attach": _SubresourceFacts(verbs=("create", "get")),
    "portforward": _SubresourceFacts(verbs=("create", "get")),
    "proxy": _SubresourceFacts(verbs=("create", "delete", "get", "patch", "update")),
    "ephemeralcontainers": _SubresourceFacts(verbs=("get", "patch", "update")),
    "resize": _SubresourceFacts(verbs=("get", "patch", "update")),
    "token": _SubresourceFacts(
        verbs=("create",), kind_gv=("authentication.k8s.io", "v1"), kind="TokenRequest"
    ),
}
_OTHER_SUBRESOURCE = _SubresourceFacts(verbs=("get", "patch", "update"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Subresource:
    """One subresource of a served resource, resolved to what discovery reports."""

    name: str
    group: str
    version: str
    kind: str
    verbs: tuple[str, ...]


def subresources_of(info: ResourceInfo) -> list[Subresource]:
    """The subresources of ``info`` in name order, with their kinds and verbs."""
    out = []
    for name in sorted(info.subresources):
        facts = SUBRESOURCES.get(name, _OTHER_SUBRESOURCE)
        group, version = facts.kind_gv or (info.group, info.version)
        kind = facts.kind or info.subresource_kinds.get(name) or info.kind
        out.append(Subresource(name=name, group=group, version=version, kind=kind, verbs=facts.verbs))
    return out


_KUBE_VERSION = re.compile(r"v(\d+)(?:(alpha|beta)(\d+))?")


def version_order(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes' order: GA before beta before alpha, newer
    first (v2, v1, v1beta2, v1beta1, v1alpha1), then non-Kubernetes names alphabetically."""
    match = _KUBE_VERSION.fullmatch(version)
    if match is None:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[match[2]]
    return (stage, -int(match[1]), -int(match[3] or 0), "")


def _group_order(group: str) -> tuple[int, str]:
    try:
        return (GROUP_ORDER.index(group), "")
    except ValueError:
        return (len(GROUP_ORDER), group)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Group:
    name: str
    versions: tuple[str, ...]
    """Preferred version first."""
    resources: dict[str, list[ResourceInfo]]
    """Version → resources in name order."""


def _groups(registry: Registry) -> list[_Group]:
    by_group: dict[str, dict[str, list[ResourceInfo]]] = {}
    preferred: dict[str, str] = {}
    for info in registry:
        by_group.setdefault(info.group, {}).setdefault(info.version, []).append(info)
        if info.preferred:
            current = preferred.get(info.group)
            if current is None or version_order(info.version) < version_order(current):
                preferred[info.group] = info.version
    out = []
    for name in sorted(by_group, key=_group_order):
        versions = sorted(by_group[name], key=version_order)
        first = preferred.get(name, versions[0])
        ordered = (first, *(v for v in versions if v != first))
        resources = {v: sorted(by_group[name][v], key=lambda i: i.resource) for v in ordered}
        out.append(_Group(name=name, versions=ordered, resources=resources))
    return out


def _group_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def storage_version_hash(*, group: str, version: str, kind: str) -> str:
    """Kubernetes' ``storageVersionHash``: an opaque token that changes when the storage
    version does (the storage version migrator watches it). Same formula as upstream."""
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


# --- legacy documents ------------------------------------------------------------------


def api_versions(*, server_address: str = "") -> dict[str, Any]:
    """``/api``: the legacy core group's versions. ``server_address`` is where clients
    reach us (kube-apiserver reports its advertise address for every client network)."""
    doc: dict[str, Any] = {"kind": "APIVersions", "versions": ["v1"]}
    if server_address:
        doc["serverAddressByClientCIDRs"] = [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    return doc


def _api_group(group: _Group) -> dict[str, Any]:
    versions = [{"groupVersion": _group_version(group.name, v), "version": v} for v in group.versions]
    return {"name": group.name, "versions": versions, "preferredVersion": versions[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    """``/apis``: every named group with its versions, preferred first."""
    groups = [_api_group(g) for g in _groups(registry) if g.name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    """``/apis/<group>``, or None when no resource of that group is served."""
    for found in _groups(registry):
        if found.name == group and group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_api_group(found)}
    return None


def _legacy_resource(info: ResourceInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": info.resource,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    if info.stored:
        entry["storageVersionHash"] = storage_version_hash(
            group=info.group, version=info.version, kind=info.kind
        )
    return entry


def _legacy_subresource(info: ResourceInfo, sub: Subresource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"{info.resource}/{sub.name}",
        "singularName": "",
        "namespaced": info.namespaced,
    }
    # group/version appear only when the subresource answers a kind of another group.
    if (sub.group, sub.version) != (info.group, info.version):
        entry["group"], entry["version"] = sub.group, sub.version
    entry["kind"] = sub.kind
    entry["verbs"] = list(sub.verbs)
    return entry


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """``/api/v1`` or ``/apis/<group>/<version>``, or None when nothing is served there."""
    infos = sorted(
        (i for i in registry if i.group == group and i.version == version), key=lambda i: i.resource
    )
    if not infos:
        return None
    resources: list[dict[str, Any]] = []
    for info in infos:
        resources.append(_legacy_resource(info))
        resources.extend(_legacy_subresource(info, sub) for sub in subresources_of(info))
    doc: dict[str, Any] = {"kind": "APIResourceList"}
    if group:
        # kube-apiserver omits apiVersion on the core group's list only.
        doc["apiVersion"] = "v1"
    doc["groupVersion"] = _group_version(group, version)
    doc["resources"] = resources
    return doc


# --- aggregated documents --------------------------------------------------------------


def _kind_ref(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def _aggregated_resource(info: ResourceInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": info.resource,
        "responseKind": _kind_ref(info.group, info.version, info.kind),
        "scope": "Namespaced" if info.namespaced else "Cluster",
        "singularResource": info.singular,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    subs = [
        {"subresource": s.name, "responseKind": _kind_ref(s.group, s.version, s.kind), "verbs": list(s.verbs)}
        for s in subresources_of(info)
    ]
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(registry: Registry, version: str = "v2", *, core: bool = False) -> dict[str, Any]:
    """The ``APIGroupDiscoveryList`` of ``/apis`` (every named group), or of ``/api``
    (the core group) when ``core``. ``version`` is the apidiscovery version asked for;
    v2 and v2beta1 have the same shape."""
    if version not in AGGREGATED_VERSIONS:
        raise ValueError(f"unknown apidiscovery version {version!r}")
    items = []
    for group in _groups(registry):
        if (group.name == "") != core:
            continue
        metadata: dict[str, Any] = {"name": group.name} if group.name else {}
        metadata["creationTimestamp"] = None
        versions = [
            {
                "version": v,
                "resources": [_aggregated_resource(i) for i in group.resources[v]],
                "freshness": "Current",
            }
            for v in group.versions
        ]
        items.append({"metadata": metadata, "versions": versions})
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }


def aggregated_content_type(version: str) -> str:
    """The Content-Type by which clients recognise an aggregated answer."""
    return f"application/json;g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


def wanted_aggregated_version(accept: str) -> str | None:
    """The apidiscovery version the Accept header prefers, or None for the legacy form.

    Discovery is always answered in JSON (every client reads it), so only the ``as``
    parameters decide: the first acceptable entry that asks for an aggregated list we
    serve wins, and a plain entry listed before it means the legacy document.
    """
    for rng in parse_accept(accept):
        if rng.params.get("as") == AGGREGATED_KIND:
            if rng.params.get("g") == AGGREGATED_GROUP and rng.params.get("v") in AGGREGATED_VERSIONS:
                return rng.params["v"]
            continue
        if rng.media_type in ("application/json", "application/*", "*/*"):
            return None
    return None
