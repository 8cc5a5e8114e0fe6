"""RBAC: roles and bindings, evaluated from the watch caches.

Kubernetes' RBAC authorizer walks every binding that applies to the user on each
request. Here the bindings are indexed by subject instead (user name, group name, and
service accounts as their user names), so a request looks up only the bindings that
name its user or one of its groups; and the rules a user ends up with in a namespace
are cached. Both are rebuilt lazily: each decision compares the four RBAC watch
caches' revisions with those the index was built at, so any change to a role or
binding (from any API server writer) is seen on the next request, and nothing is ever
read from storage on the request path.

ClusterRoles with an ``aggregationRule`` are evaluated with the rules stored in them:
the aggregation updater (``aggregation.py``) keeps those up to date, as Kubernetes'
clusterrole-aggregation controller does.

A binding whose role is missing grants nothing and is reported in the denial reason
("RBAC: clusterrole.rbac.authorization.k8s.io "x" not found"), as in Kubernetes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from apiserver.authn import UserInfo

from .attributes import Attributes
from .chain import Decision
from .rules import Rule, compile_rules, rule_allows

GROUP = "rbac.authorization.k8s.io"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
_CACHE_SIZE = 4096
Obj = dict[str, Any]
SubjectKey = tuple[str, str]  # ("u", user name) or ("g", group name)


class RBACSource(Protocol):
    """The four RBAC resources as the watch caches hold them."""

    def revisions(self) -> tuple[int, ...]: ...

    def items(self, resource: str) -> list[Obj]: ...


@dataclass(frozen=True, slots=True)
class Grant:
    rule: Rule
    source: str
    """Why the user holds it, for SubjectAccessReview's reason."""


@dataclass(slots=True)
class RuleSet:
    grants: tuple[Grant, ...]
    errors: tuple[str, ...]

    @property
    def rules(self) -> list[Rule]:
        return [g.rule for g in self.grants]


@dataclass(frozen=True, slots=True)
class _Binding:
    kind: str  # "RoleBinding" | "ClusterRoleBinding"
    namespace: str
    name: str
    role_kind: str  # "Role" | "ClusterRole"
    role_name: str


@dataclass(slots=True)
class _Index:
    cluster_roles: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    roles: dict[tuple[str, str], tuple[Rule, ...]] = field(default_factory=dict)
    cluster_bindings: dict[SubjectKey, list[tuple[_Binding, str]]] = field(default_factory=dict)
    role_bindings: dict[str, dict[SubjectKey, list[tuple[_Binding, str]]]] = field(default_factory=dict)


