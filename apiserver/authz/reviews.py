"""The ``authorization.k8s.io/v1`` reviews: "may this user do that?", asked over the API.

``kubectl auth can-i`` creates a SelfSubjectAccessReview (``--list``: a
SelfSubjectRulesReview); other components ask about someone else with a
SubjectAccessReview, or within one namespace with a LocalSubjectAccessReview. They are
answered, never stored, by the very authorizer chain that guards requests, so the
answer cannot differ from what a real request would get. Answers are 201 with the
review echoed back and ``status`` filled, as in Kubernetes.
"""

from __future__ import annotations

from typing import Any

from apiserver.authn import UserInfo
from apiserver.registry import Reply, SubresourceRequest
from kube.errors import BadRequest, Invalid, invalid, required

from .attributes import Attributes
from .chain import PRIVILEGED_GROUP, Chain, Decision
from .node import node_identity
from .rbac import RBACAuthorizer

GROUP = "authorization.k8s.io"
Obj = dict[str, Any]


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def attributes_of(spec: Obj, *, user: UserInfo, kind: str) -> Attributes:
    resource, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (resource is None) == (non_resource is None):
        raise Invalid.of(
            kind=kind,
            group=GROUP,
            name="",
            errors=[invalid("spec.resourceAttributes", resource, "exactly one of nonResourceAttributes or "
                            "resourceAttributes must be specified")],
        )
    if non_resource is not None:
        attrs = _dict(non_resource)
        return Attributes(user=user, verb=_text(attrs.get("verb")), resource_request=False, path=_text(attrs.get("path")))
    attrs = _dict(resource)
    field_selector = _text(_dict(attrs.get("fieldSelector")).get("rawSelector"))
    label_selector = _text(_dict(attrs.get("labelSelector")).get("rawSelector"))
    return Attributes(
        user=user,
        verb=_text(attrs.get("verb")),
        resource_request=True,
        namespace=_text(attrs.get("namespace")),
        api_group=_text(attrs.get("group")),
        api_version=_text(attrs.get("version")),
        resource=_text(attrs.get("resource")),
        subresource=_text(attrs.get("subresource")),
        name=_text(attrs.get("name")),
        field_selector=field_selector,
        label_selector=label_selector,
    )


def _status(chain: Chain, attrs: Attributes) -> Obj:
    decision, reason = chain.decide(attrs)
    status: Obj = {"allowed": decision is Decision.ALLOW}
    if decision is Decision.DENY:
        status["denied"] = True
    if reason:
        status["reason"] = reason
    return status


def _review(request: SubresourceRequest, *, kind: str) -> Obj:
    body = request.object()
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a {kind} object")
    if body.get("kind") not in (None, kind):
        raise BadRequest(f'the object provided is unrecognized (must be of type {kind}): kind "{body.get("kind")}"')
    return body


def _answer(body: Obj, *, kind: str, status: Obj) -> Reply:
    out = {
        "kind": kind,
        "apiVersion": f"{GROUP}/v1",
        "metadata": _dict(body.get("metadata")),
        "spec": _dict(body.get("spec")),
        "status": status,
    }
    return Reply(body=out, status=201)


class _Handler:
    verbs = frozenset({"create"})

    def __init__(self, chain: Chain) -> None:
        self.chain = chain


class SelfSubjectAccessReviews(_Handler):
    kind = "SelfSubjectAccessReview"

    async def __call__(self, request: SubresourceRequest) -> Reply:
        body = _review(request, kind=self.kind)
        attrs = attributes_of(_dict(body.get("spec")), user=request.ctx.user, kind=self.kind)
        return _answer(body, kind=self.kind, status=_status(self.chain, attrs))


def _subject(spec: Obj, *, kind: str) -> UserInfo:
    name = _text(spec.get("user"))
    groups = tuple(g for g in spec.get("groups") or () if isinstance(g, str))
    if not name and not groups:
        raise Invalid.of(kind=kind, group=GROUP, name="", errors=[invalid(
            "spec.user", name, "at least one of user or group must be specified")])
    extra = {k: [v for v in vs if isinstance(v, str)] for k, vs in _dict(spec.get("extra")).items() if isinstance(vs, list)}
    return UserInfo(name=name, groups=groups, uid=_text(spec.get("uid")), extra=extra)


