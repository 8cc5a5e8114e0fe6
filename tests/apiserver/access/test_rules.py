"""RBAC rule matching and covering: the edge cases Kubernetes' evaluation helpers have."""

from __future__ import annotations

import pytest

from apiserver.authz.attributes import Attributes
from apiserver.authz.rules import Rule, compile_rules, rule_allows, uncovered

from .conftest import user

U = user("bob")


def res(verb: str, resource: str, *, group: str = "", sub: str = "", name: str = "", ns: str = "default") -> Attributes:
    return Attributes(user=U, verb=verb, resource_request=True, api_group=group, resource=resource,
                      subresource=sub, name=name, namespace=ns)


def url(verb: str, path: str) -> Attributes:
    return Attributes(user=U, verb=verb, resource_request=False, path=path)


def rule(**raw: object) -> Rule:
    return compile_rules([raw])[0]


@pytest.mark.parametrize(
    ("raw", "attrs", "allowed"),
    [
        ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, res("get", "pods"), True),
        ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, res("list", "pods"), False),
        ({"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]}, res("delete", "pods"), True),
        ({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["pods"]}, res("get", "pods"), False),
        ({"verbs": ["get"], "apiGroups": ["*"], "resources": ["deployments"]}, res("get", "deployments", group="apps"), True),
        # A subresource needs its own grant: plain "pods" does not cover pods/log ...
        ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, res("get", "pods", sub="log"), False),
        ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]}, res("get", "pods", sub="log"), True),
        # ... "*/scale" covers every resource's scale, "*" covers everything, "pods/*" is no pattern.
        ({"verbs": ["update"], "apiGroups": ["apps"], "resources": ["*/scale"]},
         res("update", "deployments", group="apps", sub="scale"), True),
        ({"verbs": ["update"], "apiGroups": ["apps"], "resources": ["*/scale"]},
         res("update", "deployments", group="apps"), False),
        ({"verbs": ["get"], "apiGroups": [""], "resources": ["*"]}, res("get", "pods", sub="log"), True),
        ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/*"]}, res("get", "pods", sub="log"), False),
        # resourceNames: only requests naming one of them; never a list or a create.
        ({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s1"]},
         res("get", "secrets", name="s1"), True),
        ({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s1"]},
         res("get", "secrets", name="s2"), False),
        ({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s1"]},
         res("list", "secrets"), False),
        # Non-resource URLs: exact, or by prefix with a trailing "*"; never for resource requests.
        ({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}, url("get", "/healthz"), True),
        ({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}, url("get", "/healthz/etcd"), False),
        ({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}, url("get", "/apis/apps/v1"), True),
        ({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}, url("get", "/api"), False),
        ({"verbs": ["*"], "nonResourceURLs": ["*"]}, url("post", "/anything"), True),
        ({"verbs": ["get"], "nonResourceURLs": ["*"]}, res("get", "pods"), False),
        ({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]}, url("get", "/metrics"), False),
    ],
)
def test_rule_allows(raw: dict[str, object], attrs: Attributes, allowed: bool) -> None:
    assert rule_allows(rule(**raw), attrs) is allowed


def test_covering_breaks_rules_down() -> None:
    owner = compile_rules([
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "services"]},
        {"verbs": ["*"], "apiGroups": ["apps"], "resources": ["*/scale"]},
        {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"]},
        {"verbs": ["get"], "nonResourceURLs": ["/apis/*"]},
    ])
    assert uncovered(owner, compile_rules([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}])) == []
    assert uncovered(owner, compile_rules([{"verbs": ["patch"], "apiGroups": ["apps"],
                                            "resources": ["deployments/scale"]}])) == []
    assert uncovered(owner, compile_rules([{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"],
                                            "resourceNames": ["a"]}])) == []
    assert uncovered(owner, compile_rules([{"verbs": ["get"], "nonResourceURLs": ["/apis/apps"]}])) == []
    missing = uncovered(owner, compile_rules([{"verbs": ["get", "delete"], "apiGroups": [""],
                                               "resources": ["pods", "secrets"]}]))
    assert [str(r) for r in missing] == [
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    ]


def test_star_covers_everything_and_names_do_not_cover_all() -> None:
    admin = compile_rules([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}])
    assert uncovered(admin, compile_rules([{"verbs": ["escalate"], "apiGroups": ["x"], "resources": ["y/z"],
                                            "resourceNames": ["n"]}])) == []
    named = compile_rules([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["p"]}])
    assert uncovered(named, compile_rules([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]))
