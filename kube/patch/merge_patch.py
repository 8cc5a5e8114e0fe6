"""RFC 7386 JSON merge patch (``application/merge-patch+json``).

This is what ``kubectl scale`` sends to ``/scale`` and what ``kubectl patch --type=merge``
sends: objects merge key by key, ``null`` deletes a key, and everything else — lists
included — replaces the old value whole. It is the right patch for custom resources,
which have no strategic-merge metadata.

We follow the library kube-apiserver uses (evanphx/json-patch) where it refines the RFC:
a value that is placed rather than merged has the ``null`` members of its objects
dropped, including objects nested in lists, because a typed Go object cannot hold them
anyway; so ``{"a": [{"b": null}]}`` stores ``{"a": [{}]}``.
"""

from __future__ import annotations

import copy
from typing import Any

from kube.errors import BadRequest
from kube.patch._gofmt import json_kind


def merge_patch(doc: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply merge ``patch`` to ``doc`` and return the new document (inputs untouched)."""
    if not isinstance(patch, dict):
        # The strict decoder reads the body into map[string]any before merging.
        raise BadRequest(
            f"error decoding patch: json: cannot unmarshal {json_kind(patch)} into Go value of type map[string]interface {{}}"
        )
    return _merge_objects(copy.deepcopy(doc), patch)


def _merge_objects(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into ``target`` (a private copy, mutated and returned)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
            continue
        current = target.get(key)
        if current is None:
            target[key] = _without_nulls(value)
        elif isinstance(current, dict) and isinstance(value, dict):
            target[key] = _merge_objects(current, value)
        elif isinstance(current, dict):
            # evanphx returns a non-object patch value unpruned when it replaces an object.
            target[key] = copy.deepcopy(value)
        else:
            target[key] = _without_nulls(value)
    return target


def _without_nulls(value: Any) -> Any:
    """A copy of ``value`` whose objects (at any depth) have their null members removed."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
