"""RBAC escalation prevention: nobody grants permissions they do not hold.

Without this, anyone allowed to create a RoleBinding could bind themselves to
``cluster-admin``. As in Kubernetes (which does it in the RBAC storage rather than in an
admission plugin; the effect is the same, inside the write path):

- creating or updating a Role or ClusterRole is allowed if the user holds every rule it
  contains (in that namespace, or cluster-wide for a ClusterRole), or holds the
  ``escalate`` verb on roles/clusterroles; setting an ``aggregationRule`` (which can
  gather anything) needs the authority of cluster-admin;
- creating or updating a RoleBinding or ClusterRoleBinding is allowed if the user holds
  every rule of the referenced role, or holds ``bind`` on that role; a reference to a
  role that does not exist is a 400;
- members of ``system:masters`` and the API server itself (no user) are exempt;
- an update changing only ownerReferences or finalizers is not re-checked, so the
  garbage collector can always clean up.
"""

from __future__ import annotations

from typing import ClassVar

from apiserver.authn import UserInfo
from apiserver.authz.attributes import Attributes
from apiserver.authz.chain import PRIVILEGED_GROUP, Chain
from apiserver.authz.rbac import GROUP, RBACAuthorizer
from apiserver.authz.rules import Rule, compile_rules, uncovered
from apiserver.registry import Context
from apiserver.registry.admission import Operation
from kube.errors import BadRequest

from .chain import Base, Obj, as_dict, forbidden
from .lookup import lookup, store_of

_ROLE_KINDS = {"roles": "Role", "clusterroles": "ClusterRole"}
_FULL_AUTHORITY = compile_rules([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                                 {"verbs": ["*"], "nonResourceURLs": ["*"]}])
_GC_FIELDS = ("ownerReferences", "finalizers", "managedFields", "resourceVersion", "generation")


def _go_quoted_list(values: tuple[str, ...]) -> str:
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def escalation_message(user: UserInfo, missing: list[Rule]) -> str:
    rules = "\n".join(str(rule) for rule in missing)
    return (
        f'user "{user.name}" (groups={_go_quoted_list(user.groups)}) is attempting to grant RBAC permissions '
        f"not currently held:\n{rules}"
    )


def _only_gc_fields_changed(obj: Obj, old: Obj | None) -> bool:
    if old is None:
        return False

    def stripped(o: Obj) -> Obj:
        meta = {k: v for k, v in as_dict(o.get("metadata")).items() if k not in _GC_FIELDS}
        return {**o, "metadata": meta}

    return stripped(obj) == stripped(old)


class RBACEscalation(Base):
    name: ClassVar[str] = "RBACEscalation"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {(GROUP, "roles"), (GROUP, "clusterroles"), (GROUP, "rolebindings"), (GROUP, "clusterrolebindings")}
    )

    def __init__(self, *, chain: Chain | None = None, rbac: RBACAuthorizer | None = None) -> None:
        super().__init__()
        self.chain = chain
        self.rbac = rbac
        """Both are set by ``apiserver.security`` once the registry exists; without RBAC
        there is nothing to escalate and the check is off."""

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        user = ctx.user
        if operation not in (Operation.CREATE, Operation.UPDATE) or not isinstance(obj, dict):
            return
        if not isinstance(user, UserInfo) or PRIVILEGED_GROUP in user.groups or self.rbac is None:
            return
        if operation is Operation.UPDATE and _only_gc_fields_changed(obj, old):
            return
        resource = ctx.info.resource
        namespace = ctx.namespace if ctx.info.namespaced else ""
        name = str(as_dict(obj.get("metadata")).get("name") or ctx.name)
        if resource in _ROLE_KINDS:
            self._check_role(ctx, user, obj, resource=resource, namespace=namespace, name=name)
        else:
            await self._check_binding(ctx, user, obj, namespace=namespace)

    def _holds(self, user: UserInfo, namespace: str, wanted: tuple[Rule, ...]) -> list[Rule]:
        assert self.rbac is not None
        return uncovered(self.rbac.rules_for(user, namespace).rules, wanted)

    def _check_role(self, ctx: Context, user: UserInfo, obj: Obj, *, resource: str, namespace: str, name: str) -> None:
        escalate = Attributes(
            user=user, verb="escalate", resource_request=True, api_group=GROUP, resource=resource,
            namespace=namespace, name=name,
        )
        assert self.chain is not None
        if self.chain.allowed(escalate):
            return
        if resource == "clusterroles" and obj.get("aggregationRule") and self._holds(user, "", _FULL_AUTHORITY):
            raise forbidden(ctx, obj, "must have cluster-admin privileges to use the aggregationRule")
        missing = self._holds(user, namespace, compile_rules(obj.get("rules")))
        if missing:
            raise forbidden(ctx, obj, escalation_message(user, missing))

    async def _check_binding(self, ctx: Context, user: UserInfo, obj: Obj, *, namespace: str) -> None:
        ref = as_dict(obj.get("roleRef"))
        kind, role_name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        role_resource = "clusterroles" if kind == "ClusterRole" else "roles"
        bind = Attributes(
            user=user, verb="bind", resource_request=True, api_group=GROUP, resource=role_resource,
            namespace=namespace, name=role_name,
        )
        assert self.chain is not None and self.rbac is not None
        if self.chain.allowed(bind):
            return
        rules = self.rbac.role_rules(kind=kind, name=role_name, namespace=namespace)
        if rules is None:
            # The cache may lag a role created a moment ago (one `kubectl apply` of both).
            store = store_of(self.api, group=GROUP, resource=role_resource)
            role = await lookup(store, namespace=namespace if kind == "Role" else "", name=role_name)
            rules = compile_rules(role.get("rules")) if role is not None else None
        if rules is None:
            singular = "clusterrole" if kind == "ClusterRole" else "role"
            raise BadRequest(f'{singular}.{GROUP} "{role_name}" not found')
        missing = self._holds(user, namespace, rules)
        if missing:
            raise forbidden(ctx, obj, escalation_message(user, missing))
