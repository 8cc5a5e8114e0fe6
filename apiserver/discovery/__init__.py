"""API discovery: the documents that tell a client which resources this server has.

Every kubectl command but ``version`` starts by asking ``/api`` and ``/apis``; from the
answer it builds its REST mapper (``deploy`` → ``apps/v1 deployments``, namespaced or
not), so discovery must say exactly what the registry serves, at the moment it is
asked: CustomResourceDefinitions add and remove resources at run time.

Two forms are served, as by kube-apiserver 1.33:

- **Aggregated** (``apidiscovery.k8s.io/v2`` and ``v2beta1``): one ``APIGroupDiscoveryList``
  at ``/api`` (the core group) and one at ``/apis`` (every other group) describe every
  resource, so a client needs two requests instead of one per group version. Clients ask
  for it in the Accept header, and recognise it *only* by the response Content-Type
  carrying the same ``g``/``v``/``as`` parameters; a plain JSON answer is taken as the
  legacy form.
- **Legacy**: ``APIVersions`` at ``/api``, ``APIGroupList`` at ``/apis``, ``APIGroup`` at
  ``/apis/<group>`` and one ``APIResourceList`` per group version. ``kubectl auth can-i``
  reads ``/api/v1`` even when it has aggregated discovery, so both forms stay.

Layout: ``documents`` builds both forms from the registry (pure functions, for tests
and for ``apiserver.openapi``); ``http`` renders them once per registry change and
serves them with ``routes``, which also serves ``/version`` (the kubectl dispatcher reads
it to choose its binary).
"""

from __future__ import annotations

from .documents import (
    AGGREGATED_GROUP,
    AGGREGATED_KIND,
    AGGREGATED_VERSIONS,
    Subresource,
    aggregated,
    aggregated_content_type,
    api_group,
    api_group_list,
    api_versions,
    resource_list,
    storage_version_hash,
    subresources_of,
    version_order,
    wanted_aggregated_version,
)
from .http import RenderCache, Rendered, json_response, not_found, routes

__all__ = [
    "AGGREGATED_GROUP",
    "AGGREGATED_KIND",
    "AGGREGATED_VERSIONS",
    "RenderCache",
    "Rendered",
    "Subresource",
    "aggregated",
    "aggregated_content_type",
    "api_group",
    "api_group_list",
    "api_versions",
    "json_response",
    "not_found",
    "resource_list",
    "routes",
    "storage_version_hash",
    "subresources_of",
    "version_order",
    "wanted_aggregated_version",
]
