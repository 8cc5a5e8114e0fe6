"""Strategic merge patch (``application/strategic-merge-patch+json``), as kube-apiserver applies it.

Why this exists: client-side ``kubectl apply``, ``kubectl patch`` (its default type),
``cordon``/``uncordon``, ``rollout restart`` and most controllers written against
client-go send this flavour. It is a JSON merge patch that knows, from the API schema,
that some lists are really maps: ``containers`` are matched by ``name``, ``ports`` by
``containerPort``, ``finalizers`` are a set of strings. A merge patch would replace such
a list whole and lose the containers the patch did not mention.

The schema facts come from ``kube.model.schema`` (``x-kubernetes-patch-strategy`` and
``x-kubernetes-patch-merge-key``); the directives a patch may carry are:

* ``"key": null`` deletes the key;
* ``{"$patch": "replace"}`` in a map replaces it, ``{"$patch": "delete"}`` empties it;
  in a list item, ``delete`` removes the item with that merge key and ``replace``
  replaces the whole list with the patch's other items;
* ``$setElementOrder/<list>`` fixes the order of a merged list (kubectl apply always
  sends it), ``$deleteFromPrimitiveList/<list>`` removes strings from a merged set,
  ``$retainKeys`` drops every key of the map it does not name (unions such as
  ``volumes[*]`` and ``strategy``).

The algorithm follows apimachinery's ``strategicpatch.mergeMap`` step by step, including
its orderings (new list items come *before* the server's items unless
``$setElementOrder`` says otherwise) and its error texts, which kubectl users search for.
Errors are 400 where Kubernetes says 400 and 422 where it says 422; the others, which
kube-apiserver lets escape as 500s, are 400 here, since they are the client's mistake.
"""

from __future__ import annotations

import copy
from typing import Any

from kube.errors import BadRequest, UnsupportedMediaType
from kube.model.schema import JSONType, SchemaNode, node_for
from kube.patch._gofmt import go_value, json_kind
from kube.patch._smp_order import check_order, normalize_order, partition
from kube.patch._smp_values import (
    BAD_ORDER_LIST,
    BAD_PRIMITIVE_LIST,
    BAD_RETAIN_KEYS,
    DELETE_PREFIX,
    DIRECTIVE,
    ORDER_PREFIX,
    RETAIN_KEYS,
    bad_arg_type,
    discard_nulls,
    element_kind,
    fail,
    go_kind,
    hashable,
    no_merge_key,
    remove_directives,
    require_maps,
    unique,
)

UNSUPPORTED = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


def strategic_merge_patch(
    doc: dict[str, Any], patch: dict[str, Any], *, group: str, version: str, kind: str
) -> dict[str, Any]:
    """Apply a strategic merge ``patch`` to ``doc`` of the given kind; inputs are not mutated."""
    node = node_for(group=group, version=version, kind=kind)
    if node is None:
        # Custom resources carry no patch strategies, so Kubernetes refuses the type.
        raise UnsupportedMediaType(UNSUPPORTED)
    if not isinstance(patch, dict):
        raise BadRequest(
            f"json: cannot unmarshal {json_kind(patch)} into Go value of type map[string]interface {{}}"
        )
    # The merge works in place, like the Go code; private copies keep the callers' data intact.
    return _merge_map(original=copy.deepcopy(doc), patch=copy.deepcopy(patch), node=node)


# --- schema lookups -----------------------------------------------------------------

def _field(node: SchemaNode | None, key: str) -> SchemaNode | None:
    """The schema of ``key`` inside ``node``: a struct field, or a map's value schema."""
    if node is None:
        return None
    if node.values is not None and not node.properties:
        return node.values
    return node.field(key)


def _strategy(field: SchemaNode | None) -> str:
    """The patch strategy other than ``retainKeys`` (which the ``$retainKeys`` directive drives)."""
    declared = field.patch_strategy.split(",") if field is not None and field.patch_strategy else []
    others = [s for s in declared if s != "retainKeys"]
    if len(declared) > 2 or len(others) > 1:
        raise fail(f"unexpected patch strategy: {go_value(declared)}")
    return others[0] if others else ""


