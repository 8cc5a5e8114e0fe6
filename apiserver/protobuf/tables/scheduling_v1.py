"""Field numbers of scheduling.k8s.io/v1 PriorityClass
(``k8s.io/api/scheduling/v1/generated.proto``), sent by ``kubectl create priorityclass``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, I32, MSG, PTR, STR, Table

SCHEDULING_V1: Table = {
    "PriorityClass": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("value", I32 | ALWAYS), 3: ("globalDefault", BOOL),
        4: ("description", STR), 5: ("preemptionPolicy", STR | PTR),
    },
}
