"""The RBAC policy every cluster starts with, as Kubernetes' bootstrap policy defines it.

Each role allows what its component needs and nothing more, following the semantics of
kube-apiserver's ``bootstrappolicy`` (the user-facing roles, the component roles and
the per-controller roles), reduced to the resources this server serves plus the ones
those roles name for clients that may ask (``kubectl auth can-i`` answers for them too).

Bindings, as Kubernetes makes them:

- ``cluster-admin`` to the group ``system:masters``;
- ``system:basic-user`` (self access reviews) and ``system:discovery`` (/api, /apis,
  /openapi, /version) to every authenticated user; ``system:public-info-viewer``
  (/healthz, /livez, /readyz, /version) to authenticated *and* anonymous callers;
- ``system:kube-scheduler`` and ``system:kube-controller-manager`` to the users of
  those names (their client certificates' CN);
- ``system:node`` to nobody: nodes are authorized by the Node authorizer, which uses
  the same rules but only for a node's own objects;
- each ``system:controller:<name>`` role to the ``kube-system/<name>`` service
  account, which the controller manager uses per controller when it runs with
  service-account credentials (Kubernetes' ``--use-service-account-credentials``).

``admin``, ``edit`` and ``view`` carry no rules of their own: they aggregate every
ClusterRole labelled ``rbac.authorization.k8s.io/aggregate-to-<name>: "true"``
(``system:aggregate-to-*`` provide the defaults), so adding a CRD's permissions to
"edit" is one labelled ClusterRole.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

GROUP = "rbac.authorization.k8s.io"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
EVENTS = ["create", "patch", "update"]


def rule(verbs: list[str], *, groups: list[str] | None = None, resources: list[str] | None = None,
         names: list[str] | None = None, urls: list[str] | None = None) -> Obj:
    out: Obj = {"verbs": list(verbs)}
    if urls is not None:
        out["nonResourceURLs"] = list(urls)
        return out
    out["apiGroups"] = list(groups if groups is not None else [""])
    out["resources"] = list(resources or [])
    if names:
        out["resourceNames"] = list(names)
    return out


def _event_rule() -> Obj:
    return rule(EVENTS, groups=["", "events.k8s.io"], resources=["events"])


def cluster_role(name: str, rules: list[Obj], *, labels: dict[str, str] | None = None,
                 aggregate_from: str | None = None) -> Obj:
    obj: Obj = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {**BOOTSTRAP_LABEL, **(labels or {})},
            "annotations": {AUTOUPDATE: "true"},
        },
        "rules": rules,
    }
    if aggregate_from is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE_TO + aggregate_from: "true"}}]}
    return obj


def cluster_role_binding(name: str, *, role: str, subjects: list[Obj]) -> Obj:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": dict(BOOTSTRAP_LABEL), "annotations": {AUTOUPDATE: "true"}},
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    }


def group(name: str) -> Obj:
    return {"apiGroup": GROUP, "kind": "Group", "name": name}


def user(name: str) -> Obj:
    return {"apiGroup": GROUP, "kind": "User", "name": name}


def service_account(namespace: str, name: str) -> Obj:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def _aggregated_label(target: str) -> dict[str, str]:
    return {AGGREGATE_TO + target: "true"}


# -- roles for people ---------------------------------------------------------------------

VIEW_RULES = [
    rule(READ, resources=["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
                          "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                          "services", "services/status"]),
    rule(READ, resources=["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                          "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
    rule(READ, resources=["namespaces"]),
    rule(READ, groups=["discovery.k8s.io"], resources=["endpointslices"]),
    rule(READ, groups=["apps"], resources=["controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
                                           "deployments/scale", "deployments/status", "replicasets",
                                           "replicasets/scale", "replicasets/status", "statefulsets",
                                           "statefulsets/scale", "statefulsets/status"]),
    rule(READ, groups=["autoscaling"], resources=["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    rule(READ, groups=["batch"], resources=["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    rule(READ, groups=["policy"], resources=["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    rule(READ, groups=["networking.k8s.io"], resources=["ingresses", "ingresses/status", "networkpolicies"]),
]

EDIT_RULES = [
    rule(READ, resources=["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
    rule(["impersonate"], resources=["serviceaccounts"]),
    rule(WRITE, resources=["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
    rule(["create"], resources=["pods/eviction"]),
    rule(WRITE, resources=["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                           "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
                           "services/proxy"]),
    rule(["create"], resources=["serviceaccounts/token"]),
    rule(WRITE, groups=["apps"], resources=["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                                            "replicasets", "replicasets/scale", "statefulsets",
                                            "statefulsets/scale"]),
    rule(WRITE, groups=["autoscaling"], resources=["horizontalpodautoscalers"]),
    rule(WRITE, groups=["batch"], resources=["cronjobs", "jobs"]),
    rule(WRITE, groups=["policy"], resources=["poddisruptionbudgets"]),
    rule(WRITE, groups=["networking.k8s.io"], resources=["ingresses", "networkpolicies"]),
    rule(READ_WRITE, groups=["coordination.k8s.io"], resources=["leases"]),
]

ADMIN_RULES = [
    rule(["create"], groups=["authorization.k8s.io"], resources=["localsubjectaccessreviews"]),
    rule(READ_WRITE, groups=[GROUP], resources=["rolebindings", "roles"]),
    # Quota and limit ranges are the namespace admin's, as in Kubernetes' admin role.
    rule(WRITE, resources=["limitranges", "resourcequotas"]),
]

# -- roles for components -----------------------------------------------------------------

SCHEDULER_RULES = [
    _event_rule(),
    rule(["create"], groups=["coordination.k8s.io"], resources=["leases"]),
    rule(["get", "update"], groups=["coordination.k8s.io"], resources=["leases"], names=["kube-scheduler"]),
    rule(READ, resources=["nodes"]),
    rule(["delete", "get", "list", "watch"], resources=["pods"]),
    rule(["create"], resources=["bindings", "pods/binding"]),
    rule(["patch", "update"], resources=["pods/status"]),
    rule(READ, resources=["replicationcontrollers", "services"]),
    rule(READ, groups=["apps", "extensions"], resources=["replicasets"]),
    rule(READ, groups=["apps"], resources=["statefulsets"]),
    rule(READ, groups=["policy"], resources=["poddisruptionbudgets"]),
    rule(READ, resources=["persistentvolumeclaims", "persistentvolumes"]),
    rule(["create"], groups=["authentication.k8s.io"], resources=["tokenreviews"]),
    rule(["create"], groups=["authorization.k8s.io"], resources=["subjectaccessreviews"]),
    rule(READ, groups=["storage.k8s.io"], resources=["csinodes", "csidrivers", "csistoragecapacities"]),
    rule(READ, resources=["namespaces"]),
]

CONTROLLER_MANAGER_RULES = [
    _event_rule(),
    rule(["create"], groups=["coordination.k8s.io"], resources=["leases"]),
    rule(["get", "update"], groups=["coordination.k8s.io"], resources=["leases"], names=["kube-controller-manager"]),
    # What it needs to mint each controller's own credentials (service-account tokens).
    rule(["create"], resources=["secrets", "serviceaccounts"]),
    rule(["delete"], resources=["secrets"]),
    rule(["get"], resources=["configmaps", "namespaces", "secrets", "serviceaccounts"]),
    rule(["update"], resources=["secrets", "serviceaccounts"]),
    rule(["create"], groups=["authentication.k8s.io"], resources=["tokenreviews"]),
    rule(["create"], groups=["authorization.k8s.io"], resources=["subjectaccessreviews"]),
    rule(["list", "watch"], groups=["*"], resources=["*"]),
    rule(["create"], resources=["serviceaccounts/token"]),
]

NODE_RULES = [
    rule(["create"], groups=["authentication.k8s.io"], resources=["tokenreviews"]),
    rule(["create"], groups=["authorization.k8s.io"], resources=["localsubjectaccessreviews", "subjectaccessreviews"]),
    rule(READ, resources=["services"]),
    rule(["create", "get", "list", "watch"], resources=["nodes"]),
    rule(["patch", "update"], resources=["nodes/status"]),
    rule(["patch", "update"], resources=["nodes"]),
    rule(EVENTS, resources=["events"]),
    rule(READ, resources=["pods"]),
    rule(["create", "delete"], resources=["pods"]),
    rule(["patch", "update"], resources=["pods/status"]),
    rule(["create"], resources=["pods/eviction"]),
    rule(READ, resources=["configmaps", "secrets"]),
    rule(["get"], resources=["persistentvolumeclaims", "persistentvolumes"]),
    rule(["get"], resources=["endpoints"]),
    rule(["create", "get", "list", "watch"], groups=["certificates.k8s.io"], resources=["certificatesigningrequests"]),
    rule(["create", "delete", "get", "patch", "update"], groups=["coordination.k8s.io"], resources=["leases"]),
    rule(["get"], groups=["storage.k8s.io"], resources=["volumeattachments"]),
    rule(["create"], resources=["serviceaccounts/token"]),
    rule(["get", "patch", "update"], resources=["persistentvolumeclaims/status"]),
    rule(READ, groups=["storage.k8s.io"], resources=["csidrivers"]),
    rule(["create", "delete", "get", "patch", "update"], groups=["storage.k8s.io"], resources=["csinodes"]),
    rule(READ, groups=["node.k8s.io"], resources=["runtimeclasses"]),
]

DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                  "/readyz", "/version", "/version/"]
PUBLIC_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def cluster_roles() -> list[Obj]:
    return [
        cluster_role("cluster-admin", [rule(["*"], groups=["*"], resources=["*"]), rule(["*"], urls=["*"])]),
        cluster_role("admin", [], aggregate_from="admin"),
        cluster_role("edit", [], aggregate_from="edit", labels=_aggregated_label("admin")),
        cluster_role("view", [], aggregate_from="view", labels=_aggregated_label("edit")),
        cluster_role("system:aggregate-to-admin", ADMIN_RULES, labels=_aggregated_label("admin")),
        cluster_role("system:aggregate-to-edit", EDIT_RULES, labels=_aggregated_label("edit")),
        cluster_role("system:aggregate-to-view", VIEW_RULES, labels=_aggregated_label("view")),
        cluster_role("system:basic-user", [
            rule(["create"], groups=["authorization.k8s.io"],
                 resources=["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], groups=["authentication.k8s.io"], resources=["selfsubjectreviews"]),
        ]),
        cluster_role("system:discovery", [rule(["get"], urls=DISCOVERY_URLS)]),
        cluster_role("system:public-info-viewer", [rule(["get"], urls=PUBLIC_INFO_URLS)]),
        cluster_role("system:monitoring", [rule(["get"], urls=[
            "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"])]),
        cluster_role("system:kube-scheduler", SCHEDULER_RULES),
        cluster_role("system:kube-controller-manager", CONTROLLER_MANAGER_RULES),
        cluster_role("system:node", NODE_RULES),
        cluster_role("system:auth-delegator", [
            rule(["create"], groups=["authentication.k8s.io"], resources=["tokenreviews"]),
            rule(["create"], groups=["authorization.k8s.io"], resources=["subjectaccessreviews"]),
        ]),
        *controller_roles(),
    ]


def cluster_role_bindings() -> list[Obj]:
    authenticated = group("system:authenticated")
    return [
        cluster_role_binding("cluster-admin", role="cluster-admin", subjects=[group("system:masters")]),
        cluster_role_binding("system:basic-user", role="system:basic-user", subjects=[authenticated]),
        cluster_role_binding("system:discovery", role="system:discovery", subjects=[authenticated]),
        cluster_role_binding("system:public-info-viewer", role="system:public-info-viewer",
                             subjects=[authenticated, group("system:unauthenticated")]),
        cluster_role_binding("system:monitoring", role="system:monitoring", subjects=[group("system:monitoring")]),
        cluster_role_binding("system:kube-scheduler", role="system:kube-scheduler",
                             subjects=[user("system:kube-scheduler")]),
        cluster_role_binding("system:kube-controller-manager", role="system:kube-controller-manager",
                             subjects=[user("system:kube-controller-manager")]),
        cluster_role_binding("system:node", role="system:node", subjects=[]),
        *controller_role_bindings(),
    ]


# -- one role per controller (Kubernetes' controller_policy) ------------------------------

CONTROLLER_PREFIX = "system:controller:"


def _controllers() -> dict[str, list[Obj]]:
    ev = _event_rule()
    return {
        "deployment-controller": [
            rule(["get", "list", "watch", "update"], groups=["apps"], resources=["deployments"]),
            rule(["update"], groups=["apps"], resources=["deployments/status", "deployments/finalizers"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], groups=["apps"],
                 resources=["replicasets"]),
            rule(["get", "list", "watch", "update"], resources=["pods"]),
            ev,
        ],
        "replicaset-controller": [
            rule(["get", "list", "watch", "update"], groups=["apps"], resources=["replicasets"]),
            rule(["update"], groups=["apps"], resources=["replicasets/status", "replicasets/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], resources=["pods"]),
            ev,
        ],
        "daemon-set-controller": [
            rule(READ, groups=["apps"], resources=["daemonsets"]),
            rule(["update"], groups=["apps"], resources=["daemonsets/status", "daemonsets/finalizers"]),
            rule(["list", "watch"], resources=["nodes"]),
            rule(["create", "delete", "list", "patch", "watch"], resources=["pods"]),
            rule(["create"], resources=["pods/binding"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], groups=["apps"],
                 resources=["controllerrevisions"]),
            ev,
        ],
        "job-controller": [
            rule(["get", "list", "patch", "update", "watch"], groups=["batch"], resources=["jobs"]),
            rule(["update"], groups=["batch"], resources=["jobs/status", "jobs/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], resources=["pods"]),
            ev,
        ],
        "namespace-controller": [
            rule(["delete", "get", "list", "watch"], resources=["namespaces"]),
            rule(["update"], resources=["namespaces/finalize", "namespaces/status"]),
            rule(["delete", "deletecollection", "get", "list"], groups=["*"], resources=["*"]),
        ],
        "garbage-collector-controller": [
            rule(["delete", "get", "list", "patch", "update", "watch"], groups=["*"], resources=["*"]),
            ev,
        ],
        "node-controller": [
            rule(["delete", "get", "list", "patch", "update"], resources=["nodes"]),
            rule(["patch", "update"], resources=["nodes/status"]),
            rule(["patch", "update"], resources=["pods/status"]),
            rule(["delete", "list"], resources=["pods"]),
            ev,
        ],
        "pod-garbage-collector": [
            rule(["delete", "list", "watch"], resources=["pods"]),
            rule(["get", "list"], resources=["nodes"]),
            rule(["patch"], resources=["pods/status"]),
        ],
        "endpoint-controller": [
            rule(READ, resources=["services", "pods"]),
            rule(["create", "delete", "get", "list", "update"], resources=["endpoints"]),
            rule(["create"], resources=["endpoints/restricted"]),
            ev,
        ],
        "service-account-controller": [rule(["create"], resources=["serviceaccounts"]), ev],
        "resourcequota-controller": [
            rule(["list", "watch"], groups=["*"], resources=["*"]),
            rule(["update"], resources=["resourcequotas/status"]),
            ev,
        ],
        "disruption-controller": [
            rule(READ, groups=["apps"], resources=["deployments", "replicasets", "statefulsets"]),
            rule(READ, resources=["replicationcontrollers"]),
            rule(READ, groups=["policy"], resources=["poddisruptionbudgets"]),
            rule(["update"], groups=["policy"], resources=["poddisruptionbudgets/status"]),
            rule(["patch", "update"], resources=["pods/status"]),
            ev,
        ],
    }


def controller_roles() -> list[Obj]:
    return [cluster_role(CONTROLLER_PREFIX + name, rules) for name, rules in _controllers().items()]


def controller_role_bindings() -> list[Obj]:
    return [
        cluster_role_binding(CONTROLLER_PREFIX + name, role=CONTROLLER_PREFIX + name,
                             subjects=[service_account("kube-system", name)])
        for name in _controllers()
    ]
