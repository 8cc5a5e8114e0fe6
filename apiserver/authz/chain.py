"""The authorizer chain, and the 403 a refusal becomes.

As kube-apiserver's union authorizer: each authorizer answers allow, deny or "no
opinion" (with a reason), in the order ``--authorization-mode`` lists them; the first
allow or deny wins, and if nobody allows, the request is refused with every reason
given. Members of ``system:masters`` are allowed before any of them is asked, as
kube-apiserver's privileged-group authorizer does, so the admin can always repair a
broken RBAC policy.

The decision is synchronous: every authorizer reads only in-memory state (watch caches
and indexes built from them), never storage, so authorizing costs no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Protocol

from apiserver.authn import UserInfo
from apiserver.requestinfo import RequestInfo
from kube.errors import Details, Forbidden

from .attributes import Attributes, from_request

PRIVILEGED_GROUP = "system:masters"


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


class Authorizer(Protocol):
    name: str

    def decide(self, attrs: Attributes) -> tuple[Decision, str]: ...


class AlwaysAllow:
    name = "AlwaysAllow"

    def decide(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.ALLOW, ""


class Chain:
    """``authorize`` is the hook ``apiserver.app`` calls; ``decide`` serves the reviews."""

    def __init__(self, authorizers: Sequence[Authorizer]) -> None:
        self.authorizers = tuple(authorizers)

    def decide(self, attrs: Attributes) -> tuple[Decision, str]:
        if PRIVILEGED_GROUP in attrs.user.groups:
            return Decision.ALLOW, ""
        reasons: list[str] = []
        for authorizer in self.authorizers:
            decision, reason = authorizer.decide(attrs)
            if decision is not Decision.NO_OPINION:
                return decision, reason
            if reason:
                reasons.append(reason)
        return Decision.NO_OPINION, "; ".join(reasons)

    def allowed(self, attrs: Attributes) -> bool:
        return self.decide(attrs)[0] is Decision.ALLOW

    async def authorize(self, *, user: Any, request: RequestInfo) -> None:
        self.authorize_now(user=user, request=request)

    def authorize_now(self, *, user: Any, request: RequestInfo) -> None:
        """``authorize`` without the coroutine: the decision never waits (see above), and
        ``apiserver.app`` asks it on every request."""
        if isinstance(user, UserInfo) and PRIVILEGED_GROUP in user.groups:
            return  # the admin's hot path: no attribute record, no lookups
        attrs = from_request(user=user, info=request)
        decision, reason = self.decide(attrs)
        if decision is not Decision.ALLOW:
            raise forbidden(attrs, reason)


def forbidden_message(attrs: Attributes) -> str:
    """Kubernetes' wording, which scripts and people grep for."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = attrs.combined_resource
    if attrs.namespace:
        return (
            f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
            f'in the namespace "{attrs.namespace}"'
        )
    return f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" at the cluster scope'


def forbidden(attrs: Attributes, reason: str = "") -> Forbidden:
    message = forbidden_message(attrs)
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request:
        return Forbidden(f"forbidden: {message}", details=Details())
    return Forbidden.of(resource=attrs.resource, group=attrs.api_group, name=attrs.name, err=message)