class SubjectAccessReviews(_Handler):
    kind = "SubjectAccessReview"

    async def __call__(self, request: SubresourceRequest) -> Reply:
        body = _review(request, kind=self.kind)
        spec = _dict(body.get("spec"))
        attrs = attributes_of(spec, user=_subject(spec, kind=self.kind), kind=self.kind)
        return _answer(body, kind=self.kind, status=_status(self.chain, attrs))


class LocalSubjectAccessReviews(_Handler):
    kind = "LocalSubjectAccessReview"

    async def __call__(self, request: SubresourceRequest) -> Reply:
        body = _review(request, kind=self.kind)
        spec = _dict(body.get("spec"))
        namespace = request.ctx.namespace
        if spec.get("nonResourceAttributes") is not None:
            raise Invalid.of(kind=self.kind, group=GROUP, name="", errors=[invalid(
                "spec.nonResourceAttributes", spec["nonResourceAttributes"], "disallowed on this kind of request")])
        attributes = _dict(spec.get("resourceAttributes"))
        if not attributes:
            raise Invalid.of(kind=self.kind, group=GROUP, name="", errors=[required("spec.resourceAttributes")])
        given = _text(attributes.get("namespace"))
        if given and given != namespace:
            raise BadRequest(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
        spec = {**spec, "resourceAttributes": {**attributes, "namespace": namespace}}
        attrs = attributes_of(spec, user=_subject(spec, kind=self.kind), kind=self.kind)
        return _answer({**body, "metadata": {**_dict(body.get("metadata")), "namespace": namespace}, "spec": spec},
                       kind=self.kind, status=_status(self.chain, attrs))


class SelfSubjectRulesReviews(_Handler):
    """What the caller may do in a namespace, as rule lists (``kubectl auth can-i --list``)."""

    kind = "SelfSubjectRulesReview"

    def __init__(self, chain: Chain, *, rbac: RBACAuthorizer | None, node_enabled: bool) -> None:
        super().__init__(chain)
        self.rbac = rbac
        self.node_enabled = node_enabled

    async def __call__(self, request: SubresourceRequest) -> Reply:
        body = _review(request, kind=self.kind)
        spec = _dict(body.get("spec"))
        namespace = _text(spec.get("namespace"))
        if not namespace:
            raise BadRequest("no namespace on request")
        user: UserInfo = request.ctx.user
        resource_rules: list[Obj] = []
        non_resource_rules: list[Obj] = []
        errors: list[str] = []
        incomplete = False
        if PRIVILEGED_GROUP in user.groups:
            resource_rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
            non_resource_rules.append({"verbs": ["*"], "nonResourceURLs": ["*"]})
        if self.node_enabled and node_identity(user.name, user.groups)[0]:
            incomplete = True
            errors.append("node authorizer does not support user rule resolution")
        if self.rbac is not None:
            ruleset = self.rbac.rules_for(user, namespace)
            for rule in ruleset.rules:
                out = rule.to_dict()
                if rule.non_resource_urls:
                    non_resource_rules.append({"verbs": out["verbs"], "nonResourceURLs": out["nonResourceURLs"]})
                else:
                    resource_rules.append(out)
            errors.extend(ruleset.errors)
        status: Obj = {
            "resourceRules": _unique(resource_rules),
            "nonResourceRules": _unique(non_resource_rules),
            "incomplete": incomplete,
        }
        if errors:
            status["evaluationError"] = "; ".join(errors)
        return _answer(body, kind=self.kind, status=status)


def _unique(rules: list[Obj]) -> list[Obj]:
    # The admin holds `*` through system:masters and through cluster-admin: list it once.
    out: list[Obj] = []
    for rule in rules:
        if rule not in out:
            out.append(rule)
    return out


def register(api: Any, *, chain: Chain, rbac: RBACAuthorizer | None, node_enabled: bool) -> None:
    """Serve the four reviews (they are listed in the registry as not stored)."""
    subresources = api.subresources
    subresources.register(group=GROUP, resource="selfsubjectaccessreviews", subresource="",
                          handler=SelfSubjectAccessReviews(chain))
    subresources.register(group=GROUP, resource="subjectaccessreviews", subresource="",
                          handler=SubjectAccessReviews(chain))
    subresources.register(group=GROUP, resource="localsubjectaccessreviews", subresource="",
                          handler=LocalSubjectAccessReviews(chain))
    subresources.register(group=GROUP, resource="selfsubjectrulesreviews", subresource="",
                          handler=SelfSubjectRulesReviews(chain, rbac=rbac, node_enabled=node_enabled))
