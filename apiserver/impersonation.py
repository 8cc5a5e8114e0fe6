"""User impersonation: ``kubectl --as bob --as-group dev``.

A caller allowed the ``impersonate`` verb may act as someone else by sending
``Impersonate-User``, ``Impersonate-Group``, ``Impersonate-Uid`` and
``Impersonate-Extra-<key>`` headers; the request is then authorized and admitted as
that user. It is how an administrator checks what a user may do (``kubectl auth can-i
--as``), so answering for the administrator instead would be a lie. As in Kubernetes,
each impersonated attribute needs its own permission: ``impersonate`` on ``users``
(or ``serviceaccounts`` in the account's namespace), ``groups``, ``uids`` and
``userextras/<key>`` (the last two in ``authentication.k8s.io``). A service account
name gets its service-account groups, and everyone but ``system:anonymous`` gets
``system:authenticated``.
"""

from __future__ import annotations

from urllib.parse import unquote

from apiserver.authn import AUTHENTICATED, Scope, UserInfo
from apiserver.authz.attributes import Attributes
from apiserver.authz.chain import Chain, forbidden
from kube.errors import BadRequest

USER = b"impersonate-user"
GROUP = b"impersonate-group"
UID = b"impersonate-uid"
EXTRA_PREFIX = b"impersonate-extra-"
SA_PREFIX = "system:serviceaccount:"


def _requested(scope: Scope) -> tuple[str | None, list[str], str, dict[str, list[str]]]:
    user: str | None = None
    groups: list[str] = []
    uid = ""
    extra: dict[str, list[str]] = {}
    for name, raw in scope.get("headers") or ():
        if not name.startswith(b"impersonate-"):
            continue
        value = raw.decode("latin-1")
        if name == USER:
            user = value
        elif name == GROUP:
            groups.append(value)
        elif name == UID:
            uid = value
        elif name.startswith(EXTRA_PREFIX):
            key = unquote(name[len(EXTRA_PREFIX):].decode("latin-1")).lower()
            extra.setdefault(key, []).append(value)
    return user, groups, uid, extra


def _check(chain: Chain, attrs: Attributes) -> None:
    if not chain.allowed(attrs):
        raise forbidden(attrs)


def impersonate(scope: Scope, *, user: UserInfo, chain: Chain) -> UserInfo | None:
    """The impersonated user, None when the request impersonates nobody; Forbidden when
    the caller may not, BadRequest for groups or extras without a user."""
    name, groups, uid, extra = _requested(scope)
    if name is None:
        if groups or uid or extra:
            raise BadRequest("requested impersonation of groups, uid or extra without impersonating a user")
        return None

    def attrs(resource: str, value: str, *, group: str = "", namespace: str = "", subresource: str = "") -> Attributes:
        return Attributes(user=user, verb="impersonate", resource_request=True, api_group=group, resource=resource,
                          subresource=subresource, name=value, namespace=namespace)

    out_groups: list[str] = []
    if name.startswith(SA_PREFIX) and name.count(":") == 3:
        namespace, account = name[len(SA_PREFIX):].split(":", 1)
        _check(chain, attrs("serviceaccounts", account, namespace=namespace))
        out_groups += ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    else:
        _check(chain, attrs("users", name))
    for group in groups:
        _check(chain, attrs("groups", group))
    if uid:
        _check(chain, attrs("uids", uid, group="authentication.k8s.io"))
    for key, values in extra.items():
        for value in values:
            _check(chain, attrs("userextras", value, group="authentication.k8s.io", subresource=key))
    out_groups += groups
    if name != "system:anonymous" and AUTHENTICATED not in out_groups:
        out_groups.append(AUTHENTICATED)
    return UserInfo(name=name, groups=tuple(dict.fromkeys(out_groups)), uid=uid, extra=extra)
