"""An established CRD as the server uses it: resource names, and per version the compiled
schema and what a write of a custom resource goes through.

``compile_crd`` turns a stored CRD into a ``CustomResource`` once (schemas, patterns and
CEL programs compiled); every write of one of its objects then costs a walk of the
object, not of the CRD. Per version, ``Version.prepare`` is the whole pipeline
Kubernetes runs on a custom resource before storing it:

1. prune unknown fields (``Strict``: refuse, ``Warn``: warn, ``Ignore``: silent);
2. apply defaults;
3. validate against the schema (types, bounds, enums, patterns, list sets and maps);
4. run the CEL rules (unless step 3 found a type error: the rules would only fail
   confusingly, so Kubernetes says it skipped them).

It raises one ``Invalid`` listing every problem, or returns the warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from kube.errors import BadRequest, FieldError, Invalid, invalid
from kube.meta import validate_object_meta, validate_object_meta_update
from kube.model.structure import FieldValidation, unknown_field
from kube.resources import STANDARD_VERBS, ResourceInfo

from .cel import RuleRunner, compile_rules
from .definition import storage_version
from .prune import apply_defaults, needs_defaults, needs_pruning, prune
from .schema import Schema, compile_schema
from .status import ESTABLISHED, is_true
from .validate import validate_value

Obj = dict[str, Any]
_SKIPPED_RULES = invalid("<nil>", "null", "some validation rules were not checked because the object was invalid; "
                                          "correct the existing errors to complete validation")


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Names:
    plural: str
    singular: str
    kind: str
    list_kind: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Names:
        kind = str(raw.get("kind") or "")
        return cls(
            plural=str(raw.get("plural") or ""),
            singular=str(raw.get("singular") or kind.lower()),
            kind=kind,
            list_kind=str(raw.get("listKind") or kind + "List"),
            short_names=tuple(raw.get("shortNames") or ()),
            categories=tuple(raw.get("categories") or ()),
        )


@dataclass(slots=True, kw_only=True, eq=False)
class Version:
    """One version of a custom resource: its schema and how to prepare a write."""

    group: str
    name: str
    kind: str
    namespaced: bool
    served: bool
    storage: bool
    schema: Schema
    raw_schema: Obj
    status: bool = False
    scale: Scale | None = None
    printer_columns: tuple[Obj, ...] = ()
    deprecated: bool = False
    deprecation_warning: str = ""
    defaults_on_read: bool = field(init=False)

    def __post_init__(self) -> None:
        self.defaults_on_read = self.schema.defaults_below

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.name}"

    def prepare_create(self, obj: Obj, *, mode: FieldValidation) -> list[str]:
        return self.prepare(obj, old=None, mode=mode)

    def prepare_update(self, obj: Obj, *, old: Obj, mode: FieldValidation) -> list[str]:
        return self.prepare(obj, old=old, mode=mode)

    def prepare(self, obj: Obj, *, old: Obj | None, mode: FieldValidation) -> list[str]:
        """Prune, default and validate ``obj`` in place; raise ``Invalid`` with every
        problem (metadata's included), or return the warnings for the client."""
        if not isinstance(obj.get("metadata", {}), dict):
            raise BadRequest(f'{self.kind} in version "{self.name}" cannot be handled as a {self.kind}: '
                             f"metadata must be an object, got {type(obj['metadata']).__name__}")
        errors: list[FieldError] = []
        warnings: list[str] = []
        pruned = prune(obj, self.schema)
        if mode is FieldValidation.STRICT:
            errors += [unknown_field(path) for path in pruned]
        elif mode is FieldValidation.WARN:
            warnings += [f'unknown field "{path}"' for path in pruned]
        apply_defaults(obj, self.schema)
        errors += self.errors(obj, old=old)
        if errors:
            meta = obj.get("metadata") or {}
            name = str(meta.get("name") or meta.get("generateName") or "")
            raise Invalid.of(kind=self.kind, group=self.group, name=name, errors=errors)
        if self.deprecated:
            warnings.append(self.deprecation_warning or f"{self.api_version} {self.kind} is deprecated")
        return warnings

    def errors(self, obj: Obj, *, old: Obj | None = None) -> list[FieldError]:
        """Metadata, schema and CEL problems of an already pruned and defaulted object."""
        meta = obj.get("metadata")
        errors = validate_object_meta(meta if isinstance(meta, dict) else {}, namespaced=self.namespaced)
        if old is not None:
            errors += validate_object_meta_update(meta if isinstance(meta, dict) else {}, old.get("metadata") or {})
        walk = validate_value(obj, self.schema)
        errors += walk.errors
        if self.schema.rules_below:
            if walk.type_errors:
                errors.append(_SKIPPED_RULES)
            else:
                runner = RuleRunner()
                runner.walk(obj, old, self.schema, "", has_old=old is not None)
                errors += runner.errors
        return errors

    def as_read(self, obj: Obj) -> Obj:
        """``obj`` as read from storage, shaped by this version's schema as Kubernetes'
        storage codec does: fields the schema does not have pruned, defaults applied
        (fields dropped or defaulted by a later schema, or written through another
        version). ``obj`` itself when nothing changes, else a changed copy (objects
        from the watch cache are shared and never mutated)."""
        prune_it = needs_pruning(obj, self.schema)
        default_it = self.defaults_on_read and needs_defaults(obj, self.schema)
        if not prune_it and not default_it:
            return obj
        copied: Obj = orjson.loads(orjson.dumps(obj))
        if prune_it:
            prune(copied, self.schema)
        apply_defaults(copied, self.schema)
        return copied


@dataclass(slots=True, kw_only=True, eq=False)
class CustomResource:
    """A CRD, compiled: what its resource is called and each version's rules."""

    name: str
    uid: str
    group: str
    names: Names
    namespaced: bool
    versions: dict[str, Version]
    storage_version: str
    resource_version: str = ""

    def served_versions(self) -> list[Version]:
        return [v for v in self.versions.values() if v.served]

    def info(self, version: str) -> ResourceInfo:
        v = self.versions[version]
        subresources = tuple(s for s, on in (("status", v.status), ("scale", v.scale is not None)) if on)
        return ResourceInfo(
            group=self.group,
            version=version,
            kind=self.names.kind,
            resource=self.names.plural,
            singular=self.names.singular,
            namespaced=self.namespaced,
            short_names=self.names.short_names,
            categories=self.names.categories,
            verbs=STANDARD_VERBS,
            subresources=subresources,
            subresource_kinds={"scale": "Scale"} if v.scale is not None else {},
        )

    def infos(self) -> list[ResourceInfo]:
        return [self.info(v.name) for v in self.served_versions()]

    def version_of(self, api_version: str) -> Version | None:
        group, _, version = api_version.rpartition("/")
        return self.versions.get(version) if group == self.group else None


def compile_crd(crd: Mapping[str, Any], *, use_accepted_names: bool = True) -> CustomResource:
    """Compile a CRD that passed ``validate_crd``. Served names are the accepted ones
    (``status.acceptedNames``) when the CRD is established, as Kubernetes serves them."""
    spec = crd["spec"]
    names_raw = spec.get("names") or {}
    accepted = (crd.get("status") or {}).get("acceptedNames")
    if use_accepted_names and accepted and accepted.get("plural") and is_true(crd, ESTABLISHED):
        names_raw = accepted
    names = Names.of(names_raw)
    namespaced = spec.get("scope") == "Namespaced"
    versions: dict[str, Version] = {}
    for raw in spec.get("versions") or ():
        schema_raw = ((raw.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object",
                                                                            "x-kubernetes-preserve-unknown-fields": True}
        subresources = raw.get("subresources") or {}
        scale_raw = subresources.get("scale")
        versions[raw["name"]] = Version(
            group=spec["group"],
            name=raw["name"],
            kind=names.kind,
            namespaced=namespaced,
            served=bool(raw.get("served")),
            storage=bool(raw.get("storage")),
            schema=compile_schema(schema_raw, rules=compile_rules),
            raw_schema=schema_raw,
            status="status" in subresources,
            scale=Scale(
                spec_replicas_path=scale_raw["specReplicasPath"],
                status_replicas_path=scale_raw["statusReplicasPath"],
                label_selector_path=scale_raw.get("labelSelectorPath") or "",
            ) if isinstance(scale_raw, Mapping) else None,
            printer_columns=tuple(raw.get("additionalPrinterColumns") or ()),
            deprecated=bool(raw.get("deprecated")),
            deprecation_warning=str(raw.get("deprecationWarning") or ""),
        )
    meta = crd.get("metadata") or {}
    return CustomResource(
        name=str(meta.get("name") or ""),
        uid=str(meta.get("uid") or ""),
        group=spec["group"],
        names=names,
        namespaced=namespaced,
        versions=versions,
        storage_version=storage_version(crd),
        resource_version=str(meta.get("resourceVersion") or ""),
    )
