"""The async REST client every component talks to the API server through.

One :class:`Client` per process and identity: it holds one keep-alive pool, one TLS
context and one token bucket (:mod:`kube.client.wire`), so the QPS limit covers
everything the process sends and connections are reused across verbs and watches.

Methods are typed over :class:`kube.resources.ResourceInfo` and keyword-only, so a call
reads like the request it makes (``client.patch(PODS, name="x", namespace="y",
patch=...)``). Objects are plain JSON dicts, as the API serves them. Single-object verbs
on a namespaced resource default to the kubeconfig's namespace (as kubectl does);
``list`` and ``watch`` with ``namespace=""`` mean all namespaces.

Every non-2xx answer raises the typed :class:`kube.errors.StatusError` the server sent;
transient failures are retried first (see :mod:`kube.client.retry` for which).
``request`` is the escape hatch for paths the typed methods do not cover.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx

from kube.client.clock import Clock
from kube.client.errors import error_from_response
from kube.client.retry import RetryPolicy
from kube.client.watch import WatchStream
from kube.client.wire import DEFAULT_USER_AGENT, JSON, Answer, Wire
from kube.errors import Expired
from kube.kubeconfig import ClientConfig, load_kubeconfig
from kube.resources import ResourceInfo

Obj = dict[str, Any]
PatchType = Literal["merge", "strategic", "json", "apply"]

PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    # JSON is YAML, so an apply body need not be converted.
    "apply": "application/apply-patch+yaml",
}
DEFAULT_PAGE_SIZE = 500


def _params(**values: str | int | bool | None) -> dict[str, str]:
    """Query parameters without the unset ones (the server treats absent and empty alike,
    but absent keeps URLs short and logs readable). 0 means unset for limit and
    timeoutSeconds; False means unset for every boolean we send."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None or value == "" or value == 0:  # False == 0 too
            continue
        out[key] = "true" if value is True else str(value)
    return out


