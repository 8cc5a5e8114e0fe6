"""A kopf operator for WebApp: each WebApp gets a Deployment it owns.

Run it against any cluster (ours included) with::

    kubectl apply -f examples/operators/webapp/crd.yaml
    kopf run --standalone examples/operators/webapp/operator.py

On create it builds a Deployment running ``spec.image`` with ``spec.replicas``, marks
the WebApp as its owner (``kopf.adopt``: deleting the WebApp lets the garbage
collector delete the Deployment), and records the Deployment's name and a phase in the
WebApp's status. On a change of ``spec.replicas`` or ``spec.image`` it patches the
Deployment to match. Nothing here knows which API server it talks to.
"""

from __future__ import annotations

from typing import Any

import kopf
import kubernetes


def _client() -> kubernetes.client.AppsV1Api:
    try:
        kubernetes.config.load_incluster_config()
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config()
    return kubernetes.client.AppsV1Api()


def _deployment(name: str, spec: Any) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "webapp-operator"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": spec.get("replicas", 1),
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": "app", "image": spec["image"]}]},
            },
        },
    }


@kopf.on.create("demo.kubesim.io", "v1", "webapps")
def create_deployment(spec: kopf.Spec, name: str, namespace: str | None, patch: kopf.Patch,
                      logger: kopf.Logger, **_: Any) -> None:
    deployment = _deployment(name, spec)
    kopf.adopt(deployment)
    _client().create_namespaced_deployment(namespace=namespace or "default", body=deployment)  # type: ignore[arg-type]
    logger.info("created deployment %s", name)
    patch.status["deployment"] = name
    patch.status["phase"] = "Running"


@kopf.on.update("demo.kubesim.io", "v1", "webapps", field="spec")
def update_deployment(spec: kopf.Spec, name: str, namespace: str | None, patch: kopf.Patch, **_: Any) -> None:
    body = {"spec": {"replicas": spec.get("replicas", 1),
                     "template": {"spec": {"containers": [{"name": "app", "image": spec["image"]}]}}}}
    _client().patch_namespaced_deployment(name=name, namespace=namespace or "default", body=body)
    patch.status["phase"] = "Updated"
