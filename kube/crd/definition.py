"""Validation of a CustomResourceDefinition object itself, before it is stored.

A CRD that is accepted must be servable: its names usable in URLs, exactly one storage
version, a structural schema per version whose defaults fit the schema and whose CEL
rules compile, printer columns and scale paths that make sense. So everything is
checked before anything is written, and every problem is reported with the field it
is in, in Kubernetes' words (``ValidateCustomResourceDefinition``)::

    spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.a +", ...}: compilation failed: ERROR: <input>:1:9: Syntax error: ...

``set_defaults`` fills what the v1 API defaults (singular, listKind, conversion).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kube.errors import FieldError, duplicate, forbidden, invalid, not_supported, required
from kube.model.checks import invalid_shown
from kube.names import is_dns1035_label, is_dns1123_subdomain

from . import cel
from .columns import check_columns, check_scale
from .prune import unknown_fields
from .schema import MISSING, Schema, compile_schema
from .structural import check_schema
from .validate import validate_value

Obj = dict[str, Any]
SCOPES = ("Cluster", "Namespaced")


def set_defaults(crd: Obj) -> None:
    """What apiextensions v1 defaults on a CRD (``SetDefaults_CustomResourceDefinition``)."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict) and isinstance(names.get("kind"), str) and names["kind"]:
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    conversion = spec.get("conversion")
    if conversion is None:
        spec["conversion"] = {"strategy": "None"}
    elif isinstance(conversion, dict):
        conversion.setdefault("strategy", "None")


def storage_version(crd: Mapping[str, Any]) -> str:
    for version in (crd.get("spec") or {}).get("versions") or ():
        if isinstance(version, Mapping) and version.get("storage"):
            return str(version.get("name") or "")
    return ""