def service_account_user(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def _subject_key(subject: Any, *, binding_namespace: str) -> tuple[SubjectKey, str] | None:
    """The index key of a binding subject and how the reason names it."""
    if not isinstance(subject, dict):
        return None
    kind, name = subject.get("kind"), subject.get("name")
    if not isinstance(name, str) or not name:
        return None
    if kind == "User":
        return ("u", name), f'User "{name}"'
    if kind == "Group":
        return ("g", name), f'Group "{name}"'
    if kind == "ServiceAccount":
        # A RoleBinding may leave the namespace out: it means the binding's own.
        namespace = subject.get("namespace") or binding_namespace
        if not namespace:
            return None
        return ("u", service_account_user(namespace, name)), f'ServiceAccount "{name}/{namespace}"'
    return None


def _build(source: RBACSource) -> _Index:
    index = _Index()
    for obj in source.items("clusterroles"):
        index.cluster_roles[_name(obj)] = compile_rules(obj.get("rules"))
    for obj in source.items("roles"):
        index.roles[(_namespace(obj), _name(obj))] = compile_rules(obj.get("rules"))
    for obj in source.items("clusterrolebindings"):
        binding = _binding(obj, kind="ClusterRoleBinding")
        if binding is not None and binding.role_kind == "ClusterRole":
            _add_subjects(index.cluster_bindings, obj, binding)
    for obj in source.items("rolebindings"):
        binding = _binding(obj, kind="RoleBinding")
        if binding is not None:
            _add_subjects(index.role_bindings.setdefault(binding.namespace, {}), obj, binding)
    return index


def _binding(obj: Obj, *, kind: str) -> _Binding | None:
    ref = obj.get("roleRef")
    if not isinstance(ref, dict) or ref.get("kind") not in ("Role", "ClusterRole"):
        return None
    return _Binding(
        kind=kind, namespace=_namespace(obj), name=_name(obj), role_kind=ref["kind"], role_name=str(ref.get("name") or "")
    )


def _add_subjects(target: dict[SubjectKey, list[tuple[_Binding, str]]], obj: Obj, binding: _Binding) -> None:
    for subject in obj.get("subjects") or ():
        found = _subject_key(subject, binding_namespace=binding.namespace)
        if found is not None:
            key, described = found
            target.setdefault(key, []).append((binding, described))


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _namespace(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def _keys(user: UserInfo) -> list[SubjectKey]:
    return [("u", user.name), *(("g", g) for g in user.groups)]


class RBACAuthorizer:
    name = "RBAC"

    def __init__(self, source: RBACSource) -> None:
        self._source = source
        self._revisions: tuple[int, ...] = ()
        self._index = _Index()
        self._cache: OrderedDict[tuple[str, tuple[str, ...], str], RuleSet] = OrderedDict()

    def _current(self) -> _Index:
        revisions = self._source.revisions()
        if revisions != self._revisions:
            self._index = _build(self._source)
            self._revisions = revisions
            self._cache.clear()
        return self._index

    def rules_for(self, user: UserInfo, namespace: str) -> RuleSet:
        """Every rule ``user`` holds in ``namespace`` (cluster-wide ones only for "")."""
        index = self._current()
        key = (user.name, user.groups, namespace)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        resolved = self._resolve(index, user, namespace)
        self._cache[key] = resolved
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return resolved

    def _resolve(self, index: _Index, user: UserInfo, namespace: str) -> RuleSet:
        grants: list[Grant] = []
        errors: list[str] = []
        seen: set[tuple[_Binding, str]] = set()
        keys = _keys(user)
        found: list[tuple[_Binding, str]] = []
        for key in keys:
            found.extend(index.cluster_bindings.get(key, ()))
        if namespace:
            in_namespace = index.role_bindings.get(namespace, {})
            for key in keys:
                found.extend(in_namespace.get(key, ()))
        for binding, subject in found:
            if (binding, subject) in seen:
                continue
            seen.add((binding, subject))
            rules = self._role_rules(index, binding, errors)
            if rules:
                source = _describe(binding, subject)
                grants.extend(Grant(rule=rule, source=source) for rule in rules)
        return RuleSet(grants=tuple(grants), errors=tuple(dict.fromkeys(errors)))

    @staticmethod
    def _role_rules(index: _Index, binding: _Binding, errors: list[str]) -> tuple[Rule, ...]:
        if binding.role_kind == "ClusterRole":
            rules = index.cluster_roles.get(binding.role_name)
            if rules is None:
                errors.append(f'clusterrole.{GROUP} "{binding.role_name}" not found')
                return ()
            return rules
        rules = index.roles.get((binding.namespace, binding.role_name))
        if rules is None:
            errors.append(f'role.{GROUP} "{binding.role_name}" not found')
            return ()
        return rules

    def decide(self, attrs: Attributes) -> tuple[Decision, str]:
        ruleset = self.rules_for(attrs.user, attrs.namespace)
        for grant in ruleset.grants:
            if rule_allows(grant.rule, attrs):
                return Decision.ALLOW, f"RBAC: allowed by {grant.source}"
        if ruleset.errors:
            return Decision.NO_OPINION, "RBAC: " + _aggregate(ruleset.errors)
        return Decision.NO_OPINION, ""

    def role_rules(self, *, kind: str, name: str, namespace: str) -> tuple[Rule, ...] | None:
        """The rules of the role a roleRef names (None when it does not exist)."""
        index = self._current()
        if kind == "ClusterRole":
            return index.cluster_roles.get(name)
        return index.roles.get((namespace, name))


def _describe(binding: _Binding, subject: str) -> str:
    where = f'RoleBinding "{binding.name}/{binding.namespace}"' if binding.kind == "RoleBinding" else (
        f'ClusterRoleBinding "{binding.name}"'
    )
    role = f'{binding.role_kind} "{binding.role_name}"'
    return f"{where} of {role} to {subject}"


def _aggregate(errors: Iterable[str]) -> str:
    items = list(errors)
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


class CacheSource:
    """``RBACSource`` over the API server's own watch caches."""

    RESOURCES = ("roles", "rolebindings", "clusterroles", "clusterrolebindings")

    def __init__(self, api: Any) -> None:
        self._cachers = {}
        for resource in self.RESOURCES:
            store = api.store(group=GROUP, version="v1", resource=resource)
            if store is None or store.cacher is None:
                raise RuntimeError(f"{resource}.{GROUP} is not served with a watch cache")
            self._cachers[resource] = store.cacher

    def revisions(self) -> tuple[int, ...]:
        return tuple(self._cachers[r].revision for r in self.RESOURCES)

    def items(self, resource: str) -> list[Obj]:
        items, _ = self._cachers[resource].list()
        return items
