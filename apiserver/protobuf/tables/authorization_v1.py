"""Field numbers of authorization.k8s.io/v1 self reviews
(``k8s.io/api/authorization/v1/generated.proto``).

``kubectl auth can-i`` sends a SelfSubjectAccessReview and ``auth can-i --list`` a
SelfSubjectRulesReview, each with an empty status. ``allowed``, ``incomplete`` and the
rule lists have no omitempty, so their JSON shows ``false`` and ``null``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, MSG, PTR, REP, STR, Table

AUTHORIZATION_V1: Table = {
    "SelfSubjectAccessReview": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "SelfSubjectAccessReviewSpec"),
        3: ("status", MSG | ALWAYS, "SubjectAccessReviewStatus"),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", MSG | PTR, "ResourceAttributes"),
        2: ("nonResourceAttributes", MSG | PTR, "NonResourceAttributes"),
    },
    "ResourceAttributes": {
        1: ("namespace", STR), 2: ("verb", STR), 3: ("group", STR), 4: ("version", STR), 5: ("resource", STR),
        6: ("subresource", STR), 7: ("name", STR), 8: ("fieldSelector", MSG | PTR, "FieldSelectorAttributes"),
        9: ("labelSelector", MSG | PTR, "LabelSelectorAttributes"),
    },
    "FieldSelectorAttributes": {
        1: ("rawSelector", STR), 2: ("requirements", MSG | REP, "FieldSelectorRequirement"),
    },
    "LabelSelectorAttributes": {
        1: ("rawSelector", STR), 2: ("requirements", MSG | REP, "LabelSelectorRequirement"),
    },
    "NonResourceAttributes": {1: ("path", STR), 2: ("verb", STR)},
    "SubjectAccessReviewStatus": {
        1: ("allowed", BOOL | ALWAYS), 2: ("reason", STR), 3: ("evaluationError", STR), 4: ("denied", BOOL),
    },
    "SelfSubjectRulesReview": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "SelfSubjectRulesReviewSpec"),
        3: ("status", MSG | ALWAYS, "SubjectRulesReviewStatus"),
    },
    "SelfSubjectRulesReviewSpec": {1: ("namespace", STR)},
    "SubjectRulesReviewStatus": {
        1: ("resourceRules", MSG | REP | ALWAYS, "ResourceRule"),
        2: ("nonResourceRules", MSG | REP | ALWAYS, "NonResourceRule"), 3: ("incomplete", BOOL | ALWAYS),
        4: ("evaluationError", STR),
    },
    "ResourceRule": {
        1: ("verbs", STR | REP | ALWAYS), 2: ("apiGroups", STR | REP), 3: ("resources", STR | REP),
        4: ("resourceNames", STR | REP),
    },
    "NonResourceRule": {1: ("verbs", STR | REP | ALWAYS), 2: ("nonResourceURLs", STR | REP)},
}
