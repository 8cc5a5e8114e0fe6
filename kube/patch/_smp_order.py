"""List order in strategic merge patch: ``$setElementOrder`` and where new items go.

Kubernetes gives a merged list a deterministic order: items the patch names follow the
patch's (or ``$setElementOrder``'s) order, items only the server has keep theirs, and
the two are interleaved by the server's order, so an item the patch adds lands *in
front of* server items it does not know the position of. Users see this order in
``kubectl get -o yaml``; keeping it identical avoids spurious diffs.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from kube.patch._gofmt import go_value
from kube.patch._smp_values import (
    DIRECTIVE,
    ORDER_PREFIX,
    bad_arg_type,
    fail,
    hashable,
    no_merge_key,
    require_maps,
    split_deletions,
)


def check_order(*, patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """Every (non-deleting) patch item must appear in the order list, in the same order."""
    if not order or not patch_list:
        return
    items = split_deletions(patch_list)[0] if merge_key else patch_list
    at_patch = at_order = 0
    while at_patch < len(items) and at_order < len(order):
        if isinstance(items[at_patch], dict) and DIRECTIVE in items[at_patch]:
            at_patch += 1
            continue
        if same_key(items[at_patch], order[at_order], merge_key):
            at_patch += 1
        at_order += 1
    if at_patch < len(items):
        raise fail(
            f"The order in patch list:\n{go_value(patch_list)}\n doesn't match "
            f"{ORDER_PREFIX} list:\n{go_value(order)}\n"
        )


def same_key(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return bool(left == right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise bad_arg_type("map[string]interface {}", item)
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
    return bool(left[merge_key] == right[merge_key])


def partition(values: list[Any], *, by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Split ``values`` into those that ``by`` mentions and the rest, keeping order."""
    if not merge_key:
        wanted = {v for v in by if hashable(v)}
        return ([v for v in values if hashable(v) and v in wanted],
                [v for v in values if not (hashable(v) and v in wanted)])
    mentioned: list[Any] = []
    rest: list[Any] = []
    for value in values:
        if not isinstance(value, dict):
            raise bad_arg_type("map[string]interface {}", value)
        if merge_key not in value:
            raise no_merge_key(value, merge_key)
        require_maps(by)
        found = any(merge_key in b and b[merge_key] == value[merge_key] for b in by)
        (mentioned if found else rest).append(value)
    return mentioned, rest


def normalize_order(
    *, patch_items: list[Any], server_items: list[Any], patch_order: list[Any],
    server_order: list[Any], merge_key: str, is_map: bool,
) -> list[Any]:
    """Sort each side by its own order, then interleave them by the server's order.

    A server item goes before a patch item only when both appear in the live list and
    the server item came first there; so new items the patch adds land in front.
    """
    patch_items = sort_by(patch_items, order=patch_order, merge_key=merge_key, is_map=is_map)
    server_items = sort_by(server_items, order=server_order, merge_key=merge_key, is_map=is_map)
    out: list[Any] = []
    left, right = 0, 0
    while left < len(server_items) or right < len(patch_items):
        if right >= len(patch_items):
            out.append(server_items[left])
            left += 1
            continue
        if left < len(server_items):
            at_left = index(server_order, server_items[left], merge_key=merge_key, is_map=is_map)
            at_right = index(server_order, patch_items[right], merge_key=merge_key, is_map=is_map)
            if 0 <= at_left < at_right:
                out.append(server_items[left])
                left += 1
                continue
        out.append(patch_items[right])
        right += 1
    return out


def sort_by(values: list[Any], *, order: list[Any], merge_key: str, is_map: bool) -> list[Any]:
    doomed: list[Any] = []
    if is_map:
        for item in chain(values, order):
            if not isinstance(item, dict):
                raise bad_arg_type("map[string]interface {}", item)
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
        values, doomed = split_deletions(values)
    ranked = sorted(values, key=lambda v: index(order, v, merge_key=merge_key, is_map=is_map))
    return ranked + doomed


def index(values: list[Any], wanted: Any, *, merge_key: str, is_map: bool) -> int:
    def key_of(item: Any) -> Any:
        if not is_map:
            return item
        return item.get(merge_key) if isinstance(item, dict) else None

    target = key_of(wanted)
    return next((i for i, v in enumerate(values) if key_of(v) == target), -1)
