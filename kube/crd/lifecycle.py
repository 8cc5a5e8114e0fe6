"""What happens to a CustomResourceDefinition object on create and update.

The parts of Kubernetes' CRD strategy that are not validation: defaults filled in,
the status a client may not write reset, ``status.storedVersions`` recording every
version objects have been stored at (so a version still holding data cannot be
dropped from ``spec.versions``), and the ``Invalid`` error raised before anything is
stored. Shared by the API server and ``kube.testing``.
"""

from __future__ import annotations

from typing import Any

from kube.errors import FieldError, Invalid, invalid

from .definition import set_defaults, storage_version, validate_crd

Obj = dict[str, Any]
GROUP = "apiextensions.k8s.io"
KIND = "CustomResourceDefinition"


def _raise(crd: Obj, errors: list[FieldError]) -> None:
    if errors:
        name = str((crd.get("metadata") or {}).get("name") or "")
        raise Invalid.of(kind=KIND, group=GROUP, name=name, errors=errors)


def prepare_create(crd: Obj) -> None:
    """Default, validate (raising ``Invalid``) and give a new CRD its first status."""
    set_defaults(crd)
    _raise(crd, validate_crd(crd))
    stored = storage_version(crd)
    crd["status"] = {"storedVersions": [stored] if stored else []}


def prepare_update(crd: Obj, *, old: Obj) -> None:
    """Keep the stored status, default and validate, record a new storage version."""
    crd["status"] = old.get("status") or {}
    set_defaults(crd)
    _raise(crd, validate_crd(crd, old=old))
    record_storage_version(crd)


def record_storage_version(crd: Obj) -> None:
    status = crd.setdefault("status", {})
    stored = storage_version(crd)
    versions = status.setdefault("storedVersions", [])
    if stored and stored not in versions:
        versions.append(stored)


def validate_status(crd: Obj) -> None:
    """A write to ``/status`` may not drop a version that still holds objects."""
    status = crd.get("status") or {}
    versions = {v.get("name") for v in (crd.get("spec") or {}).get("versions") or ()}
    errors: list[FieldError] = [
        invalid(f"status.storedVersions[{index}]", version, "must appear in spec.versions")
        for index, version in enumerate(status.get("storedVersions") or ())
        if version not in versions
    ]
    _raise(crd, errors)
