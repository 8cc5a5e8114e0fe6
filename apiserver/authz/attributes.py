"""What an authorizer decides on: who asks, which verb, on what.

Kubernetes' authorizers see an ``authorizer.Attributes`` built from the request info;
the access reviews build the same record from a review's spec, so the HTTP path and
``kubectl auth can-i`` are answered by one piece of code and can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.authn import UserInfo
from apiserver.requestinfo import RequestInfo
from kube import fields

_NAME_FROM_SELECTOR_VERBS = frozenset({"list", "watch"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Attributes:
    user: UserInfo
    verb: str
    resource_request: bool
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    field_selector: str = ""
    label_selector: str = ""

    @property
    def combined_resource(self) -> str:
        """``pods/log`` for a subresource, as RBAC rules name it."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def field_requirement(self, field: str) -> str | None:
        """The value an exact ``field=value`` selector asks for, if there is one."""
        if not self.field_selector:
            return None
        try:
            selector = fields.parse(self.field_selector)
        except Exception:
            return None  # a bad selector is the handler's 400; it grants nothing here
        return selector.exact(field) or None


def from_request(*, user: UserInfo, info: RequestInfo) -> Attributes:
    """The attributes of an HTTP request, with Kubernetes' one adjustment: a list or
    watch narrowed by ``fieldSelector=metadata.name=x`` is authorized as naming ``x``
    (that is how a kubelet may watch the one Secret it needs, and nothing else)."""
    name = info.name
    if not name and info.verb in _NAME_FROM_SELECTOR_VERBS and info.field_selector:
        name = _selected_name(info.field_selector)
    return Attributes(
        user=user,
        verb=info.verb,
        resource_request=info.is_resource_request,
        namespace=info.namespace,
        api_group=info.api_group,
        api_version=info.api_version,
        resource=info.resource,
        subresource=info.subresource,
        name=name,
        path=info.path,
        field_selector=info.field_selector,
        label_selector=info.label_selector,
    )


def _selected_name(field_selector: str) -> str:
    try:
        return fields.parse(field_selector).exact("metadata.name") or ""
    except Exception:
        return ""
