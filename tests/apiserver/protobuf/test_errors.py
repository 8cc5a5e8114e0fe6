"""Bad bodies: 400 with where and what for malformed bytes, 415 naming the kind or field
this server does not decode and telling the client to send JSON."""

from __future__ import annotations

import pytest

from apiserver.protobuf import decode
from kube.errors import BadRequest, UnsupportedMediaType
from tests.apiserver.protobuf.wirebuild import (
    LEN,
    MAGIC,
    body,
    data,
    empty_meta,
    entry,
    envelope,
    key,
    msg,
    num,
    text,
    varint,
)


def _bad(raw: bytes) -> str:
    with pytest.raises(BadRequest) as caught:
        decode(raw)
    assert caught.value.status()["code"] == 400
    return caught.value.message


def _unsupported(raw: bytes) -> str:
    with pytest.raises(UnsupportedMediaType) as caught:
        decode(raw)
    assert caught.value.status()["code"] == 415
    return caught.value.message


@pytest.mark.parametrize("raw", [b"", b'{"kind":"Namespace"}', b"k8s", b"K8S\x00\x0a\x00"])
def test_a_body_without_the_magic_prefix_is_a_bad_request(raw: bytes) -> None:
    assert "must start with the 4 bytes 'k8s\\x00'" in _bad(raw)


def test_the_magic_alone_holds_no_object() -> None:
    assert "holds no object" in _bad(MAGIC)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (MAGIC + b"\x0a", "ends inside a varint"),  # a key with no length
        (MAGIC + b"\x0a\x05ab", "declares 5 bytes but only 2 remain"),
        (MAGIC + b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
        (MAGIC + b"\x00\x00", "invalid field number 0"),
        (MAGIC + b"\x0b", "wire type 3"),  # a group
        (MAGIC + b"\x0e", "wire type 6"),
        (MAGIC + b"\x09\x00\x00", "needs 8 bytes"),
    ],
)
def test_malformed_wire_data_says_what_is_wrong_and_where(raw: bytes, detail: str) -> None:
    message = _bad(raw)
    assert "malformed" in message and detail in message


def test_a_wrong_wire_type_names_the_field_and_its_path() -> None:
    message = _bad(body("v1", "Namespace", msg(1, num(1, 7))))
    assert "at metadata" in message and "field 1 (name) arrived with wire type 0" in message


def test_invalid_utf8_in_a_string_is_refused_with_its_path() -> None:
    message = _bad(body("v1", "ConfigMap", empty_meta(), entry(2, "k", b"\xff\xfe")))
    assert "data[k]" in message and "not valid UTF-8" in message


def test_a_bad_quantity_is_refused_as_the_api_server_refuses_it() -> None:
    container = msg(2, text(1, "c"), msg(8, entry(1, "cpu", text(1, "lots"))))
    message = _bad(body("apps/v1", "Deployment", msg(2, msg(3, msg(2, container)))))
    assert "spec.template.spec.containers[0].resources.limits[cpu]" in message
    assert "quantities must match the regular expression" in message


def test_an_int_or_string_of_unknown_type_is_refused() -> None:
    strategy = msg(4, msg(2, msg(1, num(1, 2))))
    assert "IntOrString type is 2" in _bad(body("apps/v1", "Deployment", msg(2, strategy)))


def test_managed_fields_must_hold_json() -> None:
    managed = msg(17, msg(7, data(1, b"{not json")))
    assert "fieldsV1 does not hold JSON" in _bad(body("v1", "Namespace", msg(1, managed)))


def test_a_time_outside_the_calendar_is_refused() -> None:
    assert "outside years 1-9999" in _bad(body("v1", "Namespace", msg(1, msg(8, num(1, 1 << 62)))))


def test_a_map_entry_holds_only_key_and_value() -> None:
    bad_entry = msg(2, text(1, "k"), text(3, "?"))
    assert "entries hold only a key (1) and a value (2)" in _bad(body("v1", "ConfigMap", bad_entry))


def test_an_envelope_without_kind_is_a_bad_request() -> None:
    assert "typeMeta.apiVersion and typeMeta.kind" in _bad(envelope("v1", "", b""))
    assert "typeMeta.apiVersion and typeMeta.kind" in _bad(envelope("", "Namespace", b""))


def test_an_unknown_kind_is_unsupported_and_the_client_is_told_to_send_json() -> None:
    message = _unsupported(body("v1", "Node", empty_meta()))
    assert "not v1 Node" in message and "Content-Type: application/json" in message
    assert "apps/v1 Deployment" in message  # and what would have worked


def test_a_known_kind_under_another_version_is_unsupported() -> None:
    assert "not apps/v1beta1 Deployment" in _unsupported(body("apps/v1beta1", "Deployment"))


def test_an_unknown_field_is_unsupported_naming_its_number_and_path() -> None:
    pod_spec = msg(2, msg(2, text(1, "c"), text(999, "from the future")))
    message = _unsupported(body("apps/v1", "Deployment", msg(2, msg(3, pod_spec))))
    assert "field number 999 of Container at spec.template.spec.containers[0]" in message
    assert "apps/v1 Deployment" in message and "Content-Type: application/json" in message


def test_an_unknown_top_level_field_is_unsupported() -> None:
    assert "field number 9 of Namespace at the top level" in _unsupported(body("v1", "Namespace", text(9, "x")))


def test_an_encoded_payload_is_unsupported() -> None:
    message = _unsupported(envelope("v1", "Namespace", b"\x1f\x8b", content_encoding="gzip"))
    assert "contentEncoding 'gzip'" in message


def test_a_payload_of_another_media_type_is_unsupported() -> None:
    message = _unsupported(envelope("v1", "Namespace", b"{}", content_type="application/json"))
    assert "'application/json'" in message


def test_a_length_that_overruns_a_nested_message_is_caught_inside_it() -> None:
    truncated = key(1, LEN) + varint(10) + b"\x0a\x01"  # ObjectMeta claims 10 bytes, has 2
    message = _bad(envelope("v1", "Namespace", truncated))
    assert "declares 10 bytes but only 2 remain" in message


def test_a_string_inside_metadata_that_overruns_names_metadata() -> None:
    meta = data(1, key(1, LEN) + varint(9) + b"ab")
    assert "at metadata" in _bad(body("v1", "Namespace", meta))
