"""Field numbers of certificates.k8s.io/v1 CertificateSigningRequest
(``k8s.io/api/certificates/v1/generated.proto``): ``kubectl certificate approve|deny``
PUTs the whole object to its ``approval`` subresource.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BYTES, I32, MAP, MSG, PTR, REP, STR, Table

CERTIFICATES_V1: Table = {
    "CertificateSigningRequest": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"),
        2: ("spec", MSG | ALWAYS, "CertificateSigningRequestSpec"),
        3: ("status", MSG | ALWAYS, "CertificateSigningRequestStatus"),
    },
    "CertificateSigningRequestSpec": {
        1: ("request", BYTES | ALWAYS), 2: ("username", STR), 3: ("uid", STR), 4: ("groups", STR | REP),
        5: ("usages", STR | REP), 6: ("extra", MAP | MSG, "ExtraValue"), 7: ("signerName", STR | ALWAYS),
        8: ("expirationSeconds", I32 | PTR),
    },
    "CertificateSigningRequestStatus": {
        1: ("conditions", MSG | REP, "CertificateSigningRequestCondition"), 2: ("certificate", BYTES),
    },
    "CertificateSigningRequestCondition": {
        1: ("type", STR | ALWAYS), 2: ("reason", STR), 3: ("message", STR),
        4: ("lastUpdateTime", MSG | ALWAYS, "Time"), 5: ("lastTransitionTime", MSG | ALWAYS, "Time"),
        6: ("status", STR | ALWAYS),
    },
}
