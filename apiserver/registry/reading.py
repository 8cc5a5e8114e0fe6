"""LIST and WATCH: which source answers, and with what consistency.

Kubernetes lets the client choose with ``resourceVersion`` (and ``resourceVersionMatch``):

- unset: a consistent read — the newest data, from storage (paged by ``limit``);
- ``"0"``: any recent data — from the watch cache, no storage round trip; this is what
  informers use, and why a kubelet's "my 30 pods" list stays cheap at 30,000 pods;
- ``N`` (NotOlderThan): data at least as new as N — from the cache if it has reached N,
  otherwise from storage;
- ``N`` with ``Exact``: the list as of revision N — from storage's history (410 Expired
  once compacted);
- ``continue``: the next page of an earlier storage list, at that list's revision.

Storage lists with a selector keep reading pages until ``limit`` matching items are
found, as Kubernetes' etcd3 store does, so a selective list still fills its page.

Every WATCH is served by the cache: from revision N, or (no revision, or ``0``) with a
synthetic ADDED for each current object first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from apiserver.storage import errors as storage_errors
from apiserver.watchcache.events import ADDED, BOOKMARK, CacheEvent
from kube import fields, labels
from kube.errors import BadRequest
from kube.resources import ResourceInfo

from .context import Context
from .options import ListOptions, ResourceVersionMatch

if TYPE_CHECKING:
    from .store import ResourceStore

Obj = dict[str, Any]
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPage:
    items: list[Obj]
    """Objects as stored; from the cache they are shared — never mutate them."""
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None

    def list_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": self.resource_version}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining is not None and self.continue_token:
            meta["remainingItemCount"] = self.remaining
        return meta

    def as_list(self, info: ResourceInfo) -> Obj:
        return {"kind": info.list_kind, "apiVersion": info.api_version, "metadata": self.list_meta(), "items": self.items}


class EventStream(Protocol):
    """What a watch handler iterates: events until the watch ends; ``close`` hangs up."""

    def __aiter__(self) -> AsyncIterator[CacheEvent]: ...

    def close(self) -> None: ...


def parse_revision(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise BadRequest(f'invalid resource version "{text}": must be a non-negative integer')
    return value


def _selectors(
    info: ResourceInfo, options: ListOptions, *, name: str = ""
) -> tuple[labels.Selector | None, fields.FieldSelector | None]:
    label = labels.parse(options.label_selector) if options.label_selector else None
    field_text = options.field_selector
    if name:
        term = f"metadata.name={fields.escape_value(name)}"
        field_text = f"{field_text},{term}" if field_text else term
    field = fields.convert(info.resource, fields.parse(field_text)) if field_text else None
    if label is not None and label.empty:
        label = None
    if field is not None and field.empty:
        field = None
    return label, field


def _matcher(
    info: ResourceInfo, label: labels.Selector | None, field: fields.FieldSelector | None
) -> Callable[[Obj], bool] | None:
    if label is None and field is None:
        return None
    resource = info.resource

    def matches(obj: Obj) -> bool:
        if label is not None and not label.matches((obj.get("metadata") or {}).get("labels") or {}):
            return False
        return field is None or field.matches(fields.object_fields(resource, obj))

    return matches


async def list_objects(store: ResourceStore, *, ctx: Context, options: ListOptions) -> ListPage:
    info = store.info
    label, field = _selectors(info, options)
    prefix = store.prefix(namespace=ctx.namespace)
    cacher = store.cacher
    rv = options.resource_version
    if options.continue_token or rv is None or cacher is None:
        return await _from_storage(
            store, prefix=prefix, revision=0, limit=options.limit, token=options.continue_token, label=label, field=field
        )
    if rv == "0" and options.resource_version_match is not ResourceVersionMatch.EXACT:
        return _from_cache(store, ctx=ctx, label=label, field=field)
    revision = parse_revision(rv)
    if options.resource_version_match is ResourceVersionMatch.EXACT:
        return await _from_storage(
            store, prefix=prefix, revision=revision, limit=options.limit, token="", label=label, field=field
        )
    if options.limit <= 0 and cacher.revision >= revision:
        return _from_cache(store, ctx=ctx, label=label, field=field)
    # The cache has not seen N (it only learns revisions from its own resource's
    # changes): storage's newest data is "not older than N" whenever storage reached N.
    page = await _from_storage(store, prefix=prefix, revision=0, limit=options.limit, token="", label=label, field=field)
    current = int(page.resource_version)
    if current < revision:
        raise storage_errors.too_large(requested=revision, current=current)
    return page


def _from_cache(
    store: ResourceStore, *, ctx: Context, label: labels.Selector | None, field: fields.FieldSelector | None
) -> ListPage:
    assert store.cacher is not None
    namespace = ctx.namespace if store.info.namespaced else ""
    items, revision = store.cacher.list(namespace=namespace, label_selector=label, field_selector=field)
    return ListPage(items=items, resource_version=str(revision))


async def _from_storage(
    store: ResourceStore,
    *,
    prefix: str,
    revision: int,
    limit: int,
    token: str,
    label: labels.Selector | None,
    field: fields.FieldSelector | None,
) -> ListPage:
    storage = store.storage
    matches = _matcher(store.info, label, field)
    if matches is None:
        result = await storage.list(prefix, revision=revision, limit=limit, continue_token=token)
        return ListPage(
            items=result.items,
            resource_version=str(result.revision),
            continue_token=result.continue_token,
            remaining=result.remaining,
        )
    if limit <= 0:
        result = await storage.list(prefix, revision=revision, continue_token=token)
        items = [obj for obj in result.items if matches(obj)]
        return ListPage(items=items, resource_version=str(result.revision))
    # Asking for exactly the number still missing means a page never holds more
    # matches than fit, so the storage's continue token is always the right resume point.
    items = []
    while True:
        result = await storage.list(prefix, revision=revision, limit=limit - len(items), continue_token=token)
        items.extend(obj for obj in result.items if matches(obj))
        token = result.continue_token
        revision = 0  # the token carries the revision from here on
        if len(items) >= limit or not token:
            break
    return ListPage(items=items, resource_version=str(result.revision), continue_token=token)


async def watch_objects(store: ResourceStore, *, ctx: Context, options: ListOptions) -> EventStream:
    cacher = store.cacher
    info = store.info
    if cacher is None:
        raise BadRequest(f"{info.group_resource} cannot be watched")
    label, field = _selectors(info, options, name=ctx.name)
    namespace = ctx.namespace if info.namespaced else ""
    rv = options.resource_version
    if options.send_initial_events:
        # WatchList: the current objects as ADDED, then a bookmark marking their end.
        items, revision = cacher.list(namespace=namespace, label_selector=label, field_selector=field)
        first = [CacheEvent(ADDED, obj, revision) for obj in items]
        first.append(
            CacheEvent(
                BOOKMARK,
                {
                    "kind": info.kind,
                    "apiVersion": info.api_version,
                    "metadata": {"resourceVersion": str(revision), "annotations": {INITIAL_EVENTS_END: "true"}},
                },
                revision,
            )
        )
        watcher = cacher.watch(
            revision=revision,
            namespace=namespace,
            label_selector=label,
            field_selector=field,
            allow_bookmarks=options.allow_bookmarks,
        )
        watcher.prepend(first)
        return watcher
    if rv is None and options.send_initial_events is False:
        revision = cacher.revision  # "start at most recent", no initial state
    else:
        revision = 0 if rv in (None, "0") else parse_revision(rv)
    return cacher.watch(
        revision=revision,
        namespace=namespace,
        label_selector=label,
        field_selector=field,
        allow_bookmarks=options.allow_bookmarks,
    )
