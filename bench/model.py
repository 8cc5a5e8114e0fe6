"""Cost of ``kube.model.prepare_create`` per object (not a test).

Every write to the API server pays for the structure check, defaulting and validation,
so this is a floor under pod creates per second. Prints µs per object for a realistic
~2 KB pod and a Deployment, each with a breakdown, both for objects whose pod spec is
new (each differs) and for pods that share a spec (as a ReplicaSet's pods do: the spec
checks are then remembered), and the anchor: a ``deepcopy`` of the same pod (the
cheapest thing any request does to an object) in the same run.

    .venv/bin/python bench/model.py [rounds]
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from kube.model import (
    FieldValidation,
    apply_defaults,
    check_structure,
    node_for_api_version,
    prepare_create,
)
from kube.model.validation import validate_semantics

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-7d9f8b6c5-x2x4q",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop", "pod-template-hash": "7d9f8b6c5"},
        "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
    },
    "spec": {
        "initContainers": [
            {"name": "migrate", "image": "registry.example.com/shop/migrate:2.4.1", "command": ["/migrate", "--up"],
             "envFrom": [{"secretRef": {"name": "db-credentials"}}]},
        ],
        "containers": [
            {
                "name": "web",
                "image": "registry.example.com/shop/web:2.4.1",
                "args": ["--listen=:8080", "--metrics=:9090"],
                "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}],
                "env": [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}},
                    {"name": "LOG_LEVEL", "value": "info"},
                ],
                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 10},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": True},
                                 {"name": "cache", "mountPath": "/var/cache/web"}],
                "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True,
                                    "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": "web-config"}}, {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}],
        "serviceAccountName": "web",
        "securityContext": {"runAsUser": 1000, "fsGroup": 2000},
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}}]}},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "shop", "effect": "NoSchedule"}],
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}],
    },
}  # fmt: skip

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop"}},
            "spec": POD["spec"],
        },
    },
}


_salt = iter(range(10**9))


def _copies(template: dict[str, Any], rounds: int, *, same_spec: bool) -> list[dict[str, Any]]:
    """Fresh objects with distinct names; with ``same_spec`` they share one pod spec (as
    a ReplicaSet's pods do), otherwise every one has its own (a different image tag,
    never used before in this run, so no remembered result can help)."""
    objs = []
    salt = next(_salt)
    for index in range(rounds):
        obj = copy.deepcopy(template)
        obj["metadata"]["name"] = f"{template['metadata']['name']}-{index}"
        if not same_spec:
            spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
            spec["containers"][0]["image"] += f".{salt}.{index}"
        objs.append(obj)
    return objs


def _per_object(fn: Callable[[dict[str, Any]], object], make: Callable[[], list[dict[str, Any]]]) -> float:
    """Best-of-five µs per call, each call on its own fresh object (making them is not
    timed). CPU time of this process, so other work on a shared machine does not count."""
    best = float("inf")
    for _ in range(5):
        batch = make()
        start = time.process_time()
        for obj in batch:
            fn(obj)
        best = min(best, (time.process_time() - start) / len(batch) * 1e6)
    return best


def _report(label: str, template: dict[str, Any], rounds: int) -> float:
    node = node_for_api_version(api_version=template["apiVersion"], kind=template["kind"])
    assert node is not None

    def unique() -> list[dict[str, Any]]:
        return _copies(template, rounds, same_spec=False)

    def defaulted() -> list[dict[str, Any]]:
        objs = unique()
        for obj in objs:
            apply_defaults(obj)
        return objs

    def create(obj: dict[str, Any]) -> object:
        return prepare_create(obj, mode=FieldValidation.STRICT)

    total = _per_object(create, unique)
    structure = _per_object(lambda o: check_structure(o, node=node, mode=FieldValidation.STRICT), unique)
    defaults = _per_object(apply_defaults, unique)
    validation = _per_object(lambda o: validate_semantics(o, missing=[]), defaulted)
    repeated = _per_object(create, lambda: _copies(template, rounds, same_spec=True))
    size = len(orjson.dumps(template))
    print(
        f"{label:<11} {size:>5} B  prepare_create {total:6.1f} µs  "
        f"(structure {structure:.1f}, defaults {defaults:.1f}, validate {validation:.1f}); "
        f"pod spec seen before: {repeated:.1f} µs"
    )
    return total


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    # Compile the schema outside the timing; unique specs keep the memo from helping.
    prepare_create(copy.deepcopy(POD), mode=FieldValidation.STRICT)
    prepare_create(copy.deepcopy(DEPLOYMENT), mode=FieldValidation.STRICT)
    anchor = _per_object(copy.deepcopy, lambda: _copies(POD, rounds, same_spec=True))
    pod = _report("pod", POD, rounds)
    _report("deployment", DEPLOYMENT, rounds)
    print(
        f"anchor: deepcopy of the pod {anchor:.1f} µs; prepare_create(pod) / deepcopy(pod) = {pod / anchor:.1f}"
    )


if __name__ == "__main__":
    main()
