"""How the fake API treats each kind where kinds differ, kept to what controllers observe.

The API server gives each resource a strategy; the fake needs the few differences a
controller's behaviour depends on: which kinds count ``metadata.generation`` (and what
bumps it), which have a ``status`` subresource (so a write of the object ignores
status and a write of ``/status`` ignores the rest), what a new object's status starts
as, and how the object is validated and defaulted — ``kube.model`` for built-in kinds,
the CRD's schema (``kube.crd``) for custom resources.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kube import crd as kcrd
from kube import model
from kube.model import FieldValidation
from kube.resources import ResourceInfo

Obj = dict[str, Any]

_GENERATION = frozenset({
    ("", "pods"), ("apps", "deployments"), ("apps", "replicasets"), ("apps", "daemonsets"),
    ("apps", "statefulsets"), ("batch", "jobs"), ("batch", "cronjobs"), ("policy", "poddisruptionbudgets"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
})  # fmt: skip
_KEEP_STATUS_ON_CREATE = frozenset({("", "nodes")})


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """One served resource (version) as the fake writes it."""

    info: ResourceInfo
    custom: kcrd.Version | None = None
    """The CRD version for a custom resource; None for built-in kinds."""

    @property
    def has_status(self) -> bool:
        return "status" in self.info.subresources

    @property
    def tracks_generation(self) -> bool:
        return self.custom is not None or (self.info.group, self.info.resource) in _GENERATION

    def generation_inputs(self, obj: Obj) -> Any:
        if self.custom is not None:
            skip = ("metadata", "status") if self.has_status else ("metadata",)
            return {k: v for k, v in obj.items() if k not in skip}
        if (self.info.group, self.info.resource) == ("apps", "deployments"):
            return obj.get("spec"), (obj.get("metadata") or {}).get("annotations")
        return obj.get("spec")

    def is_crd(self) -> bool:
        return (self.info.group, self.info.resource) == (kcrd.GROUP, "customresourcedefinitions")

    # -- create / update -----------------------------------------------------------------

    def prepare_create(self, obj: Obj, *, mode: FieldValidation) -> list[str]:
        """Reset what a client may not set, then default and validate (raises Invalid)."""
        meta = obj["metadata"]
        if self.has_status and (self.info.group, self.info.resource) not in _KEEP_STATUS_ON_CREATE:
            obj.pop("status", None)
            if (self.info.group, self.info.resource) == ("", "pods"):
                obj["status"] = {"phase": "Pending"}
            elif (self.info.group, self.info.resource) == ("", "namespaces"):
                obj["status"] = {"phase": "Active"}
        if self.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if self.custom is not None:
            return self.custom.prepare_create(obj, mode=mode)
        warnings = model.prepare_create(obj, mode=mode)
        if self.is_crd():
            kcrd.prepare_create(obj)
        return warnings

    def prepare_update(self, obj: Obj, *, old: Obj, mode: FieldValidation, subresource: str) -> list[str]:
        """Keep what this kind of write may not change, bump the generation, validate."""
        if self.is_crd() and subresource != "status":
            kcrd.set_defaults(obj)  # before comparing specs: a left-out default is no change
        if subresource == "status":
            status = obj.get("status")
            managed = obj["metadata"].get("managedFields")
            obj.clear()
            obj.update(copy.deepcopy(old))
            if managed is not None:
                obj["metadata"]["managedFields"] = managed
            if status is None:
                obj.pop("status", None)
            else:
                obj["status"] = status
        elif self.has_status:
            if "status" in old:
                obj["status"] = copy.deepcopy(old["status"])
            else:
                obj.pop("status", None)
        generation = old["metadata"].get("generation")
        if generation is not None:
            obj["metadata"]["generation"] = generation
            if self.tracks_generation and self.generation_inputs(obj) != self.generation_inputs(old):
                obj["metadata"]["generation"] = generation + 1
        if self.custom is not None:
            return self.custom.prepare_update(obj, old=old, mode=mode)
        warnings = model.prepare_update(obj, old=old, mode=mode)
        if self.is_crd():
            if subresource == "status":
                kcrd.validate_status(obj)
            else:
                kcrd.prepare_update(obj, old=old)
        return warnings
