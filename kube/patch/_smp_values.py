"""Shared pieces of strategic merge patch: directive names, errors, and value helpers.

Kept apart from the merge itself so that the list-ordering rules (``_smp_order``) and
the merge (``strategic``) can both use them without importing each other.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from kube.errors import BadRequest, Invalid, StatusError
from kube.patch._gofmt import go_type, go_value
from kube.patch.json_patch import REJECTED

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
ORDER_PREFIX = "$setElementOrder"
DELETE_PREFIX = "$deleteFromPrimitiveList"

# mergepatch's sentinel errors: the handler answers the first group 400, the second 422.
BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
BAD_ORDER_LIST = "invalid patch format of setElementOrder list"
NO_LIST_OF_LISTS = "lists of lists are not supported"


def fail(message: str) -> StatusError:
    """The Status for a merge error, coded as kube-apiserver's interpretStrategicMergePatchError."""
    if message == NO_LIST_OF_LISTS:
        return Invalid(REJECTED)
    return BadRequest(message)


def no_merge_key(item: Any, merge_key: str) -> StatusError:
    return fail(f"map: {go_value(item)} does not contain declared merge key: {merge_key}")


def bad_arg_type(expected: str, actual: Any) -> StatusError:
    return fail(f"expected a {expected}, but received a {go_type(actual)}")


def go_kind(value: Any) -> str:
    """The Go type a JSON value decodes to; a type change replaces instead of merging."""
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    return go_type(value)


def element_kind(*lists: list[Any]) -> str:
    kinds = {go_kind(v) for v in chain(*lists)}
    if not kinds:
        raise fail("no elements in any of the given slices")
    if "slice" in kinds:
        raise fail(NO_LIST_OF_LISTS)
    if len(kinds) > 1:
        raise fail(f"list element types are not identical: {go_value(list(lists))}")
    return kinds.pop()


def unique(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def hashable(value: Any) -> bool:
    return not isinstance(value, dict | list)


def remove_directives(value: Any) -> tuple[Any, bool]:
    """Strip ``$patch`` maps from a value that is stored as it is; False: drop it all."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        for key in list(value):
            cleaned, keep = remove_directives(value[key])
            if keep:
                value[key] = cleaned
            else:
                del value[key]
        return value, True
    if isinstance(value, list):
        kept = [remove_directives(v) for v in value]
        return [v for v, keep in kept if keep], True
    return value, True


def discard_nulls(value: Any) -> None:
    """Null members mean "delete"; where nothing exists to delete they are dropped."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for v in value.values():
            discard_nulls(v)
    elif isinstance(value, list):
        for v in value:
            discard_nulls(v)


def require_maps(values: list[Any]) -> None:
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise fail(f"value for key {index} is not a map")


def split_deletions(values: list[Any]) -> tuple[list[Any], list[Any]]:
    kept: list[Any] = []
    doomed: list[Any] = []
    for value in values:
        if not isinstance(value, dict):
            raise bad_arg_type("map[string]interface {}", value)
        (doomed if value.get(DIRECTIVE) == "delete" else kept).append(value)
    return kept, doomed
