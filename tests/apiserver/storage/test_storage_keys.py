"""Key layout and continue tokens: pure functions, checked against Kubernetes' formats."""

from __future__ import annotations

import base64

import pytest

from apiserver.storage import key_for, prefix_for
from apiserver.storage.keys import prefix_end, resource_and_name
from apiserver.storage.paging import decode_continue, encode_continue
from kube.errors import BadRequest


def test_keys_follow_the_kubernetes_registry_layout() -> None:
    assert key_for("pods", "default", "web") == "/registry/pods/default/web"
    assert key_for("nodes", "", "n1") == "/registry/nodes/n1"
    assert prefix_for("pods") == "/registry/pods/"
    assert prefix_for("pods", "default") == "/registry/pods/default/"
    assert resource_and_name("/registry/pods/default/web") == ("pods", "web")
    assert resource_and_name("/registry/nodes/n1") == ("nodes", "n1")


def test_prefix_end_bounds_exactly_the_prefix() -> None:
    end = prefix_end("/registry/pods/")
    assert end == "/registry/pods0"
    assert "/registry/pods/" < "/registry/pods/zzz\U0010ffff" < end
    assert not ("/registry/pods/" <= "/registry/podtemplates/x" < end)


def test_a_token_is_kubernetes_format() -> None:
    token = encode_continue(next_key="/registry/pods/default/pod-1\x00", prefix="/registry/pods/", revision=12345)
    # What kube-apiserver hands out for the same position (RawURLEncoding of the JSON).
    assert token == "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNDUsInN0YXJ0IjoiZGVmYXVsdC9wb2QtMVx1MDAwMCJ9"
    assert "=" not in token
    assert decode_continue(token, "/registry/pods/") == ("/registry/pods/default/pod-1\x00", 12345)


def test_a_token_cannot_escape_its_prefix() -> None:
    raw = b'{"v":"meta.k8s.io/v1","rv":5,"start":"a/../../secrets/"}'
    token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(BadRequest, match="continue key is not valid"):
        decode_continue(token, "/registry/pods/")


def test_the_latest_revision_marker_is_accepted() -> None:
    token = encode_continue(next_key="/registry/pods/b", prefix="/registry/pods/", revision=-1)
    assert decode_continue(token, "/registry/pods/") == ("/registry/pods/b", -1)
