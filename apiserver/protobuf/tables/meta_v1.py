"""Field numbers of apimachinery's meta/v1 messages: ObjectMeta and what it holds,
LabelSelector, DeleteOptions, Condition.

From ``k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto``; the wrapper and the
messages JSON shows as scalars (Time, Quantity, ...) are in ``special.py``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, INT, MAP, MSG, PTR, REP, STR, Table

META_V1: Table = {
    "DeleteOptions": {
        1: ("gracePeriodSeconds", INT | PTR), 2: ("preconditions", MSG | PTR, "Preconditions"),
        3: ("orphanDependents", BOOL | PTR), 4: ("propagationPolicy", STR | PTR), 5: ("dryRun", STR | REP),
        6: ("ignoreStoreReadErrorWithClusterBreakingPotential", BOOL | PTR),
    },
    "Preconditions": {1: ("uid", STR | PTR), 2: ("resourceVersion", STR | PTR)},
    "ObjectMeta": {
        1: ("name", STR), 2: ("generateName", STR), 3: ("namespace", STR), 4: ("selfLink", STR),
        5: ("uid", STR), 6: ("resourceVersion", STR), 7: ("generation", INT),
        8: ("creationTimestamp", MSG | ALWAYS, "Time"), 9: ("deletionTimestamp", MSG | PTR, "Time"),
        10: ("deletionGracePeriodSeconds", INT | PTR), 11: ("labels", MAP | STR),
        12: ("annotations", MAP | STR), 13: ("ownerReferences", MSG | REP, "OwnerReference"),
        14: ("finalizers", STR | REP), 17: ("managedFields", MSG | REP, "ManagedFieldsEntry"),
    },
    "OwnerReference": {
        1: ("kind", STR | ALWAYS), 3: ("name", STR | ALWAYS), 4: ("uid", STR | ALWAYS),
        5: ("apiVersion", STR | ALWAYS), 6: ("controller", BOOL | PTR), 7: ("blockOwnerDeletion", BOOL | PTR),
    },
    "ManagedFieldsEntry": {
        1: ("manager", STR), 2: ("operation", STR), 3: ("apiVersion", STR), 4: ("time", MSG | PTR, "Time"),
        6: ("fieldsType", STR), 7: ("fieldsV1", MSG | PTR, "FieldsV1"), 8: ("subresource", STR),
    },
    "Condition": {
        1: ("type", STR | ALWAYS), 2: ("status", STR | ALWAYS), 3: ("observedGeneration", INT),
        4: ("lastTransitionTime", MSG | ALWAYS, "Time"), 5: ("reason", STR | ALWAYS),
        6: ("message", STR | ALWAYS),
    },
    "LabelSelector": {
        1: ("matchLabels", MAP | STR), 2: ("matchExpressions", MSG | REP, "LabelSelectorRequirement"),
    },
    "LabelSelectorRequirement": {
        1: ("key", STR | ALWAYS), 2: ("operator", STR | ALWAYS), 3: ("values", STR | REP),
    },
    "FieldSelectorRequirement": {
        1: ("key", STR | ALWAYS), 2: ("operator", STR | ALWAYS), 3: ("values", STR | REP),
    },
}
