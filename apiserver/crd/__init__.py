"""CustomResourceDefinitions in the API server: from a stored CRD to a served resource.

The schema logic (validation, pruning, defaulting, CEL, names) is ``kube.crd``, shared
with ``kube.testing``; this package is the API server's side:

- ``strategy`` — how CRD objects and custom resources are written (``VersionStrategy``
  runs a version's schema pipeline on every write);
- ``store`` — a CRD's DELETE marks it for cleanup instead of removing it;
- ``versions`` — one stored copy served at every version (``apiVersion`` rewritten);
- ``scale`` — the ``/scale`` subresource from the CRD's replica paths;
- ``serving`` — stores, routes, Table printers and OpenAPI for a CRD's versions;
- ``controller`` — watches CRDs, sets their status, serves them, cleans up after them.

``install()`` must run before the ``API`` is built (it registers the CRD strategy and
store); ``start(api)`` then serves existing CRDs and follows changes.
"""

from __future__ import annotations

from apiserver.registry import API, register_store_class, register_strategy
from kube import crd as kcrd

from .controller import CRDController
from .store import CRDStore
from .strategy import CRDStrategy, VersionStrategy

__all__ = ["CRDController", "CRDStore", "CRDStrategy", "VersionStrategy", "install", "start"]

RESOURCE = "customresourcedefinitions"


def install() -> None:
    """Make the registry serve CRDs as Kubernetes does (idempotent; before ``API(...)``)."""
    register_strategy(group=kcrd.GROUP, resource=RESOURCE, strategy=CRDStrategy)
    register_store_class(group=kcrd.GROUP, resource=RESOURCE, store_class=CRDStore)


async def start(api: API) -> CRDController:
    """Serve the CRDs stored now and keep following them; ``stop()`` the result at shutdown."""
    controller = CRDController(api=api)
    await controller.start()
    return controller