def _list_meta(node: SchemaNode | None, key: str) -> tuple[SchemaNode | None, str, str]:
    """(item schema, strategy, merge key) of list field ``key``."""
    field = _field(node, key)
    if field is None or field.type is not JSONType.ARRAY:
        return None, "", ""
    return field.items, _strategy(field), field.patch_merge_key


# --- maps ---------------------------------------------------------------------------

def _merge_map(*, original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None) -> dict[str, Any]:
    if DIRECTIVE in patch:
        return _map_directive(patch)
    _apply_retain_keys(original=original, patch=patch)
    _merge_ordered_lists(original=original, patch=patch, node=node)

    for key, patch_value in list(patch.items()):
        is_delete_list = key.startswith(DELETE_PREFIX)
        if is_delete_list:
            key = _strip_prefix(key, DELETE_PREFIX)
        if patch_value is None:
            original.pop(key, None)
            continue
        if key not in original or go_kind(original[key]) != go_kind(patch_value):
            # A new key, or one whose type changes: the patch value is taken as it is,
            # except that deletion lists never create the list they delete from.
            if not is_delete_list:
                discard_nulls(patch_value)
                _place(original, key, patch_value)
            continue
        current = original[key]
        if isinstance(current, dict):
            field = _field(node, key)
            if _strategy(field) == "replace":
                original[key] = patch_value
            else:
                original[key] = _merge_map(original=current, patch=patch_value, node=field)
        elif isinstance(current, list):
            items, strategy, merge_key = _list_meta(node, key)
            original[key] = _merge_list_field(
                original=current, patch=patch_value, items=items, strategy=strategy,
                merge_key=merge_key, is_delete_list=is_delete_list,
            )
        else:
            _place(original, key, patch_value)
    return original


def _place(target: dict[str, Any], key: str, value: Any) -> None:
    """Store a patch value, dropping it if it is itself a ``$patch`` directive."""
    cleaned, keep = remove_directives(value)
    if keep:
        target[key] = cleaned
    else:
        target.pop(key, None)


def _map_directive(patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch[DIRECTIVE]
    if directive == "replace":
        del patch[DIRECTIVE]
        return patch
    if directive == "delete":
        return {}
    raise fail(f"unknown patch type: {directive} in map: {go_value(patch)}")


def _apply_retain_keys(*, original: dict[str, Any], patch: dict[str, Any]) -> None:
    """``$retainKeys``: clear every key of ``original`` not listed (a union switching member)."""
    if RETAIN_KEYS not in patch:
        return
    retain = patch.pop(RETAIN_KEYS)
    if not isinstance(retain, list) or not all(hashable(v) for v in retain):
        raise fail(BAD_RETAIN_KEYS)
    keep = set(retain)
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_PREFIX, ORDER_PREFIX)):
            continue
        if key not in keep:
            # The patch would set a key it also asks to drop.
            raise fail(BAD_RETAIN_KEYS)
    for key in [k for k in original if k not in keep]:
        del original[key]


