"""One stored copy of a custom resource, served at every version of its CRD.

A CRD with versions ``v1`` (storage) and ``v1beta1`` keeps each object once, under one
key, as its storage version wrote it. With conversion strategy ``None`` the versions
differ only in ``apiVersion``, so serving ``v1beta1`` is a view of the same keys that
rewrites ``apiVersion`` on the way out and back to the storage version on the way in.
That view is this ``Storage`` wrapper: each served version's store (and watch cache)
sits on one, and nothing above the storage knows versions exist.

The view also shapes objects read from storage by the served version's schema, as
Kubernetes' storage codec does: unknown fields are pruned and defaults applied, so a
field added (with a default) or removed in a CRD update shows on objects written
before it, and a version with a narrower schema never serves another's extra fields.
The CRD's current versions are read through ``current`` on every call, so a CRD update
(a new storage version, a new default) takes effect without rebuilding stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from apiserver.storage.interface import (
    DeleteCheck,
    ListResult,
    Obj,
    Preconditions,
    Storage,
    UpdateFunc,
    WatchEvent,
)
from kube.crd import CustomResource


class VersionedStorage:
    """``inner`` seen as objects of ``version`` of the CRD ``current()`` returns."""

    def __init__(self, inner: Storage, *, version: str, current: Callable[[], CustomResource]) -> None:
        self.inner = inner
        self.version = version
        self._current = current

    # -- conversion ----------------------------------------------------------------------

    def _out(self, obj: Obj) -> Obj:
        crd = self._current()
        api_version = f"{crd.group}/{self.version}"
        served = crd.versions.get(self.version)
        if obj.get("apiVersion") != api_version:
            obj = {**obj, "apiVersion": api_version}
        if served is not None:
            obj = served.as_read(obj)
        return obj

    def _in(self, obj: Obj) -> Obj:
        crd = self._current()
        api_version = f"{crd.group}/{crd.storage_version}"
        if obj.get("apiVersion") != api_version:
            obj = {**obj, "apiVersion": api_version}
        return obj

    # -- Storage -------------------------------------------------------------------------

    async def create(self, key: str, obj: Obj) -> Obj:
        return self._out(await self.inner.create(key, self._in(obj)))

    async def get(self, key: str) -> Obj:
        return self._out(await self.inner.get(key))

    async def guaranteed_update(
        self,
        key: str,
        update: UpdateFunc,
        *,
        preconditions: Preconditions | None = None,
        ignore_not_found: bool = False,
    ) -> Obj:
        async def converted(current: Obj) -> Obj | None:
            result = await update(self._out(current) if current else current)
            return None if result is None else self._in(result)

        return self._out(
            await self.inner.guaranteed_update(
                key, converted, preconditions=preconditions, ignore_not_found=ignore_not_found
            )
        )

    async def delete(
        self, key: str, *, preconditions: Preconditions | None = None, validate: DeleteCheck | None = None
    ) -> Obj:
        check = None
        if validate is not None:
            inner_validate = validate

            async def check(obj: Obj) -> None:
                await inner_validate(self._out(obj))

        return self._out(await self.inner.delete(key, preconditions=preconditions, validate=check))

    async def list(self, prefix: str, *, revision: int = 0, limit: int = 0, continue_token: str = "") -> ListResult:
        result = await self.inner.list(prefix, revision=revision, limit=limit, continue_token=continue_token)
        return ListResult(
            items=[self._out(obj) for obj in result.items],
            revision=result.revision,
            continue_token=result.continue_token,
            remaining=result.remaining,
        )

    async def watch(self, prefix: str, *, revision: int) -> AsyncIterator[WatchEvent]:
        stream = self.inner.watch(prefix, revision=revision)
        try:
            async for event in stream:
                yield WatchEvent(
                    type=event.type,
                    key=event.key,
                    object=self._out(event.object),
                    revision=event.revision,
                    prev=self._out(event.prev) if event.prev is not None else None,
                )
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def current_revision(self) -> int:
        return await self.inner.current_revision()

    async def compact(self, revision: int) -> None:
        await self.inner.compact(revision)

    async def close(self) -> None:
        """The inner storage is shared and closed by its owner."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
