"""Field numbers of authentication.k8s.io/v1 TokenRequest and SelfSubjectReview
(``k8s.io/api/authentication/v1/generated.proto``), sent by ``kubectl create token``
and ``kubectl auth whoami``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, INT, MAP, MSG, NULL, REP, STR, Table

AUTHENTICATION_V1: Table = {
    "TokenRequest": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "TokenRequestSpec"),
        3: ("status", MSG | ALWAYS, "TokenRequestStatus"),
    },
    "TokenRequestSpec": {
        1: ("audiences", STR | REP | ALWAYS), 3: ("boundObjectRef", MSG | NULL, "BoundObjectReference"),
        4: ("expirationSeconds", INT | NULL),
    },
    "BoundObjectReference": {1: ("kind", STR), 2: ("apiVersion", STR), 3: ("name", STR), 4: ("uid", STR)},
    "TokenRequestStatus": {1: ("token", STR | ALWAYS), 2: ("expirationTimestamp", MSG | ALWAYS, "Time")},
    "SelfSubjectReview": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("status", MSG | ALWAYS, "SelfSubjectReviewStatus"),
    },
    "SelfSubjectReviewStatus": {1: ("userInfo", MSG | ALWAYS, "UserInfo")},
    "UserInfo": {
        1: ("username", STR), 2: ("uid", STR), 3: ("groups", STR | REP),
        4: ("extra", MAP | MSG, "ExtraValue"),
    },
}
