"""Strategies for CustomResourceDefinitions and for the custom resources they define.

``CRDStrategy`` is Kubernetes' CRD strategy: a new CRD is defaulted and validated in
full (``kube.crd.lifecycle``) before it is stored, its status starts empty but for
``storedVersions``, and spec changes bump the generation. ``/status`` writes come from
the controller in ``controller.py`` (and from clients that know what they do).

``VersionStrategy`` serves one version of a custom resource: the generic custom
resource behaviour (generation bumps on any change outside metadata and status, 415
for strategic merge patches) plus that version's schema pipeline (prune, default,
validate, CEL) from ``kube.crd``. One instance per served version; a CRD update swaps
in a new one.
"""

from __future__ import annotations

from collections.abc import Callable

from apiserver.registry import Context
from apiserver.registry.strategies import CustomResourceStrategy
from apiserver.registry.strategy import Obj, StatusStrategy, Strategy
from kube import crd as kcrd
from kube import model
from kube.errors import MethodNotAllowed
from kube.resources import ResourceInfo


class CRDStrategy(Strategy):
    tracks_generation = True

    def prepare_for_create(self, *, ctx: Context, obj: Obj) -> None:
        super().prepare_for_create(ctx=ctx, obj=obj)
        obj.pop("status", None)

    def prepare_for_update(self, *, ctx: Context, obj: Obj, old: Obj) -> None:
        # Defaults first (as Kubernetes' decoder does), so a client that leaves out a
        # defaulted field does not look like a spec change and bump the generation.
        kcrd.set_defaults(obj)
        super().prepare_for_update(ctx=ctx, obj=obj, old=old)

    def validate(self, *, ctx: Context, obj: Obj) -> list[str]:
        warnings = model.prepare_create(obj, mode=ctx.field_validation)
        kcrd.prepare_create(obj)
        return warnings

    def validate_update(self, *, ctx: Context, obj: Obj, old: Obj) -> list[str]:
        warnings = model.prepare_update(obj, old=old, mode=ctx.field_validation)
        kcrd.prepare_update(obj, old=old)
        return warnings

    def status_strategy(self) -> Strategy:
        return CRDStatusStrategy(self)


class CRDStatusStrategy(StatusStrategy):
    def validate_update(self, *, ctx: Context, obj: Obj, old: Obj) -> list[str]:
        warnings = model.prepare_update(obj, old=old, mode=ctx.field_validation)
        kcrd.validate_status(obj)
        return warnings


class VersionStrategy(CustomResourceStrategy):
    """One served version of a custom resource."""

    def __init__(self, info: ResourceInfo, *, version: kcrd.Version, terminating: Callable[[], bool]) -> None:
        super().__init__(info)
        self.version = version
        self._terminating = terminating

    def prepare_for_create(self, *, ctx: Context, obj: Obj) -> None:
        if self._terminating():
            # The CRD is being deleted and its objects with it: no new ones (Kubernetes' crdHandler).
            raise MethodNotAllowed("create not allowed while custom resource definition is terminating")
        super().prepare_for_create(ctx=ctx, obj=obj)

    def validate(self, *, ctx: Context, obj: Obj) -> list[str]:
        return self.version.prepare_create(obj, mode=ctx.field_validation)

    def validate_update(self, *, ctx: Context, obj: Obj, old: Obj) -> list[str]:
        return self.version.prepare_update(obj, old=old, mode=ctx.field_validation)
