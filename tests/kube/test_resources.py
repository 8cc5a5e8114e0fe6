"""kube.resources: the registry answers what `kubectl api-resources` would."""

import threading

import pytest

from kube.resources import BUILTIN, STANDARD_VERBS, GroupVersionKind, Registry, ResourceInfo, default_registry

# NAME, SHORTNAMES, APIVERSION, NAMESPACED, KIND — as `kubectl api-resources` prints them.
API_RESOURCES = [
    ("namespaces", ("ns",), "v1", False, "Namespace"),
    ("pods", ("po",), "v1", True, "Pod"),
    ("bindings", (), "v1", True, "Binding"),
    ("nodes", ("no",), "v1", False, "Node"),
    ("services", ("svc",), "v1", True, "Service"),
    ("endpoints", ("ep",), "v1", True, "Endpoints"),
    ("configmaps", ("cm",), "v1", True, "ConfigMap"),
    ("secrets", (), "v1", True, "Secret"),
    ("serviceaccounts", ("sa",), "v1", True, "ServiceAccount"),
    ("events", ("ev",), "v1", True, "Event"),
    ("limitranges", ("limits",), "v1", True, "LimitRange"),
    ("resourcequotas", ("quota",), "v1", True, "ResourceQuota"),
    ("deployments", ("deploy",), "apps/v1", True, "Deployment"),
    ("replicasets", ("rs",), "apps/v1", True, "ReplicaSet"),
    ("daemonsets", ("ds",), "apps/v1", True, "DaemonSet"),
    ("jobs", (), "batch/v1", True, "Job"),
    ("leases", (), "coordination.k8s.io/v1", True, "Lease"),
    ("priorityclasses", ("pc",), "scheduling.k8s.io/v1", False, "PriorityClass"),
    ("poddisruptionbudgets", ("pdb",), "policy/v1", True, "PodDisruptionBudget"),
    ("roles", (), "rbac.authorization.k8s.io/v1", True, "Role"),
    ("rolebindings", (), "rbac.authorization.k8s.io/v1", True, "RoleBinding"),
    ("clusterroles", (), "rbac.authorization.k8s.io/v1", False, "ClusterRole"),
    ("clusterrolebindings", (), "rbac.authorization.k8s.io/v1", False, "ClusterRoleBinding"),
    ("selfsubjectaccessreviews", (), "authorization.k8s.io/v1", False, "SelfSubjectAccessReview"),
    ("selfsubjectrulesreviews", (), "authorization.k8s.io/v1", False, "SelfSubjectRulesReview"),
    ("subjectaccessreviews", (), "authorization.k8s.io/v1", False, "SubjectAccessReview"),
    ("localsubjectaccessreviews", (), "authorization.k8s.io/v1", True, "LocalSubjectAccessReview"),
    (
        "customresourcedefinitions",
        ("crd", "crds"),
        "apiextensions.k8s.io/v1",
        False,
        "CustomResourceDefinition",
    ),
]
IDS = [row[0] for row in API_RESOURCES]


def test_the_table_covers_every_builtin() -> None:
    assert sorted(info.resource for info in BUILTIN) == sorted(IDS)


@pytest.mark.parametrize(("resource", "short", "api_version", "namespaced", "kind"), API_RESOURCES, ids=IDS)
def test_api_resources_facts(
    resource: str, short: tuple[str, ...], api_version: str, namespaced: bool, kind: str
) -> None:
    registry = default_registry()
    group, _, version = api_version.rpartition("/")
    info = registry.get(group=group, version=version, resource=resource)
    assert info is not None
    assert (info.short_names, info.api_version, info.namespaced, info.kind) == (
        short,
        api_version,
        namespaced,
        kind,
    )
    assert info.singular == kind.lower()
    assert registry.by_kind(group=group, version=version, kind=kind) is info
    assert registry.by_api_version_kind(api_version=api_version, kind=kind) is info
    assert info.gvk == GroupVersionKind(group=group, version=version, kind=kind)
    assert info.list_kind == kind + "List"


@pytest.mark.parametrize(("resource", "short", "api_version", "namespaced", "kind"), API_RESOURCES, ids=IDS)
def test_every_name_resolves(
    resource: str, short: tuple[str, ...], api_version: str, namespaced: bool, kind: str
) -> None:
    registry = default_registry()
    group = api_version.rpartition("/")[0]
    names = [resource, kind.lower(), kind, resource.upper(), *short]
    if group:
        names += [f"{resource}.{group}", f"{kind}.{group}", f"{kind.lower()}.{group}"]
        names += [f"{s}.{group}" for s in short]
        names.append(f"{resource}.{group.split('.')[0]}")  # a leading part of the group is enough
    for name in names:
        found = registry.lookup(name)
        assert [(i.group, i.resource) for i in found] == [(group, resource)], name


