"""Field selectors (``spec.nodeName=node-1,status.phase!=Succeeded``), as apimachinery's
``fields`` package and the API server's per-kind field tables.

Field selectors are how a kubelet watches only its own pods and how ``kubectl get events
--field-selector involvedObject.name=x`` narrows a list. Two tables decide what works,
and like Kubernetes we keep them apart:

* which fields a request may name (the per-kind field-label conversion functions in
  ``pkg/apis/*/v*/conversion.go``); anything else is a 400 with that function's wording;
* which values an object offers for them (``ToSelectableFields`` in each registry
  strategy). A field that is accepted but not offered reads as ``""``, as in Kubernetes
  (pods' ``status.podIPs``; apps/v1 registers no conversion, so ReplicaSets offer
  ``status.replicas`` yet a selector on it is refused, exactly as a real cluster does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from kube.errors import BadRequest
from kube.labels import Operator
from kube.resources import BUILTIN


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """``field=value`` (``==`` is read as ``=``) or ``field!=value``."""

    field: str
    operator: Operator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        # A field the object does not offer reads as "", as fields.Set.Get does.
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator is Operator.EQUALS else not equal

    def __str__(self) -> str:
        op = "=" if self.operator is Operator.EQUALS else "!="
        return f"{self.field}{op}{escape_value(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """An AND of field requirements; none at all selects everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    @classmethod
    def everything(cls) -> FieldSelector:
        return cls()

    @classmethod
    def from_set(cls, fields: Mapping[str, str]) -> FieldSelector:
        """``fields.SelectorFromSet``: every field equal to its value."""
        return cls(tuple(FieldRequirement(f, Operator.EQUALS, v) for f, v in sorted(fields.items())))

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)

    def exact(self, field: str) -> str | None:
        """The value ``field=value`` requires (``spec.nodeName`` for the kubelet's watch)."""
        for r in self.requirements:
            if r.field == field and r.operator is Operator.EQUALS:
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


# --- the string syntax ----------------------------------------------------------------

_ESCAPES: Final = {"\\": "\\\\", ",": "\\,", "=": "\\="}
_TERM_OPERATORS: Final = ("!=", "==", "=")  # "==" before "=" so no "=" is left on the value


def escape_value(value: str) -> str:
    """``fields.EscapeValue``: backslash ``\\``, ``,`` and ``=`` so a value parses back."""
    return "".join(_ESCAPES.get(c, c) for c in value)


