"""Field numbers of rbac.authorization.k8s.io/v1 roles and bindings
(``k8s.io/api/rbac/v1/generated.proto``), sent by ``kubectl create role|clusterrole|
rolebinding|clusterrolebinding``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, MSG, PTR, REP, STR, Table

RBAC_V1: Table = {
    "Role": {1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("rules", MSG | REP | ALWAYS, "PolicyRule")},
    "PolicyRule": {
        1: ("verbs", STR | REP | ALWAYS), 2: ("apiGroups", STR | REP), 3: ("resources", STR | REP),
        4: ("resourceNames", STR | REP), 5: ("nonResourceURLs", STR | REP),
    },
    "ClusterRole": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("rules", MSG | REP | ALWAYS, "PolicyRule"),
        3: ("aggregationRule", MSG | PTR, "AggregationRule"),
    },
    "AggregationRule": {1: ("clusterRoleSelectors", MSG | REP, "LabelSelector")},
    "RoleBinding": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("subjects", MSG | REP, "Subject"),
        3: ("roleRef", MSG | ALWAYS, "RoleRef"),
    },
    "Subject": {
        1: ("kind", STR | ALWAYS), 2: ("apiGroup", STR), 3: ("name", STR | ALWAYS), 4: ("namespace", STR),
    },
    "RoleRef": {1: ("apiGroup", STR | ALWAYS), 2: ("kind", STR | ALWAYS), 3: ("name", STR | ALWAYS)},
    "ClusterRoleBinding": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("subjects", MSG | REP, "Subject"),
        3: ("roleRef", MSG | ALWAYS, "RoleRef"),
    },
}
