"""The ``kubernetes`` Service and Endpoints that publish the API server in ``default``."""

from __future__ import annotations

import pytest

from apiserver.bootstrap import bootstrap_kubernetes_service
from apiserver.registry import API
from kube.errors import Invalid

from .helpers import ctx_for, service, store_of


async def test_created_once_and_corrected_when_the_port_changes(api: API) -> None:
    created = await bootstrap_kubernetes_service(api, cluster_ip="10.96.0.1", address="192.0.2.10", port=6443)
    assert created == ["services/default/kubernetes created", "endpoints/default/kubernetes created"]
    services, endpoints = store_of(api, "services"), store_of(api, "endpoints")
    svc = await services.get(ctx_for(services, name="kubernetes"))
    assert svc["spec"]["clusterIP"] == "10.96.0.1" and svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    eps = await endpoints.get(ctx_for(endpoints, name="kubernetes"))
    assert eps["subsets"] == [
        {"addresses": [{"ip": "192.0.2.10"}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}
    ]
    # Idempotent: a second start with the same address changes nothing.
    assert (
        await bootstrap_kubernetes_service(api, cluster_ip="10.96.0.1", address="192.0.2.10", port=6443) == []
    )
    # A restart on another port corrects both, keeping the address.
    changed = await bootstrap_kubernetes_service(api, cluster_ip="10.96.0.1", address="192.0.2.10", port=7443)
    assert changed == ["services/default/kubernetes updated", "endpoints/default/kubernetes updated"]
    svc = await services.get(ctx_for(services, name="kubernetes"))
    assert svc["spec"]["clusterIP"] == "10.96.0.1" and svc["spec"]["ports"][0]["targetPort"] == 7443


async def test_its_address_is_taken_and_never_handed_out(api: API) -> None:
    await bootstrap_kubernetes_service(api, cluster_ip="10.96.0.1", address="127.0.0.1", port=6443)
    services = store_of(api, "services")
    with pytest.raises(Invalid, match="provided IP is already allocated"):
        await services.create(ctx_for(services), service("thief", clusterIP="10.96.0.1"))
