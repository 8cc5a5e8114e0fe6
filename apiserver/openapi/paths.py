"""The ``paths`` of an OpenAPI v3 document: one entry per URL a resource is served at.

Clients read the operations, not just the schemas. ``kubectl explain`` finds a resource's
kind through the ``x-kubernetes-group-version-kind`` of the GET/POST/… operations on its
path, and ``kubectl apply``/``create`` decide whether the server validates fields itself
by looking for a ``fieldValidation`` parameter on the resource's PATCH operation; if it
is missing they fall back to validating on the client with ``/openapi/v2``. So every
verb the registry serves gets an operation carrying its kind and parameters, named
(``operationId``, ``tags``) as kube-apiserver names them. Watch-only URLs (``/watch/…``),
which kube-apiserver lists as deprecated, are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kube.model.schema import definition_for
from kube.resources import ResourceInfo

from ..discovery import Subresource, subresources_of
from .convert import DELETE_OPTIONS, PATCH, STATUS, ref

RefOf = Callable[[str, str, str], str | None]
"""(group, version, kind) → name of its schema in the document, or None if it has none."""

JSON = "application/json"
RESPONSE_TYPES = (JSON, "application/yaml", "application/vnd.kubernetes.protobuf")
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
# Kinds without a built-in schema (custom resources) take no strategic merge patch; kubectl
# reads this list to choose between a strategic and a JSON merge patch for ``apply``.
CUSTOM_PATCH_TYPES = tuple(t for t in PATCH_TYPES if t != "application/strategic-merge-patch+json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    name: str
    where: str
    description: str
    type: str = "string"
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description, "in": self.where, "name": self.name}
        if self.required:
            out["required"] = True
        out["schema"] = {"type": self.type, "uniqueItems": True}
        return out


def _query(name: str, description: str, type_: str = "string") -> Param:
    return Param(name=name, where="query", description=description, type=type_)


PRETTY = _query("pretty", "If 'true', the response is indented for reading.")
NAMESPACE = Param(name="namespace", where="path", required=True, description="The namespace of the object.")
DRY_RUN = _query("dryRun", "'All' runs every stage of the request but stores nothing.")
FIELD_MANAGER = _query("fieldManager", "Who makes this change, as recorded in managedFields.")
FIELD_VALIDATION = _query(
    "fieldValidation",
    "What to do with unknown or duplicate fields in the body: Ignore them, Warn about them, "
    "or refuse the request (Strict).",
)
FORCE = _query("force", "Take over fields other managers own (apply patches only).", "boolean")
WRITE = (DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION)
LIST = (
    _query("allowWatchBookmarks", "Ask for BOOKMARK events in a watch.", "boolean"),
    _query("continue", "The token of the next page, from the previous page's metadata."),
    _query("fieldSelector", "Only objects whose fields match, e.g. spec.nodeName=n1."),
    _query("labelSelector", "Only objects whose labels match, e.g. app=web,tier!=db."),
    _query("limit", "At most this many items; the rest come in later pages.", "integer"),
    _query("resourceVersion", "How fresh the answer must be; see resourceVersionMatch."),
    _query("resourceVersionMatch", "Exact or NotOlderThan: how resourceVersion is applied."),
    _query("sendInitialEvents", "Start a watch with the current objects as ADDED events.", "boolean"),
    _query("timeoutSeconds", "End a list or watch after this many seconds.", "integer"),
    _query("watch", "Stream changes instead of answering once.", "boolean"),
)
DELETE = (
    DRY_RUN,
    _query("gracePeriodSeconds", "Seconds the object has to stop before it is deleted.", "integer"),
    _query("propagationPolicy", "What happens to dependents: Orphan, Background or Foreground."),
)
LOG = (
    _query("container", "The container to read; optional when the pod has one."),
    _query("follow", "Keep the stream open and send new lines as they are written.", "boolean"),
    _query("limitBytes", "Stop after this many bytes.", "integer"),
    _query("previous", "Read the previous, terminated instance of the container.", "boolean"),
    _query("sinceSeconds", "Only lines written in the last this many seconds.", "integer"),
    _query("tailLines", "Only the last this many lines.", "integer"),
    _query("timestamps", "Prefix every line with its RFC 3339 time.", "boolean"),
)


def group_word(group: str) -> str:
    """The group as operation ids spell it: ``rbac.authorization.k8s.io`` →
    ``RbacAuthorization``, the core group → ``Core``."""
    if not group:
        return "Core"
    parts = group.removesuffix(".k8s.io").replace("-", ".").split(".")
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def tag(group: str, version: str) -> str:
    """``apps_v1``, ``core_v1``, ``rbacAuthorization_v1``: the operations' tag."""
    word = group_word(group)
    return f"{word[:1].lower()}{word[1:]}_{version}"


