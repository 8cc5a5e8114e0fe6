"""Registers the printers of every built-in kind that Kubernetes gives columns to.

Kinds missing here on purpose (roles, cluster roles, limit ranges, custom resource
definitions, the review kinds) have no printer in Kubernetes either and print the
default NAME / CREATED AT table; adding one would make our ``kubectl get`` differ.
"""

from __future__ import annotations

from . import cluster, config, events, nodes, pods, rbac, services, workloads

_MODULES = (pods, nodes, services, config, events, workloads, cluster, rbac)


def install() -> None:
    """Register every built-in printer; safe to call again (it re-registers)."""
    for module in _MODULES:
        module.install()
