"""The Storage semantics, written once over four compare-and-swap primitives.

Kubernetes' etcd3 store builds create / GuaranteedUpdate / delete / paged list out of a
handful of etcd calls: a get, a transaction "put if the mod revision is still X, else
give me the current value", the same for delete, and a range read at a revision. Both of
our backends offer exactly those primitives (etcd natively, SQLite through its single
writer), so the rules that matter — preconditions, retry on a lost race, no write for
a no-op update, continue tokens, which error for which failure — live here, once, and
the conformance suite checks them against both.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass

from kube.errors import BadRequest

from . import codec, paging
from .errors import (
    CONTINUE_EXPIRED,
    ContinueExpired,
    FutureRevision,
    RevisionCompacted,
    already_exists,
    not_found,
    too_large,
    too_old,
)
from .interface import DeleteCheck, ListResult, Obj, Preconditions, UpdateFunc, WatchEvent


@dataclass(frozen=True, slots=True)
class Raw:
    """A stored value and its mod revision."""

    data: bytes
    revision: int


@dataclass(frozen=True, slots=True)
class CasResult:
    """Outcome of a conditional write. On success ``revision`` is the write's revision;
    on failure ``current`` is what the key holds now (None: absent), so the caller can
    retry without another read — the ``Else(OpGet)`` branch of Kubernetes' txns."""

    ok: bool
    revision: int = 0
    current: Raw | None = None


@dataclass(frozen=True, slots=True)
class RangePage:
    """Keys in ``[start, end of prefix)`` at ``revision``, in key order. ``count`` is how
    many such keys exist in total (returned ones included), when ``more``."""

    kvs: list[tuple[str, bytes, int]]
    revision: int
    more: bool
    count: int


class KVStore(abc.ABC):
    """Base of both backends: the Storage protocol over the abstract primitives."""

    # -- primitives each backend provides -------------------------------------------

    @abc.abstractmethod
    async def _get_raw(self, key: str) -> Raw | None: ...

    @abc.abstractmethod
    async def _cas_put(self, key: str, data: bytes, *, expected: int) -> CasResult:
        """Store ``data`` if the key's mod revision is ``expected`` (0: key absent)."""

    @abc.abstractmethod
    async def _cas_delete(self, key: str, *, expected: int) -> CasResult:
        """Delete the key if its mod revision is ``expected``."""

    @abc.abstractmethod
    async def _range(self, *, prefix: str, start: str, revision: int, limit: int) -> RangePage:
        """Read at ``revision`` (0: latest). Raises RevisionCompacted / FutureRevision."""

    @abc.abstractmethod
    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[WatchEvent]: ...

    @abc.abstractmethod
    async def current_revision(self) -> int: ...

    @abc.abstractmethod
    async def compact(self, revision: int) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    # -- the Storage protocol ---------------------------------------------------------

    async def create(self, key: str, obj: Obj) -> Obj:
        data = codec.encode(key, obj)
        result = await self._cas_put(key, data, expected=0)
        if not result.ok:
            raise already_exists(key)
        # The caller hands ``obj`` over (Storage.create's contract), so the answer may
        # share its nested values: one JSON decode of the whole object less per create.
        return codec.as_stored(key, obj, result.revision)

    async def get(self, key: str) -> Obj:
        raw = await self._get_raw(key)
        if raw is None:
            raise not_found(key)
        return codec.decode(key, raw.data, raw.revision)

    async def guaranteed_update(
        self,
        key: str,
        update: UpdateFunc,
        *,
        preconditions: Preconditions | None = None,
        ignore_not_found: bool = False,
    ) -> Obj:
        state = await self._get_raw(key)
        while True:
            if state is None:
                if not ignore_not_found:
                    raise not_found(key)
                current: Obj = {}
                working: Obj = {}
            else:
                current = codec.decode(key, state.data, state.revision)
                # A second decode, not a copy of `current`: the update function may edit
                # its argument in place and return it, and we still need the original
                # to tell whether anything changed.
                working = codec.decode(key, state.data, state.revision)
            codec.check_preconditions(key, current, preconditions)
            new = await update(working)
            if new is None or codec.same_content(new, current):
                return current
            data = codec.encode(key, new)
            result = await self._cas_put(key, data, expected=state.revision if state else 0)
            if result.ok:
                return codec.decode(key, data, result.revision)
            state = result.current  # lost a race: retry against what won

    async def delete(
        self,
        key: str,
        *,
        preconditions: Preconditions | None = None,
        validate: DeleteCheck | None = None,
    ) -> Obj:
        state = await self._get_raw(key)
        while True:
            if state is None:
                raise not_found(key)
            current = codec.decode(key, state.data, state.revision)
            codec.check_preconditions(key, current, preconditions)
            if validate is not None:
                await validate(codec.decode(key, state.data, state.revision))
            result = await self._cas_delete(key, expected=state.revision)
            if result.ok:
                # `current` is ours (``validate`` had its own copy): the deleted object
                # is it, at the delete's revision.
                current["metadata"]["resourceVersion"] = str(result.revision)
                return current
            state = result.current

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        continue_token: str = "",
    ) -> ListResult:
        start = prefix
        if continue_token:
            if revision:
                raise BadRequest("specifying resource version is not allowed when using continue")
            start, token_rv = paging.decode_continue(continue_token, prefix)
            revision = max(token_rv, 0)  # LATEST (-1) reads at the newest revision
        if revision < 0:
            raise BadRequest(f"invalid resource version: {revision}")
        limit = max(limit, 0)
        try:
            page = await self._range(prefix=prefix, start=start, revision=revision, limit=limit)
        except RevisionCompacted as e:
            if continue_token:
                fresh = paging.encode_continue(next_key=start, prefix=prefix, revision=paging.LATEST)
                raise ContinueExpired(CONTINUE_EXPIRED, continue_token=fresh) from None
            raise too_old(requested=revision, compacted=e.compacted) from None
        except FutureRevision as e:
            raise too_large(requested=revision, current=e.current) from None
        items = [codec.decode(k, data, rev) for k, data, rev in page.kvs]
        if not (page.more and page.kvs):
            return ListResult(items=items, revision=page.revision)
        token = paging.encode_continue(
            next_key=page.kvs[-1][0] + "\x00", prefix=prefix, revision=page.revision
        )
        return ListResult(
            items=items,
            revision=page.revision,
            continue_token=token,
            remaining=max(page.count - len(items), 0),
        )
