"""Field numbers of networking.k8s.io/v1 Ingress
(``k8s.io/api/networking/v1/generated.proto``), sent by ``kubectl create ingress``.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, I32, INLINE, MSG, NULL, PTR, REP, STR, Table

NETWORKING_V1: Table = {
    "Ingress": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "IngressSpec"),
        3: ("status", MSG | ALWAYS, "IngressStatus"),
    },
    "IngressSpec": {
        1: ("defaultBackend", MSG | PTR, "IngressBackend"), 2: ("tls", MSG | REP, "IngressTLS"),
        3: ("rules", MSG | REP, "IngressRule"), 4: ("ingressClassName", STR | PTR),
    },
    "IngressBackend": {
        3: ("resource", MSG | PTR, "TypedLocalObjectReference"),
        4: ("service", MSG | PTR, "IngressServiceBackend"),
    },
    "IngressServiceBackend": {1: ("name", STR | ALWAYS), 2: ("port", MSG | ALWAYS, "ServiceBackendPort")},
    "ServiceBackendPort": {1: ("name", STR), 2: ("number", I32)},
    "IngressTLS": {1: ("hosts", STR | REP), 2: ("secretName", STR)},
    "IngressRule": {1: ("host", STR), 2: ("", MSG | INLINE, "IngressRuleValue")},
    "IngressRuleValue": {1: ("http", MSG | PTR, "HTTPIngressRuleValue")},
    "HTTPIngressRuleValue": {1: ("paths", MSG | REP | ALWAYS, "HTTPIngressPath")},
    "HTTPIngressPath": {
        1: ("path", STR), 2: ("backend", MSG | ALWAYS, "IngressBackend"), 3: ("pathType", STR | NULL),
    },
    "IngressStatus": {1: ("loadBalancer", MSG | ALWAYS, "IngressLoadBalancerStatus")},
    "IngressLoadBalancerStatus": {1: ("ingress", MSG | REP, "IngressLoadBalancerIngress")},
    "IngressLoadBalancerIngress": {
        1: ("ip", STR), 2: ("hostname", STR), 4: ("ports", MSG | REP, "IngressPortStatus"),
    },
    "IngressPortStatus": {1: ("port", I32 | ALWAYS), 2: ("protocol", STR | ALWAYS), 3: ("error", STR | PTR)},
}
