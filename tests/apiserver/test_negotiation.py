"""Request body decoding and Accept negotiation."""

from __future__ import annotations

import pytest

from apiserver import negotiation
from kube.errors import BadRequest, NotAcceptable, UnsupportedMediaType

KUBECTL_GET_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def test_json_and_missing_content_type_decode_as_json() -> None:
    assert negotiation.decode_body(content_type="application/json", body=b'{"a": 1}') == {"a": 1}
    assert negotiation.decode_body(content_type="", body=b'{"a": 1}') == {"a": 1}
    assert negotiation.decode_body(content_type="application/json; charset=utf-8", body=b"[1]") == [1]


def test_yaml_decodes_like_kubernetes() -> None:
    body = b"kind: Pod\nmetadata:\n  creationTimestamp: 2024-01-01T00:00:00Z\n  labels:\n    on: 'yes'\nspec:\n  x: {80: http}\n"
    obj = negotiation.decode_body(content_type="application/yaml", body=body)
    # Timestamps stay strings; non-string keys become strings, as sigs.k8s.io/yaml does.
    assert obj["metadata"]["creationTimestamp"] == "2024-01-01T00:00:00Z"
    assert obj["spec"]["x"] == {"80": "http"}


def test_bad_json_is_a_400_with_the_parser_message() -> None:
    with pytest.raises(BadRequest) as err:
        negotiation.decode_body(content_type="application/json", body=b"{nope")
    assert "error decoding JSON" in err.value.message and "line 1" in err.value.message


def test_bad_yaml_and_multiple_documents_are_400() -> None:
    with pytest.raises(BadRequest, match="YAML"):
        negotiation.decode_body(content_type="application/yaml", body=b"a: [1, 2\n")
    with pytest.raises(BadRequest, match="more than one YAML document"):
        negotiation.decode_body(content_type="application/yaml", body=b"a: 1\n---\nb: 2\n")


def test_empty_body_is_a_400() -> None:
    with pytest.raises(BadRequest, match="empty"):
        negotiation.decode_body(content_type="application/json", body=b"  ")


def test_unknown_media_type_is_415() -> None:
    with pytest.raises(UnsupportedMediaType) as err:
        negotiation.decode_body(content_type="text/plain", body=b"x")
    assert err.value.code == 415 and '"text/plain"' in err.value.message


def test_registered_decoder_is_used() -> None:
    negotiation.register_decoder("application/x-test", lambda body: {"raw": body.decode()})
    try:
        assert negotiation.decode_body(content_type="application/x-test", body=b"hi") == {"raw": "hi"}
    finally:
        negotiation._decoders.pop("application/x-test")


def test_patch_bodies() -> None:
    assert negotiation.decode_patch(patch_type=negotiation.APPLY_PATCH, body=b"a: 1") == {"a": 1}
    assert negotiation.decode_patch(patch_type=negotiation.JSON_PATCH, body=b"[]") == []
    with pytest.raises(BadRequest, match="error decoding patch"):
        negotiation.decode_patch(patch_type=negotiation.MERGE_PATCH, body=b"a: 1")


def test_kubectl_get_accept_asks_for_a_table() -> None:
    out = negotiation.negotiate(KUBECTL_GET_ACCEPT)
    assert (out.as_kind, out.group, out.version) == ("Table", "meta.k8s.io", "v1")
    assert out.content_type == "application/json;as=Table;v=v1;g=meta.k8s.io"


def test_unsupported_as_falls_back_to_the_next_entry() -> None:
    out = negotiation.negotiate("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", as_kinds=())
    assert out == negotiation.DEFAULT_OUTPUT


def test_plugin_as_kinds() -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    out = negotiation.negotiate(accept, as_kinds={("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2")})
    assert out.as_kind == "APIGroupDiscoveryList"
    assert negotiation.negotiate(accept).as_kind == ""


def test_quality_values_order_choices() -> None:
    out = negotiation.negotiate("application/json;q=0.5,application/yaml")
    assert out.media_type == "application/yaml"


def test_wildcards_and_empty_accept_mean_json() -> None:
    assert negotiation.negotiate("*/*").media_type == "application/json"
    assert negotiation.negotiate("").media_type == "application/json"
    assert negotiation.negotiate("application/vnd.kubernetes.protobuf, */*").media_type == "application/json"


def test_nothing_acceptable_is_406() -> None:
    with pytest.raises(NotAcceptable):
        negotiation.negotiate("text/html")
    with pytest.raises(NotAcceptable):
        negotiation.negotiate("application/yaml", streaming=True)


def test_partial_object_metadata() -> None:
    out = negotiation.negotiate("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
    assert out.as_kind == "PartialObjectMetadataList"
