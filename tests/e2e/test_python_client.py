"""The official ``kubernetes`` Python client against the real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch

from tests.support.apiserver import ApiserverProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api_client(apiserver: ApiserverProcess) -> Iterator[client.ApiClient]:
    with config.new_client_from_config(config_file=str(apiserver.kubeconfig)) as api:
        yield api


def _pod(name: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
    )


def test_core_v1_crud(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_pod("default", _pod("py1"))
    assert created.metadata.uid and created.status.phase == "Pending"
    got = core.read_namespaced_pod("py1", "default")
    assert got.metadata.resource_version == created.metadata.resource_version
    got.metadata.labels["v"] = "2"
    replaced = core.replace_namespaced_pod("py1", "default", got)
    assert replaced.metadata.labels["v"] == "2"
    patched = core.patch_namespaced_pod("py1", "default", {"metadata": {"annotations": {"a": "b"}}})
    assert patched.metadata.annotations == {"a": "b"}
    names = [p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=py").items]
    assert names == ["py1"]
    deleted = core.delete_namespaced_pod("py1", "default")
    assert deleted.metadata.name == "py1"
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_pod("py1", "default")
    assert err.value.status == 404


def test_conflict_and_already_exists(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm"), data={"a": "1"})
    first = core.create_namespaced_config_map("default", cm)
    with pytest.raises(client.ApiException) as exists:
        core.create_namespaced_config_map("default", cm)
    assert exists.value.status == 409
    first.data = {"a": "2"}
    core.replace_namespaced_config_map("py-cm", "default", first)
    first.data = {"a": "3"}
    with pytest.raises(client.ApiException) as conflict:
        core.replace_namespaced_config_map("py-cm", "default", first)
    assert conflict.value.status == 409 and "the object has been modified" in conflict.value.body
    # Kubernetes answers a ConfigMap delete with a Status (the client returns it as a dict).
    status = core.delete_namespaced_config_map("py-cm", "default")
    assert status["kind"] == "Status" and status["status"] == "Success"


def test_apps_v1_deployments(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-web"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
            ),
        ),
    )
    created = apps.create_namespaced_deployment("default", body)
    assert created.metadata.generation == 1
    # Defaults were applied server-side, as by Kubernetes.
    assert created.spec.strategy.type == "RollingUpdate"
    created.spec.template.spec.containers[0].image = "nginx:2"
    updated = apps.replace_namespaced_deployment("py-web", "default", created)
    assert updated.metadata.generation == 2
    assert [d.metadata.name for d in apps.list_namespaced_deployment("default").items] == ["py-web"]
    apps.delete_namespaced_deployment("py-web", "default", propagation_policy="Background")


def test_watch_stream_with_timeout(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    resource_version = core.list_namespaced_pod("default").metadata.resource_version

    def make_changes() -> None:
        time.sleep(0.5)
        core.create_namespaced_pod("default", _pod("watched-py"))
        core.delete_namespaced_pod("watched-py", "default")

    writer = threading.Thread(target=make_changes)
    writer.start()
    seen: list[tuple[str, str]] = []
    started = time.monotonic()
    for event in watch.Watch().stream(
        core.list_namespaced_pod, "default", resource_version=resource_version, timeout_seconds=3
    ):
        seen.append((event["type"], event["object"].metadata.name))
    writer.join()
    assert ("ADDED", "watched-py") in seen and ("DELETED", "watched-py") in seen
    assert time.monotonic() - started < 10
