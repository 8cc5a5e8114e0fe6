"""Hostile CRDs and custom resources: refused with a Status (Invalid), never a crash."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kube import crd as kcrd
from kube import model
from kube.errors import BadRequest, Invalid
from kube.model import FieldValidation

from .fixtures import widget, widget_crd

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    target = value
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return value


BASE_CRD = widget_crd()
CRD_PATHS = _paths(BASE_CRD)[1:]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CRD_PATHS), _json)
def test_mutated_crds_are_refused_cleanly(path: tuple[Any, ...], value: Any) -> None:
    crd = _replace(copy.deepcopy(BASE_CRD), path, value)
    try:
        model.prepare_create(crd, mode=FieldValidation.STRICT)
        kcrd.prepare_create(crd)
    except (Invalid, BadRequest):
        return
    kcrd.compile_crd(crd)  # whatever was accepted must be servable


CRD = copy.deepcopy(BASE_CRD)
kcrd.prepare_create(CRD)
VERSION = kcrd.compile_crd(CRD).versions["v1"]
BASE_OBJECT = widget(replicas=2, tags=["a"], labels={"k": "v"}, template={"apiVersion": "v1", "kind": "Pod"})
OBJECT_PATHS = _paths(BASE_OBJECT)[1:]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OBJECT_PATHS), _json, st.sampled_from(list(FieldValidation)))
def test_mutated_objects_are_refused_cleanly(path: tuple[Any, ...], value: Any, mode: FieldValidation) -> None:
    obj = _replace(copy.deepcopy(BASE_OBJECT), path, value)
    try:
        VERSION.prepare_create(obj, mode=mode)
    except (Invalid, BadRequest):
        return