def _strip_prefix(key: str, prefix: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        raise fail(BAD_PRIMITIVE_LIST if prefix == DELETE_PREFIX else BAD_ORDER_LIST)
    return rest


# --- $setElementOrder -----------------------------------------------------------------

def _merge_ordered_lists(*, original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None) -> None:
    """Merge every list that has a ``$setElementOrder`` and put it in the requested order.

    The precedence is: the order list, then the patch's order, then the server's order
    for items the patch does not mention. Merged lists are removed from ``patch`` so the
    main loop does not merge them twice.
    """
    for directive in [k for k in patch if k.startswith(ORDER_PREFIX)]:
        order = patch.pop(directive)
        if not isinstance(order, list):
            raise bad_arg_type("[]interface {}", order)
        key = _strip_prefix(directive, ORDER_PREFIX)
        in_original, in_patch = key in original, key in patch
        original_list = original.get(key) if in_original else None
        patch_list = patch.get(key) if in_patch else None
        for value in (original_list, patch_list):
            if value is not None and not isinstance(value, list):
                raise bad_arg_type("[]interface {}", value)
        items, strategy, merge_key = _list_meta(node, key)
        check_order(patch_list=patch_list or [], order=order, merge_key=merge_key)

        if in_original and not in_patch:
            merged = original_list or []
        elif in_patch and not in_original:
            merged, _ = remove_directives(patch_list)
        elif in_original and in_patch:
            merged = _merge_list_field(
                original=original_list, patch=patch_list, items=items, strategy=strategy,
                merge_key=merge_key, is_delete_list=False,
            )
        else:
            continue

        if not merged and not original_list and not patch_list:
            # Nothing to order. (Go fails here, unable to tell the element type of
            # empty lists, and answers 500; an empty list is a fine answer.)
            original[key] = merged
            patch.pop(key, None)
            continue
        ordered, rest = partition(merged, by=order, merge_key=merge_key)
        is_map = element_kind(original_list or [], patch_list or []) == "map"
        original[key] = normalize_order(
            patch_items=ordered, server_items=rest, patch_order=order,
            server_order=original_list or [], merge_key=merge_key, is_map=is_map,
        )
        patch.pop(key, None)


# --- lists ----------------------------------------------------------------------------

def _merge_list_field(
    *, original: Any, patch: Any, items: SchemaNode | None, strategy: str, merge_key: str, is_delete_list: bool
) -> list[Any]:
    for value in (original, patch):
        if not isinstance(value, list):
            raise bad_arg_type("[]interface {}", value)
    if strategy == "merge" or is_delete_list:
        return _merge_list(original=original, patch=patch, items=items, merge_key=merge_key,
                           is_delete_list=is_delete_list)
    # Lists without a merge strategy (tolerations, args, command) are atomic.
    return list(patch)


def _merge_list(
    *, original: list[Any], patch: list[Any], items: SchemaNode | None, merge_key: str, is_delete_list: bool
) -> list[Any]:
    if not original and not patch:
        return original
    is_map = element_kind(original, patch) == "map"
    if not is_map:
        if is_delete_list:
            doomed = set(patch)
            return [v for v in original if v not in doomed]
        merged = unique([*original, *patch])
    else:
        if not merge_key:
            raise fail("cannot merge lists without merge key for struct")
        original, patch = _apply_item_directives(original=original, patch=patch, merge_key=merge_key)
        merged = _merge_items(original=original, patch=patch, merge_key=merge_key, items=items)
    mentioned, rest = partition(merged, by=patch, merge_key=merge_key)
    return normalize_order(patch_items=mentioned, server_items=rest, patch_order=patch,
                            server_order=original, merge_key=merge_key, is_map=is_map)


def _apply_item_directives(
    *, original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """Carry out ``$patch`` items; return the new original and the patch without them."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            require_maps(original)
            original = [o for o in original if not (merge_key in o and o[merge_key] == item[merge_key])]
        elif directive == "replace":
            replace = True  # keep scanning: other directive items are still pruned
        elif directive == "merge":
            raise fail("merging lists cannot yet be specified in the patch")
        else:
            raise fail(f"unknown patch type: {directive} in map: {go_value(item)}")
    if replace:
        return plain, []
    return original, plain


def _merge_items(
    *, original: list[Any], patch: list[Any], merge_key: str, items: SchemaNode | None
) -> list[Any]:
    # A new list: ``original`` must keep only the server's items, because it is the
    # server order that later decides where appended items go.
    merged = list(original)
    require_maps(merged)
    for item in patch:
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        at = next((i for i, o in enumerate(merged)
                   if merge_key in o and o[merge_key] == item[merge_key]), None)
        if at is None:
            # A typed decode would drop explicit nulls of a new item; do it now.
            discard_nulls(item)
            merged.append(item)
        else:
            merged[at] = _merge_map(original=merged[at], patch=item, node=items)
    return merged


# --- values ---------------------------------------------------------------------------

