"""What particular resources do beyond the generic store: one module per resource.

The generic store (``store.py``, ``deletion.py``) gives every kind the same REST
semantics. A few kinds differ, as they do in Kubernetes' ``pkg/registry/<group>/<kind>``:

- ``pods``: graceful deletion; ``binding`` (and the ``bindings`` resource), ``eviction``
  honouring PodDisruptionBudgets (``eviction.py``, ``pdb.py``), ``log`` proxied to the
  node's kubelet (``podlogs.py``, ``kubelet.py``);
- ``services``: ClusterIP and NodePort allocation (``services.py``; the ranges, kept in
  storage, in ``allocators.py``, ``rangestore.py``, ``serviceranges.py``; their repair
  loop in ``repair.py``);
- ``namespaces``: DELETE begins termination, ``finalize`` ends it (``namespaces.py``);
- ``deployments`` and ``replicasets``: the ``scale`` subresource (``scale.py``).

Importing this package (the registry does, last) registers the strategies
(``register_strategy``) and the namespace store (``register_store_class``) before any
``API`` builds its stores; ``install`` (called by ``API``)
registers the subresource handlers and wires the strategies to the stores they touch;
``configure`` applies the command-line settings (service ranges, kubelet client);
``service_repair`` builds the loop that reconciles the service ranges with the Services.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kube.resources import ResourceInfo

from .. import register_store_class
from ..strategies import register_strategy
from .allocators import DEFAULT_SERVICE_CLUSTER_IP_RANGE, DEFAULT_SERVICE_NODE_PORT_RANGE
from .eviction import EvictionHandler
from .kubelet import KubeletClientConfig, client_config_from_pki
from .namespaces import NamespaceStore, NamespaceStrategy
from .podlogs import PodLogHandler
from .pods import BindingHandler, PodStrategy
from .repair import RepairLoop, ServiceAllocationRepair
from .scale import ScaleHandler
from .services import ServiceStrategy

if TYPE_CHECKING:
    from .. import API

__all__ = [
    "KubeletClientConfig",
    "RepairLoop",
    "ResourceOptions",
    "client_config_from_pki",
    "configure",
    "install",
    "service_repair",
]

register_strategy(group="", resource="pods", strategy=PodStrategy)
register_strategy(group="", resource="services", strategy=ServiceStrategy)
register_strategy(group="", resource="namespaces", strategy=NamespaceStrategy)
register_store_class(group="", resource="namespaces", store_class=NamespaceStore)
_SCALED = (("apps", "deployments"), ("apps", "replicasets"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceOptions:
    """The API server flags these resources depend on."""

    service_cluster_ip_range: ipaddress.IPv4Network = DEFAULT_SERVICE_CLUSTER_IP_RANGE
    service_node_port_range: tuple[int, int] = DEFAULT_SERVICE_NODE_PORT_RANGE
    kubelet: KubeletClientConfig = field(default_factory=KubeletClientConfig)


def _info(api: API, *, group: str, resource: str) -> ResourceInfo | None:
    for info in api.resources:
        if info.group == group and info.resource == resource and info.stored and info.preferred:
            return info
    return None


def install(api: API) -> None:
    """Register the subresource handlers and connect strategies to other stores."""
    pods = _info(api, group="", resource="pods")
    nodes = _info(api, group="", resource="nodes")
    budgets = _info(api, group="policy", resource="poddisruptionbudgets")
    if pods is not None:
        register = api.subresources.register
        register(
            group="",
            resource="pods",
            subresource="binding",
            handler=BindingHandler(pods_info=pods, named_by_url=True),
        )
        register(
            group="",
            resource="bindings",
            subresource="",
            handler=BindingHandler(pods_info=pods, named_by_url=False),
        )
        if budgets is not None:
            register(
                group="", resource="pods", subresource="eviction", handler=EvictionHandler(pdb_info=budgets)
            )
        if nodes is not None:
            register(group="", resource="pods", subresource="log", handler=PodLogHandler(nodes_info=nodes))
    for group, resource in _SCALED:
        if _info(api, group=group, resource=resource) is not None:
            api.subresources.register(
                group=group, resource=resource, subresource="scale", handler=ScaleHandler()
            )
    services = _info(api, group="", resource="services")
    endpoints = _info(api, group="", resource="endpoints")
    if services is not None:
        store = api.store_for(services)
        if isinstance(store.strategy, ServiceStrategy):
            store.strategy.allocations.bind(storage=api.storage, prefix=store.prefix())
            store.strategy.endpoints = api.store_for(endpoints) if endpoints is not None else None


def configure(api: API, options: ResourceOptions) -> None:
    """Apply the flags; call before serving (a stored range of another size is rebuilt
    on its next use)."""
    services = _info(api, group="", resource="services")
    if services is not None:
        strategy = api.store_for(services).strategy
        if isinstance(strategy, ServiceStrategy):
            strategy.allocations.configure(
                cluster_ip_range=options.service_cluster_ip_range,
                node_port_range=options.service_node_port_range,
            )
    handler = api.subresources.get(group="", resource="pods", subresource="log")
    if isinstance(handler, PodLogHandler):
        handler.config = options.kubelet


def service_repair(api: API) -> RepairLoop | None:
    """The loop that reconciles the service ranges with the stored Services (a pass at
    start, then every three minutes); None when Services are not served."""
    services = _info(api, group="", resource="services")
    events = _info(api, group="", resource="events")
    if services is None:
        return None
    strategy = api.store_for(services).strategy
    if not isinstance(strategy, ServiceStrategy):
        return None
    repair = ServiceAllocationRepair(
        allocations=strategy.allocations, events=api.store_for(events) if events is not None else None
    )
    return RepairLoop(repair)