def validate_crd(crd: Obj, *, old: Obj | None = None) -> list[FieldError]:
    """Every problem of ``crd`` (a create, or an update of ``old``); it has been
    through ``set_defaults`` and the built-in type checks."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errors: list[FieldError] = []
    group = spec.get("group")
    names: dict[str, Any] = spec["names"] if isinstance(spec.get("names"), dict) else {}
    plural = names.get("plural") or ""
    name = (crd.get("metadata") or {}).get("name") or ""
    if name != f"{plural}.{group}":
        errors.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        errors.append(required("spec.group"))
    else:
        errors += [invalid("spec.group", group, msg) for msg in is_dns1123_subdomain(str(group))]
        if "." not in str(group):
            errors.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = spec.get("scope")
    if not scope:
        errors.append(required("spec.scope"))
    elif scope not in SCOPES:
        errors.append(not_supported("spec.scope", scope, list(SCOPES)))
    errors += _names(names)
    errors += _versions(spec)
    errors += _conversion(spec)
    if spec.get("preserveUnknownFields"):
        errors.append(invalid("spec.preserveUnknownFields", True, "cannot set to true, set "
                              "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"))
    if old is not None:
        errors += _update(crd, old)
    return errors


def _names(names: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    for field in ("plural", "singular"):
        value = names.get(field)
        if not value:
            errors.append(required(f"spec.names.{field}"))
        else:
            errors += [invalid(f"spec.names.{field}", value, msg) for msg in is_dns1035_label(str(value))]
    for field in ("kind", "listKind"):
        value = names.get(field)
        if not value:
            errors.append(required(f"spec.names.{field}"))
        else:
            errors += [invalid(f"spec.names.{field}", value, msg) for msg in is_dns1035_label(str(value).lower())]
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        errors.append(invalid("spec.names.listKind", names.get("listKind"), "kind and listKind cannot be the same"))
    for field in ("shortNames", "categories"):
        for index, value in enumerate(names.get(field) or ()):
            errors += [invalid(f"spec.names.{field}[{index}]", value, msg) for msg in is_dns1035_label(str(value))]
    return errors


def _versions(spec: Mapping[str, Any]) -> list[FieldError]:
    versions = spec.get("versions")
    if not versions:
        return [required("spec.versions", "must have exactly one version marked as storage version")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    storage = served = 0
    for index, version in enumerate(versions):
        path = f"spec.versions[{index}]"
        if not isinstance(version, Mapping):
            errors.append(invalid(path, "", "must be an object"))
            continue
        name = version.get("name") or ""
        if not name:
            errors.append(required(f"{path}.name"))
        else:
            errors += [invalid(f"{path}.name", name, msg) for msg in is_dns1035_label(str(name))]
            if name in seen:
                errors.append(duplicate(f"{path}.name", name))
            seen.add(str(name))
        storage += bool(version.get("storage"))
        served += bool(version.get("served"))
        schema_errors, node = _schema(version, path)
        errors += schema_errors
        errors += check_columns(version.get("additionalPrinterColumns"), f"{path}.additionalPrinterColumns")
        errors += check_scale(version.get("subresources"), node, f"{path}.subresources")
    names = [v.get("name") for v in versions if isinstance(v, Mapping)]
    if storage != 1:
        errors.append(invalid("spec.versions", names, "must have exactly one version marked as storage version"))
    if not served:
        errors.append(invalid("spec.versions", names, "must have at least one version served"))
    return errors


def _schema(version: Mapping[str, Any], path: str) -> tuple[list[FieldError], Schema | None]:
    schema = (version.get("schema") or {}).get("openAPIV3Schema") if isinstance(version.get("schema"), Mapping) else None
    where = f"{path}.schema.openAPIV3Schema"
    if schema is None:
        return [required(where, "schemas are required")], None
    errors = check_schema(schema, where)
    if errors:
        return errors, None
    node = compile_schema(schema)
    errors += _rules(schema, node, where)
    errors += _defaults(node, where, data_path="")
    return errors, node if not errors else None


def _rules(raw: Mapping[str, Any], node: Schema, path: str) -> list[FieldError]:
    """Compile every CEL rule where it is attached; report those that do not compile."""
    errors: list[FieldError] = []
    for index, rule in enumerate(raw.get("x-kubernetes-validations") or ()):
        where = f"{path}.x-kubernetes-validations[{index}]"
        if not isinstance(rule, Mapping):
            errors.append(invalid(where, "", "must be an object"))
            continue
        reason = rule.get("reason")
        if reason is not None and reason not in cel.REASONS:
            errors.append(not_supported(f"{where}.reason", reason, list(cel.REASONS)))
        try:
            cel.compile_rule(dict(rule), node)
        except cel.CELCompileError as err:
            field = "messageExpression" if str(err).startswith("messageExpression") else "rule"
            errors.append(invalid_shown(f"{where}.{field}", _go_rule(rule), str(err)))
        field_path = rule.get("fieldPath")
        if field_path and not _resolves(node, str(field_path)):
            errors.append(invalid(f"{where}.fieldPath", field_path,
                                  "fieldPath must be a valid path: does not refer to a valid field"))
    for name, sub in (raw.get("properties") or {}).items():
        errors += _rules(sub, node.properties[name], f"{path}.properties[{name}]")
    if isinstance(raw.get("additionalProperties"), Mapping) and node.additional is not None:
        errors += _rules(raw["additionalProperties"], node.additional, f"{path}.additionalProperties")
    if isinstance(raw.get("items"), Mapping) and node.items is not None:
        errors += _rules(raw["items"], node.items, f"{path}.items")
    return errors


def _resolves(node: Schema, field_path: str) -> bool:
    current: Schema | None = node
    for part in field_path.replace("['", ".").replace("']", "").lstrip(".").split("."):
        if current is None or not part:
            return False
        current = current.properties.get(part) or current.additional
    return current is not None


def _go_rule(rule: Mapping[str, Any]) -> str:
    """The rule as Go's ``%#v`` prints apiextensions.ValidationRule (Kubernetes' message)."""

    def quoted(key: str) -> str:
        value = str(rule.get(key) or "")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    reason = rule.get("reason")
    reason_text = f'&"{reason}"' if reason else "(*apiextensions.FieldValueErrorReason)(nil)"
    optional = rule.get("optionalOldSelf")
    optional_text = f"&{str(optional).lower()}" if optional is not None else "(*bool)(nil)"
    return (f"apiextensions.ValidationRule{{Rule:{quoted('rule')}, Message:{quoted('message')}, "
            f"MessageExpression:{quoted('messageExpression')}, Reason:{reason_text}, "
            f"FieldPath:{quoted('fieldPath')}, OptionalOldSelf:{optional_text}}}")


def _defaults(node: Schema, path: str, *, data_path: str) -> list[FieldError]:
    """Each ``default`` must validate against its own schema and carry no unknown field."""
    errors: list[FieldError] = []
    if node.default is not MISSING and node.default is not None:
        walk = validate_value(node.default, node, data_path)
        errors += [_at(e, f"{path}.default") for e in walk.errors]
        errors += [invalid(f"{path}.default", node.type_name, f'unknown field "{p}"')
                   for p in unknown_fields(node.default, node, data_path)]
    for name, child in node.properties.items():
        if data_path == "" and name == "metadata" and child.defaults_below:
            errors.append(forbidden(f"{path}.properties[metadata]", "must not have defaults under metadata"))
            continue
        errors += _defaults(child, f"{path}.properties[{name}]", data_path=f"{data_path}.{name}".lstrip("."))
    if node.additional is not None and node.additional.defaults_below:
        errors += _defaults(node.additional, f"{path}.additionalProperties", data_path=f"{data_path}[*]")
    if node.items is not None and node.items.defaults_below:
        errors += _defaults(node.items, f"{path}.items", data_path=f"{data_path}[*]")
    return errors


def _at(error: FieldError, field: str) -> FieldError:
    return FieldError(type=error.type, field=field, value=error.value, detail=error.detail)


def _conversion(spec: Mapping[str, Any]) -> list[FieldError]:
    conversion = spec.get("conversion") or {}
    strategy = conversion.get("strategy") if isinstance(conversion, Mapping) else None
    if strategy == "Webhook":
        # Objects are stored once and served at every version by rewriting apiVersion;
        # calling out to conversion webhooks is not implemented.
        return [not_supported("spec.conversion.strategy", strategy, ["None"])]
    if strategy not in (None, "None"):
        return [not_supported("spec.conversion.strategy", strategy, ["None", "Webhook"])]
    if isinstance(conversion, Mapping) and conversion.get("webhook") is not None:
        return [forbidden("spec.conversion.webhook", "should not be set when strategy is not set to Webhook")]
    return []


def _update(crd: Obj, old: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    spec, old_spec = crd.get("spec") or {}, old.get("spec") or {}
    if spec.get("scope") != old_spec.get("scope"):
        errors.append(invalid("spec.scope", spec.get("scope"), "field is immutable"))
    if spec.get("group") != old_spec.get("group"):
        errors.append(invalid("spec.group", spec.get("group"), "field is immutable"))
    versions = {v.get("name") for v in spec.get("versions") or () if isinstance(v, Mapping)}
    stored = (old.get("status") or {}).get("storedVersions") or ()
    for index, version in enumerate(stored):
        if version not in versions:
            errors.append(invalid(f"status.storedVersions[{index}]", version, "must appear in spec.versions"))
    return errors
