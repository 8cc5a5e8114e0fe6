"""RBAC policy rules: does a rule allow a request, and does one rule set cover another?

These are Kubernetes' evaluation helpers (``rbac/v1/evaluation_helpers.go`` and the
escalation check's ``Covers``), with the same edge cases, because a difference here is
a difference in who can do what:

- ``*`` in verbs, apiGroups, resources or nonResourceURLs matches anything; a resource
  ``*`` matches subresources too.
- A request for a subresource (``pods/log``) matches the rule resource ``pods/log`` or
  ``*/log``, never plain ``pods``; ``pods/*`` is not a pattern.
- An empty ``resourceNames`` means every name; a non-empty one never matches a request
  without a name (a list, or a create).
- A nonResourceURL ending in ``*`` matches by prefix (``/apis/*``).

Rules are compiled once (frozensets) when the RBAC index is built, because every
authorized request tests several of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .attributes import Attributes

ALL = "*"


@dataclass(frozen=True, slots=True)
class Rule:
    verbs: frozenset[str]
    api_groups: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    resource_names: frozenset[str] = frozenset()
    non_resource_urls: frozenset[str] = frozenset()

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Rule:
        """A rule from its JSON form; malformed entries are ignored, as validation
        already refused them on write."""
        return cls(
            verbs=_strings(raw.get("verbs")),
            api_groups=_strings(raw.get("apiGroups")),
            resources=_strings(raw.get("resources")),
            resource_names=_strings(raw.get("resourceNames")),
            non_resource_urls=_strings(raw.get("nonResourceURLs")),
        )

    def to_dict(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"verbs": sorted(self.verbs)}
        if self.api_groups:
            out["apiGroups"] = sorted(self.api_groups)
        if self.resources:
            out["resources"] = sorted(self.resources)
        if self.resource_names:
            out["resourceNames"] = sorted(self.resource_names)
        if self.non_resource_urls:
            out["nonResourceURLs"] = sorted(self.non_resource_urls)
        return out

    def __str__(self) -> str:
        # As rbac's CompactString: what an escalation error lists.
        parts = []
        for label, values in (
            ("APIGroups", self.api_groups),
            ("Resources", self.resources),
            ("ResourceNames", self.resource_names),
            ("NonResourceURLs", self.non_resource_urls),
            ("Verbs", self.verbs),
        ):
            if values:
                parts.append(f"{label}:[" + " ".join(f'"{v}"' for v in sorted(values)) + "]")
        return "{" + ", ".join(parts) + "}"


def _strings(value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value if isinstance(v, str))


def compile_rules(raw: Any) -> tuple[Rule, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(Rule.of(r) for r in raw if isinstance(r, Mapping))


# -- matching ------------------------------------------------------------------------------


def verb_matches(rule: Rule, verb: str) -> bool:
    return ALL in rule.verbs or verb in rule.verbs


def group_matches(rule: Rule, group: str) -> bool:
    return ALL in rule.api_groups or group in rule.api_groups


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    resources = rule.resources
    if ALL in resources or combined in resources:
        return True
    return bool(subresource) and f"*/{subresource}" in resources


def name_matches(rule: Rule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


def url_matches(rule: Rule, path: str) -> bool:
    for pattern in rule.non_resource_urls:
        if pattern == ALL or pattern == path:
            return True
        if pattern.endswith(ALL) and path.startswith(pattern[:-1]):
            return True
    return False


def rule_allows(rule: Rule, attrs: Attributes) -> bool:
    if not verb_matches(rule, attrs.verb):
        return False
    if attrs.resource_request:
        return (
            group_matches(rule, attrs.api_group)
            and resource_matches(rule, attrs.combined_resource, attrs.subresource)
            and name_matches(rule, attrs.name)
        )
    return url_matches(rule, attrs.path)


def rules_allow(rules: Iterable[Rule], attrs: Attributes) -> bool:
    return any(rule_allows(rule, attrs) for rule in rules)


# -- covering (escalation prevention) ------------------------------------------------------


def _breakdown(rule: Rule) -> list[Rule]:
    """One rule per (group, resource, name, verb) or (url, verb): the simplest rules a
    rule grants, each of which must be covered by some rule its grantor holds."""
    out: list[Rule] = []
    verbs = sorted(rule.verbs)
    for group in sorted(rule.api_groups):
        for resource in sorted(rule.resources):
            for verb in verbs:
                if rule.resource_names:
                    out.extend(
                        Rule(
                            verbs=frozenset({verb}),
                            api_groups=frozenset({group}),
                            resources=frozenset({resource}),
                            resource_names=frozenset({name}),
                        )
                        for name in sorted(rule.resource_names)
                    )
                else:
                    out.append(Rule(verbs=frozenset({verb}), api_groups=frozenset({group}), resources=frozenset({resource})))
    for url in sorted(rule.non_resource_urls):
        out.extend(Rule(verbs=frozenset({verb}), non_resource_urls=frozenset({url})) for verb in verbs)
    return out


def _has_all(owner: frozenset[str], wanted: frozenset[str]) -> bool:
    return ALL in owner or wanted <= owner


def _resources_cover(owner: frozenset[str], wanted: frozenset[str]) -> bool:
    if ALL in owner:
        return True
    for resource in wanted:
        if resource in owner:
            continue
        _, slash, sub = resource.partition("/")
        if slash and f"*/{sub}" in owner:
            continue
        return False
    return True


def _urls_cover(owner: frozenset[str], wanted: frozenset[str]) -> bool:
    for url in wanted:
        if url in owner or ALL in owner:
            continue
        if any(p.endswith(ALL) and url.startswith(p[:-1]) for p in owner):
            continue
        return False
    return True


def rule_covers(owner: Rule, servant: Rule) -> bool:
    if not _has_all(owner.verbs, servant.verbs):
        return False
    if servant.non_resource_urls or not servant.resources:
        if not servant.non_resource_urls:
            return True
        return _urls_cover(owner.non_resource_urls, servant.non_resource_urls)
    if not _has_all(owner.api_groups, servant.api_groups):
        return False
    if not _resources_cover(owner.resources, servant.resources):
        return False
    # An owner limited to names covers only servants limited to those names.
    if owner.resource_names:
        return bool(servant.resource_names) and servant.resource_names <= owner.resource_names
    return True


def uncovered(owner_rules: Iterable[Rule], servant_rules: Iterable[Rule]) -> list[Rule]:
    """The simple rules in ``servant_rules`` that no rule in ``owner_rules`` covers."""
    owners = list(owner_rules)
    missing: list[Rule] = []
    for servant in servant_rules:
        for simple in _breakdown(servant):
            if not any(rule_covers(owner, simple) for owner in owners):
                missing.append(simple)
    return missing
