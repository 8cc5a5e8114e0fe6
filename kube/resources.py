"""The resource registry: kind ↔ resource ↔ group/version ↔ scope ↔ short names.

One table answers every "what is this thing called" question: the API server routes
``/apis/apps/v1/namespaces/x/deployments`` with it and builds discovery from it, clients
turn ``kubectl get deploy`` into a path with it, and storage keys use the plural
resource name. Entries mirror what ``kubectl api-resources`` prints for a real cluster.
Custom resources are added at run time with ``Registry.add``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupVersionKind:
    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    resource: str
    """The plural, lower-case name used in URLs and storage keys (``deployments``)."""
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    subresources: tuple[str, ...] = ()
    stored: bool = True
    """False for virtual kinds (reviews, bindings) that are answered, not stored."""
    preferred: bool = True
    """The preferred version of its group (discovery lists it first)."""
    subresource_kinds: dict[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def gvk(self) -> GroupVersionKind:
        return GroupVersionKind(group=self.group, version=self.version, kind=self.kind)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def group_resource(self) -> str:
        """``deployments.apps``; ``pods`` for the core group (as in error messages)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def path(self, *, namespace: str = "", name: str = "", subresource: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.resource}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base


def _r(
    group: str,
    version: str,
    kind: str,
    resource: str,
    *,
    namespaced: bool,
    short: tuple[str, ...] = (),
    cats: tuple[str, ...] = (),
    verbs: tuple[str, ...] = STANDARD_VERBS,
    sub: tuple[str, ...] = (),
    stored: bool = True,
    sub_kinds: dict[str, str] | None = None,
) -> ResourceInfo:
    return ResourceInfo(
        group=group,
        version=version,
        kind=kind,
        resource=resource,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        categories=cats,
        verbs=verbs,
        subresources=sub,
        stored=stored,
        subresource_kinds=sub_kinds or {},
    )


_SCALE = {"scale": "Scale"}
_ALL = ("all",)

BUILTIN: tuple[ResourceInfo, ...] = (
    # core/v1
    _r(
        "",
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        short=("ns",),
        # Namespaces are deleted one at a time (no deletecollection), as kubectl api-resources shows.
        verbs=tuple(v for v in STANDARD_VERBS if v != "deletecollection"),
        sub=("status", "finalize"),
    ),
    _r(
        "",
        "v1",
        "Pod",
        "pods",
        namespaced=True,
        short=("po",),
        cats=_ALL,
        sub=("status", "binding", "log", "eviction"),
        sub_kinds={"binding": "Binding", "eviction": "Eviction", "log": ""},
    ),
    _r("", "v1", "Binding", "bindings", namespaced=True, verbs=CREATE_ONLY, stored=False),
    _r("", "v1", "Node", "nodes", namespaced=False, short=("no",), sub=("status",)),
    _r("", "v1", "Service", "services", namespaced=True, short=("svc",), cats=_ALL, sub=("status",)),
    _r("", "v1", "Endpoints", "endpoints", namespaced=True, short=("ep",)),
    _r("", "v1", "ConfigMap", "configmaps", namespaced=True, short=("cm",)),
    _r("", "v1", "Secret", "secrets", namespaced=True),
    _r("", "v1", "ServiceAccount", "serviceaccounts", namespaced=True, short=("sa",)),
    _r("", "v1", "Event", "events", namespaced=True, short=("ev",)),
    _r("", "v1", "LimitRange", "limitranges", namespaced=True, short=("limits",)),
    _r("", "v1", "ResourceQuota", "resourcequotas", namespaced=True, short=("quota",), sub=("status",)),
    # apps/v1
    _r(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        namespaced=True,
        short=("deploy",),
        cats=_ALL,
        sub=("status", "scale"),
        sub_kinds=_SCALE,
    ),
    _r(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        namespaced=True,
        short=("rs",),
        cats=_ALL,
        sub=("status", "scale"),
        sub_kinds=_SCALE,
    ),
    _r("apps", "v1", "DaemonSet", "daemonsets", namespaced=True, short=("ds",), cats=_ALL, sub=("status",)),
    # batch/v1
    _r("batch", "v1", "Job", "jobs", namespaced=True, cats=_ALL, sub=("status",)),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "Lease", "leases", namespaced=True),
    # scheduling.k8s.io/v1
    _r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced=False, short=("pc",)),
    # policy/v1
    _r(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        namespaced=True,
        short=("pdb",),
        sub=("status",),
    ),
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles", namespaced=True),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", namespaced=True),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    # authorization.k8s.io/v1: answered, never stored
    _r(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        namespaced=False,
        verbs=CREATE_ONLY,
        stored=False,
    ),
    _r(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        namespaced=False,
        verbs=CREATE_ONLY,
        stored=False,
    ),
    _r(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        namespaced=False,
        verbs=CREATE_ONLY,
        stored=False,
    ),
    _r(
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        namespaced=True,
        verbs=CREATE_ONLY,
        stored=False,
    ),
    # apiextensions.k8s.io/v1
    _r(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        sub=("status",),
    ),
)


class Registry:
    """Lookup of served resources by any of their names. Thread-safe for the run-time
    additions and removals that CustomResourceDefinitions make."""

    def __init__(self, infos: Iterable[ResourceInfo] = BUILTIN) -> None:
        self._lock = threading.Lock()
        self._by_gvr: dict[tuple[str, str, str], ResourceInfo] = {}
        self.generation = 0
        """Bumped by every ``add`` and ``remove``: documents built from the registry
        (discovery, OpenAPI) are cached until it changes."""
        for info in infos:
            self.add(info)

    def add(self, info: ResourceInfo) -> None:
        with self._lock:
            self._by_gvr[(info.group, info.version, info.resource)] = info
            self.generation += 1

    def remove(self, *, group: str, version: str, resource: str) -> None:
        with self._lock:
            if self._by_gvr.pop((group, version, resource), None) is not None:
                self.generation += 1

    def __iter__(self) -> Iterator[ResourceInfo]:
        with self._lock:
            return iter(list(self._by_gvr.values()))

    def get(self, *, group: str, version: str, resource: str) -> ResourceInfo | None:
        return self._by_gvr.get((group, version, resource))

    def by_kind(self, *, group: str, version: str, kind: str) -> ResourceInfo | None:
        for info in self:
            if info.group == group and info.version == version and info.kind == kind:
                return info
        return None

    def by_api_version_kind(self, *, api_version: str, kind: str) -> ResourceInfo | None:
        group, _, version = api_version.rpartition("/")
        return self.by_kind(group=group, version=version, kind=kind)

    def lookup(self, name: str) -> list[ResourceInfo]:
        """Every resource a user may mean by ``name``: plural, singular, short name or kind,
        optionally qualified by group (``deploy``, ``deployments.apps``, ``Deployment``)."""
        lowered = name.lower()
        base, _, group = lowered.partition(".")
        found: list[ResourceInfo] = []
        for info in self:
            if group and info.group != group and not info.group.startswith(group + "."):
                continue
            names = {info.resource, info.singular, info.kind.lower(), *info.short_names}
            if base in names:
                found.append(info)
        return found

    def groups(self) -> dict[str, list[str]]:
        """Group name → served versions (the core group is ``""``)."""
        out: dict[str, list[str]] = {}
        for info in self:
            versions = out.setdefault(info.group, [])
            if info.version not in versions:
                versions.append(info.version)
        return out


def default_registry() -> Registry:
    return Registry(BUILTIN)
