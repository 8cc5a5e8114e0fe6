"""``FakeClient``: ``kube.client.Client``'s interface over the in-memory fake API.

A controller takes a ``Client``; in a unit test it gets this one, which *is* a
``Client`` (a subclass overriding every verb), so the controller's code, its informers
(``kube.informers`` list and watch through it) and its type annotations stay exactly
as in production. Calls never touch the network: each is answered by ``FakeAPI`` on
the spot, with the same ``kube.errors`` exceptions a server would cause, and yields
to the event loop once, as a real request would.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from kube.client.rest import Client, PatchType
from kube.client.watch import WatchEvent, WatchStream
from kube.errors import NotFound
from kube.kubeconfig import ClientConfig
from kube.model import FieldValidation
from kube.resources import ResourceInfo

from .api import FakeAPI
from .store import Watch

Obj = dict[str, Any]


class FakeWatchStream(WatchStream):
    """What ``Client.watch`` returns, over a fake watch: opened on first use, iterated,
    closed by ``aclose`` or on leaving ``async with``."""

    def __init__(self, opener: Any) -> None:  # no HTTP response to open: not the parent's
        self._fake_opener = opener
        self._watch: Watch | None = None
        self._closed = False

    async def _open_watch(self) -> Watch:
        if self._watch is None:
            if self._closed:
                raise StopAsyncIteration
            await asyncio.sleep(0)
            self._watch = self._fake_opener()
        return self._watch

    def __aiter__(self) -> FakeWatchStream:
        return self

    async def __anext__(self) -> WatchEvent:
        watch = await self._open_watch()
        item = await watch.queue.get()
        if item is None:
            raise StopAsyncIteration
        return WatchEvent(item[0], item[1])

    async def aclose(self) -> None:
        self._closed = True
        if self._watch is not None:
            self._watch.close()

    async def __aenter__(self) -> FakeWatchStream:
        await self._open_watch()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


class FakeClient(Client):
    """A ``Client`` answered by a ``FakeAPI`` (build it with ``FakeCluster.client()``)."""

    def __init__(self, api: FakeAPI, *, namespace: str = "default", field_manager: str = "",
                 field_validation: FieldValidation = FieldValidation.WARN, on_call: Any = None) -> None:
        # No transport is built: nothing here goes over the network.
        self.config = ClientConfig(server="https://fake.invalid", context="fake", cluster="fake", user="fake",
                                   namespace=namespace)
        self.namespace = namespace
        self.api = api
        self.field_manager = field_manager
        self.field_validation = field_validation
        self._on_call = on_call

    async def _call(self) -> None:
        if self._on_call is not None:
            self._on_call()
        await asyncio.sleep(0)  # a request always yields to the loop

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> FakeClient:
        return self

    def _ns(self, info: ResourceInfo, namespace: str, obj: Obj | None = None) -> str:
        if not info.namespaced:
            return ""
        return namespace or str(((obj or {}).get("metadata") or {}).get("namespace") or self.namespace)

    async def get(self, info: ResourceInfo, *, name: str, namespace: str = "", subresource: str = "") -> Obj:
        await self._call()
        return self.api.get(info, name=name, namespace=self._ns(info, namespace), subresource=subresource)

    async def list(self, info: ResourceInfo, *, namespace: str = "", label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_: str = "", resource_version: str = "",
                   resource_version_match: str = "") -> Obj:
        await self._call()
        return self.api.list(info, namespace=namespace if info.namespaced else "", label_selector=label_selector,
                             field_selector=field_selector, limit=limit, continue_=continue_)

    async def list_all(self, info: ResourceInfo, *, namespace: str = "", label_selector: str = "",
                       field_selector: str = "", limit: int = 500, resource_version: str = "") -> Obj:
        return await self.list(info, namespace=namespace, label_selector=label_selector,
                               field_selector=field_selector)

    async def create(self, info: ResourceInfo, obj: Obj, *, namespace: str = "", dry_run: bool = False,
                     field_manager: str = "") -> Obj:
        await self._call()
        return self.api.create(info, obj, namespace=self._ns(info, namespace, obj), dry_run=dry_run,
                               field_manager=field_manager or self.field_manager,
                               field_validation=self.field_validation)

    async def update(self, info: ResourceInfo, obj: Obj, *, namespace: str = "", subresource: str = "",
                     dry_run: bool = False, field_manager: str = "") -> Obj:
        if not (obj.get("metadata") or {}).get("name"):
            raise ValueError("update needs metadata.name in the object")
        await self._call()
        return self.api.update(info, obj, namespace=self._ns(info, namespace, obj), subresource=subresource,
                               dry_run=dry_run, field_manager=field_manager or self.field_manager,
                               field_validation=self.field_validation)

    async def patch(self, info: ResourceInfo, *, name: str, namespace: str = "", patch: Any,
                    patch_type: PatchType = "merge", field_manager: str = "", force: bool = False,
                    subresource: str = "", dry_run: bool = False) -> Obj:
        if patch_type == "apply" and not field_manager:
            raise ValueError("an apply patch needs a field_manager")
        await self._call()
        return self.api.patch(info, name=name, namespace=self._ns(info, namespace), patch=patch,
                              patch_type=patch_type, field_manager=field_manager or self.field_manager,
                              force=force, subresource=subresource, dry_run=dry_run,
                              field_validation=self.field_validation)

    async def delete(self, info: ResourceInfo, *, name: str, namespace: str = "", grace_period: int | None = None,
                     propagation_policy: str | None = None, preconditions: dict[str, str] | None = None,
                     dry_run: bool = False) -> Obj:
        await self._call()
        return self.api.delete(info, name=name, namespace=self._ns(info, namespace),
                               propagation_policy=propagation_policy, preconditions=preconditions, dry_run=dry_run)

    async def post_subresource(self, info: ResourceInfo, *, name: str, namespace: str = "", subresource: str,
                               body: Obj) -> Obj:
        await self._call()
        return self.api.post_subresource(info, name=name, namespace=self._ns(info, namespace),
                                         subresource=subresource, body=body)

    def watch(self, info: ResourceInfo, *, namespace: str = "", resource_version: str = "", label_selector: str = "",
              field_selector: str = "", timeout_seconds: int | None = None,
              allow_bookmarks: bool = True) -> FakeWatchStream:
        """Watches never time out here (``FakeCluster.end_watches`` ends them on purpose)."""

        def open_watch() -> Watch:
            if self._on_call is not None:
                self._on_call()
            return self.api.watch(info, namespace=namespace if info.namespaced else "",
                                  resource_version=resource_version, label_selector=label_selector,
                                  field_selector=field_selector)

        return FakeWatchStream(open_watch)

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None,
                      content_type: str = "application/json") -> Any:
        """Resource paths only (``/api/v1/namespaces/x/pods/y``, ``/apis/g/v/...``)."""
        await self._call()
        info, namespace, name, subresource = self._route(path)
        verb = method.upper()
        if verb == "GET":
            if name:
                return self.api.get(info, name=name, namespace=namespace, subresource=subresource)
            query = params or {}
            return self.api.list(info, namespace=namespace, label_selector=query.get("labelSelector", ""),
                                 field_selector=query.get("fieldSelector", ""))
        if verb == "POST":
            if subresource:
                return self.api.post_subresource(info, name=name, namespace=namespace, subresource=subresource,
                                                 body=body)
            return self.api.create(info, body, namespace=namespace, field_manager=self.field_manager)
        if verb == "PUT":
            return self.api.update(info, body, namespace=namespace, subresource=subresource,
                                   field_manager=self.field_manager)
        if verb == "PATCH":
            kind = {"application/json-patch+json": "json", "application/merge-patch+json": "merge",
                    "application/strategic-merge-patch+json": "strategic",
                    "application/apply-patch+yaml": "apply"}.get(content_type, "merge")
            return self.api.patch(info, name=name, namespace=namespace, patch=body, patch_type=kind,
                                  subresource=subresource, field_manager=self.field_manager)
        if verb == "DELETE":
            return self.api.delete(info, name=name, namespace=namespace)
        raise NotFound("the server could not find the requested resource")

    def _route(self, path: str) -> tuple[ResourceInfo, str, str, str]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts[:1] == ["api"]:
            group, rest = "", parts[1:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, rest = parts[1], parts[2:]
        else:
            raise NotFound("the server could not find the requested resource")
        version, rest = rest[0], rest[1:]
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest:
            raise NotFound("the server could not find the requested resource")
        info = self.api.resources.get(group=group, version=version, resource=rest[0])
        if info is None:
            raise NotFound("the server could not find the requested resource")
        return info, namespace, (rest[1] if len(rest) > 1 else ""), (rest[2] if len(rest) > 2 else "")