class Client:
    def __init__(
        self,
        config: ClientConfig,
        *,
        qps: float = 50.0,
        burst: int = 100,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        """``transport`` replaces the network (tests pass an ``httpx.MockTransport``, or a
        wrapper that can fail on cue); ``qps <= 0`` disables client-side rate limiting."""
        self.config = config
        self.namespace = config.namespace
        self._wire = Wire(
            config,
            qps=qps,
            burst=burst,
            retry=retry or RetryPolicy(),
            clock=clock,
            transport=transport,
            timeout=timeout,
            user_agent=user_agent,
        )

    @classmethod
    def from_kubeconfig(
        cls,
        path: Path | str | None = None,
        *,
        context: str | None = None,
        qps: float = 50.0,
        burst: int = 100,
        **options: Any,
    ) -> Client:
        """A client for ``path`` (else ``KUBECONFIG``, else ~/.kube/config) and ``context``."""
        return cls(load_kubeconfig(path, context=context), qps=qps, burst=burst, **options)

    async def close(self) -> None:
        await self._wire.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
    ) -> Any:
        """Any request: JSON in (``body``: a JSON value, or bytes as-is), JSON (or text) out."""
        return await self._wire.call(
            method.upper(), path, params=params, body=body, content_type=content_type
        )

    def _ns(self, info: ResourceInfo, namespace: str, obj: Obj | None = None) -> str:
        if not info.namespaced:
            return ""
        if namespace:
            return namespace
        from_obj = ((obj or {}).get("metadata") or {}).get("namespace")
        return str(from_obj or self.namespace)

    # --- typed verbs ------------------------------------------------------------------------

    async def get(self, info: ResourceInfo, *, name: str, namespace: str = "", subresource: str = "") -> Obj:
        path = info.path(namespace=self._ns(info, namespace), name=name, subresource=subresource)
        result: Obj = await self._wire.call("GET", path, resource=info.group_resource, name=name)
        return result

    async def list(
        self,
        info: ResourceInfo,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
    ) -> Obj:
        """One page (all of it when ``limit`` is 0): the List object, items and metadata."""
        params = _params(
            labelSelector=label_selector,
            fieldSelector=field_selector,
            limit=limit,
            resourceVersion=resource_version,
            resourceVersionMatch=resource_version_match,
            **{"continue": continue_},
        )
        result: Obj = await self._wire.call(
            "GET", info.path(namespace=namespace), params=params, resource=info.group_resource
        )
        return result

    async def list_all(
        self,
        info: ResourceInfo,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        limit: int = DEFAULT_PAGE_SIZE,
        resource_version: str = "",
    ) -> Obj:
        """Every item, fetched ``limit`` at a time through ``continue``, as one List.

        All pages are read at the first page's revision, so the result is one consistent
        snapshot. If the continue token expires part-way (the server compacted that
        revision), start again with one unpaged list, as client-go's pager does.
        """
        first = await self.list(
            info,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            resource_version=resource_version,
        )
        items: list[Obj] = list(first.get("items") or [])
        token = (first.get("metadata") or {}).get("continue") or ""
        while token:
            try:
                page = await self.list(
                    info,
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    limit=limit,
                    continue_=token,
                )
            except Expired:
                return await self.list(
                    info, namespace=namespace, label_selector=label_selector, field_selector=field_selector
                )
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or ""
        metadata = {"resourceVersion": (first.get("metadata") or {}).get("resourceVersion", "")}
        return {**first, "metadata": metadata, "items": items}

    async def create(
        self,
        info: ResourceInfo,
        obj: Obj,
        *,
        namespace: str = "",
        dry_run: bool = False,
        field_manager: str = "",
    ) -> Obj:
        path = info.path(namespace=self._ns(info, namespace, obj))
        params = _params(dryRun="All" if dry_run else None, fieldManager=field_manager)
        name = str((obj.get("metadata") or {}).get("name") or "")
        result: Obj = await self._wire.call(
            "POST", path, params=params, body=obj, resource=info.group_resource, name=name
        )
        return result

    async def update(
        self,
        info: ResourceInfo,
        obj: Obj,
        *,
        namespace: str = "",
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str = "",
    ) -> Obj:
        """PUT the whole object; its ``metadata.resourceVersion`` makes this compare-and-swap."""
        name = str((obj.get("metadata") or {}).get("name") or "")
        if not name:
            raise ValueError("update needs metadata.name in the object")
        path = info.path(namespace=self._ns(info, namespace, obj), name=name, subresource=subresource)
        params = _params(dryRun="All" if dry_run else None, fieldManager=field_manager)
        result: Obj = await self._wire.call(
            "PUT", path, params=params, body=obj, resource=info.group_resource, name=name
        )
        return result

    async def patch(
        self,
        info: ResourceInfo,
        *,
        name: str,
        namespace: str = "",
        patch: Any,
        patch_type: PatchType = "merge",
        field_manager: str = "",
        force: bool = False,
        subresource: str = "",
        dry_run: bool = False,
    ) -> Obj:
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValueError(f"unknown patch type {patch_type!r}; use one of {sorted(PATCH_CONTENT_TYPES)}")
        if patch_type == "apply" and not field_manager:
            raise ValueError("an apply patch needs a field_manager")
        path = info.path(namespace=self._ns(info, namespace), name=name, subresource=subresource)
        params = _params(
            dryRun="All" if dry_run else None,
            fieldManager=field_manager,
            force=True if force and patch_type == "apply" else None,
        )
        result: Obj = await self._wire.call(
            "PATCH",
            path,
            params=params,
            body=patch,
            content_type=PATCH_CONTENT_TYPES[patch_type],
            resource=info.group_resource,
            name=name,
        )
        return result

    async def delete(
        self,
        info: ResourceInfo,
        *,
        name: str,
        namespace: str = "",
        grace_period: int | None = None,
        propagation_policy: str | None = None,
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Returns what the server answers: a Status, or the object while finalizers or a
        grace period keep it alive."""
        options: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        if propagation_policy is not None:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = preconditions
        if dry_run:
            options["dryRun"] = ["All"]
        path = info.path(namespace=self._ns(info, namespace), name=name)
        result: Obj = await self._wire.call(
            "DELETE", path, body=options, resource=info.group_resource, name=name
        )
        return result

    async def post_subresource(
        self, info: ResourceInfo, *, name: str, namespace: str = "", subresource: str, body: Obj
    ) -> Obj:
        """POST to ``<object>/<subresource>``: ``binding``, ``eviction``."""
        path = info.path(namespace=self._ns(info, namespace), name=name, subresource=subresource)
        result: Obj = await self._wire.call("POST", path, body=body, resource=info.group_resource, name=name)
        return result

    def watch(
        self,
        info: ResourceInfo,
        *,
        namespace: str = "",
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> WatchStream:
        """Events after ``resource_version`` until the server ends the watch.

        Use as ``async with client.watch(...) as events: async for event in events``
        (or iterate directly and ``aclose`` it). ERROR events raise their typed error.
        """
        path = info.path(namespace=namespace)
        params = _params(
            watch=True,
            resourceVersion=resource_version,
            labelSelector=label_selector,
            fieldSelector=field_selector,
            timeoutSeconds=timeout_seconds,
            allowWatchBookmarks=allow_bookmarks,
        )
        # No read timeout: a quiet watch is healthy. The server's timeoutSeconds (plus a
        # margin for the last bytes) bounds a watch whose server vanished without a FIN.
        read = None if timeout_seconds is None else float(timeout_seconds) + 30.0
        timeout = httpx.Timeout(self._wire.timeout.connect or 10.0, read=read, write=self._wire.timeout.write)

        async def open_stream() -> Answer:
            response = await self._wire.send("GET", path, params=params, stream=True, http_timeout=timeout)
            if not response.is_success:
                await response.aread()
                await response.aclose()
                raise error_from_response(
                    status_code=response.status_code,
                    content=response.content,
                    method="WATCH",
                    resource=info.group_resource,
                )
            return response

        return WatchStream(open_stream, method="GET", url=f"{self.config.server}{path}")
