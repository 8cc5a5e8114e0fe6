"""Node selectors and required node affinity (component-helpers' ``nodeaffinity``).

A pod may restrict its nodes in two ways that must both hold: ``spec.nodeSelector``
(exact labels) and ``requiredDuringSchedulingIgnoredDuringExecution`` node selector
terms (ORed; each term ANDs its label expressions and its field expressions, and a term
with neither matches nothing). Terms are parsed once per pod; a term that does not parse
matches nothing, as Kubernetes ignores it rather than failing the pod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kube.errors import StatusError
from kube.labels import Operator, Requirement, Selector

_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
    "Gt": Operator.GREATER_THAN,
    "Lt": Operator.LESS_THAN,
}


def _requirement(raw: Any) -> Requirement | None:
    if not isinstance(raw, dict):
        return None
    op = _OPERATORS.get(str(raw.get("operator") or ""))
    if op is None:
        return None
    try:
        return Requirement.new(str(raw.get("key") or ""), op, [str(v) for v in raw.get("values") or []])
    except StatusError:
        return None


class NodeSelectorTerm:
    __slots__ = ("fields", "labels", "valid")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        exprs = raw.get("matchExpressions") or []
        fields = raw.get("matchFields") or []
        labels = [_requirement(e) for e in exprs]
        self.valid = bool(exprs or fields) and all(r is not None for r in labels)
        self.labels = Selector.of(r for r in labels if r is not None)
        # Only metadata.name is a selectable node field (In/NotIn with one value).
        self.fields: list[tuple[bool, frozenset[str]]] = []
        for f in fields:
            if not isinstance(f, dict) or f.get("key") != "metadata.name":
                self.valid = False
                continue
            op = f.get("operator")
            values = frozenset(str(v) for v in f.get("values") or [])
            if op not in ("In", "NotIn") or len(values) != 1:
                self.valid = False
                continue
            self.fields.append((op == "In", values))

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        if not self.valid:
            return False
        for want_in, values in self.fields:
            if (name in values) != want_in:
                return False
        return self.labels.matches(labels)


class NodeSelector:
    """ORed terms (``v1.NodeSelector``)."""

    __slots__ = ("terms",)

    def __init__(self, raw: Mapping[str, Any] | None) -> None:
        self.terms = [
            NodeSelectorTerm(t) for t in (raw or {}).get("nodeSelectorTerms") or [] if isinstance(t, dict)
        ]

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        return any(t.matches(name, labels) for t in self.terms)


class RequiredNodeAffinity:
    """``nodeSelector`` AND required node affinity; matches everything when both are unset."""

    __slots__ = ("label_selector", "node_selector")

    def __init__(self, pod: Mapping[str, Any]) -> None:
        spec = pod.get("spec") or {}
        selector = spec.get("nodeSelector") or {}
        self.label_selector: Mapping[str, str] | None = dict(selector) if selector else None
        affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        self.node_selector = NodeSelector(affinity) if affinity is not None else None

    @property
    def empty(self) -> bool:
        return self.label_selector is None and self.node_selector is None

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        if self.label_selector is not None:
            for key, value in self.label_selector.items():
                if labels.get(key) != value:
                    return False
        if self.node_selector is not None and not self.node_selector.matches(name, labels):
            return False
        return True


class PreferredTerm:
    __slots__ = ("term", "weight")

    def __init__(self, weight: int, term: NodeSelectorTerm) -> None:
        self.weight = weight
        self.term = term


def preferred_terms(pod: Mapping[str, Any]) -> Sequence[PreferredTerm]:
    """The pod's preferred node affinity terms with a non-zero weight."""
    spec = pod.get("spec") or {}
    raw = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution"
    ) or []
    out = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        weight = int(item.get("weight") or 0)
        if weight:
            out.append(PreferredTerm(weight, NodeSelectorTerm(item.get("preference") or {})))
    return out
