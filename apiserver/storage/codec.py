"""Objects to stored bytes and back.

The stored value never contains ``metadata.resourceVersion``: the revision of the write
*is* the resourceVersion, and writing it into the value would need the revision before
the write has one. So we strip it on the way in and set it from the key's mod revision on
the way out, as Kubernetes' ``APIObjectVersioner`` does. Values are JSON (orjson), which
keeps the database readable with ``sqlite3`` or ``etcdctl``.
"""

from __future__ import annotations

from typing import Any

import orjson

from kube.errors import InternalError

from .errors import conflict, corrupt
from .interface import Obj, Preconditions


def without_resource_version(obj: Obj) -> Obj:
    """A shallow copy of ``obj`` whose metadata lacks resourceVersion (the input is not
    touched: callers may hold on to it)."""
    md = obj.get("metadata")
    if isinstance(md, dict) and "resourceVersion" in md:
        return {**obj, "metadata": {k: v for k, v in md.items() if k != "resourceVersion"}}
    return obj


def encode(key: str, obj: Obj) -> bytes:
    try:
        return orjson.dumps(without_resource_version(obj))
    except TypeError as e:  # orjson.JSONEncodeError: a caller put a non-JSON value in
        raise InternalError.of(f"cannot encode the object for key {key!r}: {e}") from e


def decode(key: str, data: bytes, revision: int) -> Obj:
    """The stored object with ``metadata.resourceVersion`` set to ``revision``. Anything
    that is not a JSON object is an InternalError naming the key, never a traceback."""
    try:
        obj: Any = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise corrupt(key, e) from e
    if not isinstance(obj, dict):
        raise corrupt(key, f"expected a JSON object, found {type(obj).__name__}")
    md = obj.setdefault("metadata", {})
    if not isinstance(md, dict):
        raise corrupt(key, "metadata is not a JSON object")
    md["resourceVersion"] = str(revision)
    return obj


def as_stored(key: str, obj: Obj, revision: int) -> Obj:
    """What ``decode(key, encode(key, obj), revision)`` returns, without the JSON round
    trip a write would otherwise pay to answer with what it just wrote: a copy of ``obj``
    and of its metadata (neither input dict is touched), resourceVersion last. Nested
    values are ``obj``'s own, so only a caller that hands its object over (a create's
    body) may use it; the stored bytes are what ``encode`` made of them."""
    md = obj.get("metadata", {})
    if not isinstance(md, dict):
        return decode(key, encode(key, obj), revision)  # the InternalError a read gives
    out = dict(obj)  # metadata keeps its place, or comes last as decode adds it
    out["metadata"] = meta = {k: v for k, v in md.items() if k != "resourceVersion"}
    meta["resourceVersion"] = str(revision)
    return out


def same_content(a: Obj, b: Obj) -> bool:
    """Equal apart from resourceVersion: an update that changes nothing else is not
    written (no new revision, no watch event)."""
    return without_resource_version(a) == without_resource_version(b)


def check_preconditions(key: str, obj: Obj, preconditions: Preconditions | None) -> None:
    """Conflict when ``obj`` (the current value; ``{}`` when absent) does not match, with
    Kubernetes' wording (``storage.Preconditions.Check`` as the registry reports it)."""
    if preconditions is None:
        return
    md = obj.get("metadata") or {}
    if preconditions.uid is not None and preconditions.uid != md.get("uid", ""):
        raise conflict(
            key,
            f"Precondition failed: UID in precondition: {preconditions.uid}, "
            f"UID in object meta: {md.get('uid', '')}",
        )
    rv = preconditions.resource_version
    if rv is not None and rv != md.get("resourceVersion", ""):
        raise conflict(
            key,
            f"Precondition failed: ResourceVersion in precondition: {rv}, "
            f"ResourceVersion in object meta: {md.get('resourceVersion', '')}",
        )