def _dicts(params: Iterable[Param]) -> list[dict[str, Any]]:
    return [p.to_dict() for p in params]


def _patch_types(target: _Target) -> tuple[str, ...]:
    builtin = definition_for(group=target.group, version=target.version, kind=target.kind) is not None
    return PATCH_TYPES if builtin else CUSTOM_PATCH_TYPES


def _content(schema: dict[str, Any], types: Sequence[str] = RESPONSE_TYPES) -> dict[str, Any]:
    return {media: {"schema": schema} for media in types}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Target:
    """The kind an operation answers, and the schema (reference) of that kind."""

    group: str
    version: str
    kind: str
    schema: dict[str, Any]


class PathBuilder:
    """Builds the path items of the resources of one group version."""

    def __init__(self, *, group: str, version: str, ref_of: RefOf) -> None:
        self.group = group
        self.version = version
        self._ref_of = ref_of
        self._prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        self._ids = f"{group_word(group)}{version[:1].upper()}{version[1:]}"
        self._tag = tag(group, version)

    def _schema(self, group: str, version: str, kind: str) -> dict[str, Any]:
        name = self._ref_of(group, version, kind)
        return ref(name) if name else {"type": "object"}

    def _operation(
        self,
        *,
        verb: str,
        action: str,
        description: str,
        target: _Target,
        op_id: str,
        params: Sequence[Param] = (),
        body: dict[str, Any] | None = None,
        codes: Sequence[str] = ("200",),
        response: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        answer = response or _content(target.schema)
        words = {"200": "OK", "201": "Created", "202": "Accepted"}
        responses: dict[str, Any] = {code: {"content": answer, "description": words[code]} for code in codes}
        responses["401"] = {"description": "Unauthorized"}
        op: dict[str, Any] = {"description": description, "operationId": f"{verb}{self._ids}{op_id}"}
        if params:
            op["parameters"] = _dicts(params)
        if body is not None:
            op["requestBody"] = {"content": body, "required": True}
        op["responses"] = responses
        op["tags"] = [self._tag]
        op["x-kubernetes-action"] = action
        op["x-kubernetes-group-version-kind"] = {
            "group": target.group,
            "kind": target.kind,
            "version": target.version,
        }
        return op

    def _target(self, group: str, version: str, kind: str) -> _Target:
        return _Target(group=group, version=version, kind=kind, schema=self._schema(group, version, kind))

    def paths(self, info: ResourceInfo) -> dict[str, dict[str, Any]]:
        """Every path of ``info``: collection, object, subresources, and the
        all-namespaces list of a namespaced resource."""
        target = self._target(info.group, info.version, info.kind)
        scope = "Namespaced" if info.namespaced else ""
        if info.namespaced:
            base = f"{self._prefix}/namespaces/{{namespace}}/{info.resource}"
            scope_params = [NAMESPACE]
        else:
            base, scope_params = f"{self._prefix}/{info.resource}", []
        name_params = [self._name(info.kind), *scope_params, PRETTY]
        out: dict[str, dict[str, Any]] = {}
        if collection := self._collection(info, target=target, scope=scope):
            out[base] = {**collection, "parameters": _dicts([*scope_params, PRETTY])}
        if item := self._item(info, target=target, scope=scope):
            out[f"{base}/{{name}}"] = {**item, "parameters": _dicts(name_params)}
        for sub in subresources_of(info):
            out[f"{base}/{{name}}/{sub.name}"] = self._subresource(info, sub, scope=scope, params=name_params)
        if info.namespaced and "list" in info.verbs:
            out[f"{self._prefix}/{info.resource}"] = {
                "get": self._list(info, target=target, op_id=f"{info.kind}ForAllNamespaces"),
                "parameters": _dicts([PRETTY]),
            }
        return out

    def _collection(self, info: ResourceInfo, *, target: _Target, scope: str) -> dict[str, Any]:
        ops: dict[str, Any] = {}
        if "list" in info.verbs:
            ops["get"] = self._list(info, target=target, op_id=f"{scope}{info.kind}")
        if "create" in info.verbs:
            ops["post"] = self._operation(
                verb="create",
                action="post",
                description=f"create a {info.kind}",
                target=target,
                op_id=f"{scope}{info.kind}",
                params=WRITE,
                body=_content(target.schema, ("*/*",)),
                codes=("200", "201", "202"),
            )
        if "deletecollection" in info.verbs:
            ops["delete"] = self._operation(
                verb="delete",
                action="deletecollection",
                description=f"delete collection of {info.kind}",
                target=target,
                op_id=f"Collection{scope}{info.kind}",
                params=(*DELETE, *LIST),
                body=_content(ref(DELETE_OPTIONS), ("*/*",)),
                response=_content(ref(STATUS)),
            )
        return ops

    def _item(self, info: ResourceInfo, *, target: _Target, scope: str) -> dict[str, Any]:
        ops: dict[str, Any] = {}
        op_id = f"{scope}{info.kind}"
        if "get" in info.verbs:
            ops["get"] = self._operation(
                verb="read",
                action="get",
                description=f"read the specified {info.kind}",
                target=target,
                op_id=op_id,
            )
        self._writes(ops, target=target, op_id=op_id, what=f"the specified {info.kind}", verbs=info.verbs)
        if "delete" in info.verbs:
            ops["delete"] = self._operation(
                verb="delete",
                action="delete",
                description=f"delete a {info.kind}",
                target=target,
                op_id=op_id,
                params=DELETE,
                body=_content(ref(DELETE_OPTIONS), ("*/*",)),
                codes=("200", "202"),
            )
        return ops

    def _name(self, kind: str) -> Param:
        return Param(name="name", where="path", required=True, description=f"name of the {kind}")

    def _list(self, info: ResourceInfo, *, target: _Target, op_id: str) -> dict[str, Any]:
        list_ref = self._ref_of(info.group, info.version, info.list_kind)
        answer = _content(ref(list_ref) if list_ref else {"type": "object"})
        return self._operation(
            verb="list",
            action="list",
            description=f"list or watch objects of kind {info.kind}",
            target=target,
            op_id=op_id,
            params=LIST,
            response=answer,
        )

    def _writes(
        self, item: dict[str, Any], *, target: _Target, op_id: str, what: str, verbs: Collection[str]
    ) -> None:
        if "update" in verbs:
            item["put"] = self._operation(
                verb="replace",
                action="put",
                description=f"replace {what}",
                target=target,
                op_id=op_id,
                params=WRITE,
                body=_content(target.schema, ("*/*",)),
                codes=("200", "201"),
            )
        if "patch" in verbs:
            item["patch"] = self._operation(
                verb="patch",
                action="patch",
                description=f"partially update {what}",
                target=target,
                op_id=op_id,
                params=(*WRITE, FORCE),
                body=_content(ref(PATCH), _patch_types(target)),
                codes=("200", "201"),
            )

    def _subresource(
        self, info: ResourceInfo, sub: Subresource, *, scope: str, params: list[Param]
    ) -> dict[str, Any]:
        target = self._target(sub.group, sub.version, sub.kind)
        op_id = f"{scope}{info.kind}{sub.name[:1].upper()}{sub.name[1:]}"
        what = f"{sub.name} of the specified {info.kind}"
        verbs = sub.verbs
        entry: dict[str, Any] = {}
        if "get" in verbs:
            log = sub.name == "log"
            entry["get"] = self._operation(
                verb="read",
                action="get",
                description=f"read {what}",
                target=target,
                op_id=op_id,
                params=LOG if log else (),
                response=_content({"type": "string"}, ("text/plain",)) if log else None,
            )
        if "create" in verbs:
            entry["post"] = self._operation(
                verb="create",
                action="post",
                description=f"create {sub.name} of a {info.kind}",
                target=target,
                op_id=op_id,
                params=WRITE,
                body=_content(target.schema, ("*/*",)),
                codes=("200", "201", "202"),
            )
        self._writes(entry, target=target, op_id=op_id, what=what, verbs=verbs)
        entry["parameters"] = _dicts(params)
        return entry
