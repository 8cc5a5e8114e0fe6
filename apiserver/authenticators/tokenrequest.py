"""``POST .../serviceaccounts/<name>/token``: the TokenRequest subresource.

``kubectl create token <sa>`` sends an ``authentication.k8s.io/v1 TokenRequest`` here
and prints ``status.token``. As in Kubernetes:

- ``spec.expirationSeconds`` defaults to 3600 and must be at least 600 (10 minutes)
  and at most 2^32; ``spec.audiences`` defaults to the API server's own audiences;
- ``spec.boundObjectRef`` may bind the token to a Pod of the same namespace (the pod
  must exist, match the uid if one is given, and run as this service account); the
  token then dies with the pod;
- a node (the kubelet) may only request tokens bound to a pod on itself, which is how
  NodeRestriction limits it — kube-apiserver does this in its admission plugin; here
  the handler checks it, since a token request is not a stored object.

Answers 201 with the TokenRequest, its ``status.token`` and ``status.expirationTimestamp``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from apiserver.authn import UserInfo
from apiserver.authz.node import node_identity
from apiserver.registry import Reply, SubresourceRequest
from kube.errors import BadRequest, Forbidden, Invalid, NotFound, invalid

from .serviceaccounts import TokenIssuer

GROUP = "authentication.k8s.io"
DEFAULT_SECONDS = 3600
MIN_SECONDS = 600
MAX_SECONDS = 2**32
Obj = dict[str, Any]


def _rfc3339(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(name: str, field: str, value: Any, detail: str) -> Invalid:
    return Invalid.of(kind="TokenRequest", group=GROUP, name=name, errors=[invalid(field, value, detail)])


class TokenRequestHandler:
    verbs = frozenset({"create"})

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer

    async def __call__(self, request: SubresourceRequest) -> Reply:
        ctx = request.ctx
        body = request.object()
        if not isinstance(body, dict):
            raise BadRequest("the body must be an authentication.k8s.io/v1 TokenRequest")
        if body.get("kind") not in (None, "TokenRequest"):
            raise BadRequest(f'the object provided is unrecognized (must be of type TokenRequest): kind "{body.get("kind")}"')
        account = await request.parent.get(ctx)  # 404 serviceaccounts "x" not found
        raw_spec = body.get("spec")
        spec: Obj = raw_spec if isinstance(raw_spec, dict) else {}
        seconds = spec.get("expirationSeconds", DEFAULT_SECONDS)
        if seconds is None:
            seconds = DEFAULT_SECONDS
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise _invalid(ctx.name, "spec.expirationSeconds", seconds, "must be an integer")
        if seconds < MIN_SECONDS:
            raise _invalid(ctx.name, "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")
        if seconds > MAX_SECONDS:
            raise _invalid(ctx.name, "spec.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds")
        audiences = spec.get("audiences") or list(self.issuer.audiences)
        if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
            raise _invalid(ctx.name, "spec.audiences", audiences, "must be a list of non-empty strings")
        pod = await self._bound_pod(request, spec, account)
        token, expires = self.issuer.issue(
            namespace=ctx.namespace,
            name=ctx.name,
            uid=str(account["metadata"].get("uid") or ""),
            audiences=audiences,
            seconds=seconds,
            pod=pod,
        )
        out_spec: Obj = {"audiences": audiences, "expirationSeconds": seconds}
        if spec.get("boundObjectRef") is not None:
            out_spec["boundObjectRef"] = spec["boundObjectRef"]
        answer = {
            "kind": "TokenRequest",
            "apiVersion": f"{GROUP}/v1",
            "metadata": {"name": ctx.name, "namespace": ctx.namespace, "creationTimestamp": _rfc3339(expires - seconds)},
            "spec": out_spec,
            "status": {"token": token, "expirationTimestamp": _rfc3339(expires)},
        }
        return Reply(body=answer, status=201)

    async def _bound_pod(self, request: SubresourceRequest, spec: Obj, account: Obj) -> tuple[str, str] | None:
        ctx = request.ctx
        user = ctx.user
        node = node_identity(user.name, user.groups) if isinstance(user, UserInfo) else (False, "")
        ref = spec.get("boundObjectRef")
        if ref is None:
            if node[0]:
                raise Forbidden.of(resource="serviceaccounts", name=ctx.name,
                                   err=f'node "{node[1]}" requested token not bound to a pod')
            return None
        if not isinstance(ref, dict) or ref.get("kind") != "Pod" or ref.get("apiVersion", "v1") != "v1":
            raise _invalid(ctx.name, "spec.boundObjectRef.kind", (ref or {}).get("kind") if isinstance(ref, dict) else ref,
                           "supported values: \"Pod\"")
        name = ref.get("name")
        if not isinstance(name, str) or not name:
            raise _invalid(ctx.name, "spec.boundObjectRef.name", name, "must be set")
        pods = request.api.store(group="", version="v1", resource="pods")
        if pods is None:
            raise NotFound.of(resource="pods", name=name)
        try:
            pod = await pods.storage.get(pods.key(namespace=ctx.namespace, name=name))
        except NotFound:
            raise NotFound.of(resource="pods", name=name) from None
        uid = str(pod["metadata"].get("uid") or "")
        if ref.get("uid") and ref["uid"] != uid:
            raise Forbidden.of(resource="serviceaccounts", name=ctx.name,
                               err=f'the UID in the bound object reference ({ref["uid"]}) does not match the UID in record')
        pod_spec = pod.get("spec") or {}
        if (pod_spec.get("serviceAccountName") or "default") != ctx.name:
            raise BadRequest(f'cannot bind token for serviceaccount "{ctx.name}" to pod running with different '
                             f'serviceaccount name.')
        if node[0] and pod_spec.get("nodeName") != node[1]:
            raise Forbidden.of(resource="serviceaccounts", name=ctx.name,
                               err='node requested token bound to a pod scheduled on a different node')
        return name, uid