def test_lookup_misses() -> None:
    registry = default_registry()
    assert registry.lookup("pod.apps") == []
    assert registry.lookup("deployments.batch") == []
    assert registry.lookup("nosuchthing") == []
    assert registry.lookup("deploy.ap") == []


def test_pod_facts() -> None:
    pods = default_registry().lookup("po")[0]
    assert (pods.group, pods.version, pods.namespaced) == ("", "v1", True)
    assert pods.categories == ("all",)
    assert {"status", "binding", "log", "eviction"} <= set(pods.subresources)
    assert pods.subresource_kinds["binding"] == "Binding"
    assert pods.verbs == STANDARD_VERBS
    assert pods.group_resource == "pods"
    assert pods.path(namespace="default") == "/api/v1/namespaces/default/pods"
    assert pods.path(namespace="default", name="web", subresource="status") == (
        "/api/v1/namespaces/default/pods/web/status"
    )


def test_deployment_facts() -> None:
    deploy = default_registry().lookup("deploy")[0]
    assert deploy.api_version == "apps/v1"
    assert set(deploy.subresources) == {"status", "scale"}
    assert deploy.subresource_kinds == {"scale": "Scale"}
    assert deploy.group_resource == "deployments.apps"
    assert deploy.path() == "/apis/apps/v1/deployments"
    assert deploy.path(namespace="prod", name="web", subresource="scale") == (
        "/apis/apps/v1/namespaces/prod/deployments/web/scale"
    )
    assert default_registry().lookup("rs")[0].subresource_kinds == {"scale": "Scale"}


def test_cluster_scoped_paths_ignore_namespace() -> None:
    nodes = default_registry().lookup("no")[0]
    assert nodes.path(namespace="ignored", name="n1") == "/api/v1/nodes/n1"


def test_verbs_and_storage() -> None:
    registry = default_registry()
    namespaces = registry.lookup("ns")[0]
    assert namespaces.verbs == ("create", "delete", "get", "list", "patch", "update", "watch")
    for virtual in (
        "bindings",
        "selfsubjectaccessreviews",
        "subjectaccessreviews",
        "localsubjectaccessreviews",
    ):
        info = registry.lookup(virtual)[0]
        assert info.verbs == ("create",) and not info.stored, virtual
    assert all(info.stored for info in registry if "get" in info.verbs)


def test_all_category() -> None:
    in_all = sorted(info.resource for info in default_registry() if "all" in info.categories)
    assert in_all == ["daemonsets", "deployments", "jobs", "pods", "replicasets", "services"]


def test_groups_and_versions() -> None:
    groups = default_registry().groups()
    assert groups[""] == ["v1"]
    assert groups["apps"] == ["v1"]
    assert set(groups) == {
        "",
        "apps",
        "batch",
        "coordination.k8s.io",
        "scheduling.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "authorization.k8s.io",
        "apiextensions.k8s.io",
    }


def test_custom_resources_come_and_go() -> None:
    registry = Registry()
    widget = ResourceInfo(
        group="example.com",
        version="v1",
        kind="Widget",
        resource="widgets",
        singular="widget",
        namespaced=True,
        short_names=("wd",),
    )
    registry.add(widget)
    assert registry.lookup("wd") == [widget]
    assert registry.lookup("widgets.example.com") == [widget]
    assert registry.by_api_version_kind(api_version="example.com/v1", kind="Widget") is widget
    assert widget.path(namespace="d", name="w") == "/apis/example.com/v1/namespaces/d/widgets/w"
    registry.remove(group="example.com", version="v1", resource="widgets")
    assert registry.lookup("wd") == []
    assert "example.com" not in registry.groups()


def test_registry_survives_concurrent_changes() -> None:
    registry = Registry()

    def churn(n: int) -> None:
        for i in range(200):
            info = ResourceInfo(
                group=f"g{n}.io",
                version="v1",
                kind=f"K{i}",
                resource=f"k{i}s",
                singular=f"k{i}",
                namespaced=True,
            )
            registry.add(info)
            list(registry)
            registry.remove(group=info.group, version="v1", resource=info.resource)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i.resource for i in registry) == sorted(IDS)