def unescape_value(text: str) -> str:
    """``fields.UnescapeValue``; BadRequest for a bad escape or a bare ``,``/``=``."""
    if not any(c in text for c in "\\,="):
        return text
    out: list[str] = []
    escaped = False
    for c in text:
        if escaped:
            if c not in _ESCAPES:
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in ",=":
            # Kubernetes prints the rune with %v, which is its number.
            raise BadRequest(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if escaped:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """Split at commas that are not escaped; the escapes stay for unescape_value."""
    terms: list[str] = []
    start, escaped = 0, False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    # Field names take no escapes, so the first operator found splits the term.
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def parse(text: str) -> FieldSelector:
    """``fields.ParseSelector``. Terms come back sorted as text, as Kubernetes sorts them."""
    found: list[FieldRequirement] = []
    for term in sorted(_split_terms(text)) if text else ():
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")
        name, op, raw = split
        operator = Operator.NOT_EQUALS if op == "!=" else Operator.EQUALS
        found.append(FieldRequirement(name, operator, unescape_value(raw)))
    return FieldSelector(tuple(found))


# --- what each resource offers ----------------------------------------------------------

_Extract = Callable[[Mapping[str, Any]], str]


def _get(obj: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    # The watch cache runs this for every field of every event, so the path is split
    # once (by the builders below) and plain dicts, which is what stored objects are,
    # skip the slower ABC isinstance check.
    value: Any = obj
    for part in parts:
        if type(value) is dict or isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


def _text(path: str) -> _Extract:
    parts = tuple(path.split("."))
    return lambda obj: str(_get(obj, parts) or "")


def _flag(path: str) -> _Extract:
    # Go formats the bool; an absent one is false.
    parts = tuple(path.split("."))
    return lambda obj: "true" if _get(obj, parts) is True else "false"


def _count(path: str) -> _Extract:
    # Go formats the integer; an absent one is 0.
    parts = tuple(path.split("."))
    return lambda obj: str(int(_get(obj, parts) or 0))


_POD_IPS: Final = ("status", "podIPs")
_POD_IP: Final = ("status", "podIP")
_SOURCE_COMPONENT: Final = ("source", "component")


def _pod_ip(obj: Mapping[str, Any]) -> str:
    # Kubernetes reads the first of status.podIPs; v1 clients may send only status.podIP.
    ips = _get(obj, _POD_IPS) or []
    first = ips[0].get("ip") if ips and isinstance(ips[0], Mapping) else None
    return str(first or _get(obj, _POD_IP) or "")


def _event_source(obj: Mapping[str, Any]) -> str:
    return str(_get(obj, _SOURCE_COMPONENT) or obj.get("reportingComponent") or "")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Kind:
    offered: Mapping[str, _Extract]
    """ToSelectableFields, beyond metadata.name/namespace."""
    accepted: frozenset[str]
    """What the conversion function lets through unchanged."""
    aliases: Mapping[str, str]
    reject: Callable[[str], str]
    namespaced: bool


def _not_supported(label: str) -> str:
    return f"field label not supported: {label}"


def _meta_only(label: str) -> str:
    return f'"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"'


_NAME, _NAMESPACE = "metadata.name", "metadata.namespace"


def _kind(
    offered: Mapping[str, _Extract],
    *,
    accepted: Iterable[str] | None = None,
    namespaced: bool = True,
    aliases: Mapping[str, str] | None = None,
    reject: Callable[[str], str] = _not_supported,
) -> _Kind:
    meta = {_NAME, _NAMESPACE} if namespaced else {_NAME}
    names = frozenset(offered) if accepted is None else frozenset(accepted)
    return _Kind(
        offered=offered, accepted=names | meta, aliases=aliases or {}, reject=reject, namespaced=namespaced
    )


_KINDS: Final[dict[str, _Kind]] = {
    "pods": _kind(
        {
            "spec.nodeName": _text("spec.nodeName"),
            "spec.restartPolicy": _text("spec.restartPolicy"),
            "spec.schedulerName": _text("spec.schedulerName"),
            "spec.serviceAccountName": _text("spec.serviceAccountName"),
            "spec.hostNetwork": _flag("spec.hostNetwork"),
            "status.phase": _text("status.phase"),
            "status.podIP": _pod_ip,
            "status.nominatedNodeName": _text("status.nominatedNodeName"),
        },
        accepted=[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        aliases={"spec.host": "spec.nodeName"},  # what old v1 clients send
    ),
    "nodes": _kind({"spec.unschedulable": _flag("spec.unschedulable")}, namespaced=False),
    "namespaces": _kind({"status.phase": _text("status.phase")}, namespaced=False),
    "secrets": _kind({"type": _text("type")}),
    "services": _kind({"spec.clusterIP": _text("spec.clusterIP"), "spec.type": _text("spec.type")}),
    "replicationcontrollers": _kind({"status.replicas": _count("status.replicas")}),
    "events": _kind(
        {
            **{
                f"involvedObject.{f}": _text(f"involvedObject.{f}")
                for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
            },
            "reason": _text("reason"),
            "reportingComponent": _text("reportingComponent"),
            "source": _event_source,
            "type": _text("type"),
        }
    ),
    # apps/v1 registers no conversion: only metadata fields may be selected.
    "replicasets": _kind({"status.replicas": _count("status.replicas")}, accepted=(), reject=_meta_only),
    "jobs": _kind(
        {"status.successful": _count("status.succeeded")},
        reject=lambda label: f'field label "{label}" not supported for Job',
    ),
    "certificatesigningrequests": _kind({"spec.signerName": _text("spec.signerName")}, namespaced=False),
}
_CLUSTER_SCOPED: Final = frozenset(info.resource for info in BUILTIN if not info.namespaced)
_DEFAULT: Final = _kind({}, reject=_meta_only)


def _kind_of(resource: str) -> _Kind:
    return _KINDS.get(resource, _DEFAULT)


def object_fields(resource: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """The fields ``obj`` (of plural ``resource``, e.g. ``pods``) offers to selectors."""
    kind = _kind_of(resource)
    meta = obj.get("metadata") or {}
    out = {_NAME: str(meta.get("name") or "")}
    if kind.namespaced and resource not in _CLUSTER_SCOPED:
        out[_NAMESPACE] = str(meta.get("namespace") or "")
    for name, extract in kind.offered.items():
        out[name] = extract(obj)
    return out


def convert(resource: str, selector: FieldSelector) -> FieldSelector:
    """The selector as the storage layer should see it (legacy names rewritten), or
    BadRequest with Kubernetes' wording for a field ``resource`` does not support."""
    kind = _kind_of(resource)
    out: list[FieldRequirement] = []
    for r in selector.requirements:
        name = kind.aliases.get(r.field, r.field)
        if r.field not in kind.aliases and r.field not in kind.accepted:
            raise BadRequest(kind.reject(r.field))
        out.append(FieldRequirement(name, r.operator, r.value))
    return FieldSelector(tuple(out))


def check_supported(resource: str, selector: FieldSelector) -> None:
    """Raise BadRequest (``field label not supported: foo``) for an unselectable field."""
    convert(resource, selector)
