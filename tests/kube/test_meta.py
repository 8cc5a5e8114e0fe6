"""kube.meta: accessors, time stamps, names, finalizers, owner references, ObjectMeta validation."""

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kube import meta
from kube.errors import FieldErrorType
from kube.names import is_dns1123_label

DNS_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def pod(name: str = "web", namespace: str = "prod", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, **extra}}


# --- identity and time -------------------------------------------------------------------


def test_new_uid_is_a_random_uuid4() -> None:
    first, second = meta.new_uid(), meta.new_uid()
    assert first != second
    assert uuid.UUID(first).version == 4
    assert str(uuid.UUID(first)) == first


def test_time_formats_match_metav1() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert meta.format_time(when) == "2026-01-02T03:04:05Z"
    assert meta.format_micro_time(when) == "2026-01-02T03:04:05.123456Z"
    assert meta.format_micro_time(when.replace(microsecond=0)) == "2026-01-02T03:04:05.000000Z"
    plus_two = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert meta.format_time(plus_two) == "2026-01-02T03:04:05Z"  # always printed in UTC


def test_now_is_current_utc_in_the_right_shape() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp, micro = meta.now(), meta.now_micro()
    after = datetime.now(UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", micro)
    assert before <= meta.parse_time(stamp) <= after
    assert before <= meta.parse_time(micro) <= after


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.123456Z", datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02t03:04:05z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.5Z", datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    parsed = meta.parse_time(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["", "2026-01-02", "2026-01-02 03:04:05Z", "2026-01-02T03:04:05", "yesterday"]
)
def test_parse_time_refuses_what_is_not_rfc3339(text: str) -> None:
    with pytest.raises(ValueError):
        meta.parse_time(text)


def test_generate_name_follows_simple_name_generator() -> None:
    name = meta.generate_name("web-")
    assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}", name)
    assert len({meta.generate_name("web-") for _ in range(20)}) > 1
    long = meta.generate_name("a" * 100)  # "a" is not in the random alphabet
    assert len(long) == 63 and long[:58] == "a" * 58 and "a" not in long[58:]
    assert is_dns1123_label(long) == []


# --- accessors ------------------------------------------------------------------------------


def test_accessors() -> None:
    obj = pod(uid="u-1", resourceVersion="7", labels={"app": "web"}, annotations={"note": "x"})
    assert meta.name(obj) == "web"
    assert meta.namespace(obj) == "prod"
    assert meta.uid(obj) == "u-1"
    assert meta.resource_version(obj) == "7"
    assert meta.labels(obj) == {"app": "web"}
    assert meta.annotations(obj) == {"note": "x"}
    empty: dict[str, Any] = {}
    assert meta.name(empty) == meta.namespace(empty) == meta.uid(empty) == meta.resource_version(empty) == ""
    assert meta.labels(empty) == {} and meta.annotations({"metadata": None}) == {}


def test_keys() -> None:
    assert meta.key(pod()) == "prod/web"
    assert meta.key({"metadata": {"name": "node-1"}}) == "node-1"
    assert meta.split_key("prod/web") == ("prod", "web")
    assert meta.split_key("node-1") == ("", "node-1")
    with pytest.raises(ValueError, match='unexpected key format: "a/b/c"'):
        meta.split_key("a/b/c")


# --- finalizers -----------------------------------------------------------------------------


def test_finalizers() -> None:
    obj: dict[str, Any] = {}
    assert not meta.has_finalizer(obj, "example.com/cleanup")
    assert meta.add_finalizer(obj, "example.com/cleanup") is True
    assert meta.add_finalizer(obj, "example.com/cleanup") is False  # idempotent
    assert meta.add_finalizer(obj, "kubernetes") is True
    assert obj["metadata"]["finalizers"] == ["example.com/cleanup", "kubernetes"]
    assert meta.has_finalizer(obj, "kubernetes")
    assert meta.remove_finalizer(obj, "example.com/cleanup") is True
    assert meta.remove_finalizer(obj, "example.com/cleanup") is False
    assert meta.finalizers(obj) == ["kubernetes"]
    assert meta.remove_finalizer(obj, "kubernetes") is True
    assert "finalizers" not in obj["metadata"]
    dup = pod(finalizers=["a/b", "c/d", "a/b"])
    assert meta.remove_finalizer(dup, "a/b") and meta.finalizers(dup) == ["c/d"]


# --- owner references -----------------------------------------------------------------------


def test_controller_ref_helpers() -> None:
    rs = {"metadata": {"name": "web-abc", "namespace": "prod", "uid": "rs-uid"}}
    other = {"metadata": {"name": "other", "uid": "other-uid"}}
    ref = meta.new_controller_ref(rs, api_version="apps/v1", kind="ReplicaSet")
    assert list(ref.items()) == [
        ("apiVersion", "apps/v1"),
        ("kind", "ReplicaSet"),
        ("name", "web-abc"),
        ("uid", "rs-uid"),
        ("controller", True),
        ("blockOwnerDeletion", True),
    ]
    plain = {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": "other-uid"}
    child = pod(ownerReferences=[plain, ref])
    assert meta.owner_refs(child) == [plain, ref]
    assert meta.controller_ref(child) == ref
    assert meta.is_owned_by(child, rs) and meta.is_owned_by(child, other)
    assert meta.is_controlled_by(child, rs) and not meta.is_controlled_by(child, other)
    assert meta.controller_ref(pod()) is None and meta.owner_refs(pod()) == []
    assert not meta.is_owned_by(child, {"metadata": {"name": "no-uid"}})


def _ref(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u", **fields}


def test_validate_owner_references() -> None:
    path = "metadata.ownerReferences"
    assert meta.validate_owner_references([_ref(controller=True), _ref(uid="v")], path) == []
    assert meta.validate_owner_references(None, path) == []
    errors = meta.validate_owner_references(
        [{"apiVersion": "apps/", "kind": "", "name": "", "uid": ""}], path
    )
    assert [str(e) for e in errors] == [
        'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ]
    event_owner = meta.validate_owner_references([_ref(apiVersion="v1", kind="Event")], path)
    assert [e.detail for e in event_owner] == ["/v1, Kind=Event is disallowed from being an owner"]


def test_only_one_controller_reference() -> None:
    refs = [_ref(controller=True), _ref(name="rs2", uid="u2", controller=True)]
    errors = meta.validate_owner_references(refs, "metadata.ownerReferences")
    assert len(errors) == 1
    assert errors[0].type == FieldErrorType.INVALID
    assert str(errors[0]) == (
        "metadata.ownerReferences: Invalid value: "
        '[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u","controller":true},'
        '{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs2","uid":"u2","controller":true}]: '
        'Only one reference can have Controller set to true. Found "true" in references for '
        "ReplicaSet/rs and ReplicaSet/rs2"
    )


# --- ObjectMeta -----------------------------------------------------------------------------


def messages(errors: list[Any]) -> list[str]:
    return [str(e) for e in errors]


def test_valid_object_meta() -> None:
    good = {
        "name": "web-1.example",
        "namespace": "prod",
        "labels": {"app": "web"},
        "annotations": {"Example.com/Note": "anything"},
        "finalizers": ["example.com/cleanup", "kubernetes"],
        "ownerReferences": [_ref(controller=True)],
        "generation": 3,
    }
    assert meta.validate_object_meta(good, namespaced=True) == []
    assert meta.validate_object_meta({"name": "node-1"}, namespaced=False) == []


def test_name_or_generate_name_is_required() -> None:
    assert messages(meta.validate_object_meta({}, namespaced=False)) == [
        "metadata.name: Required value: name or generateName is required"
    ]
    assert messages(meta.validate_object_meta(None, namespaced=True)) == [
        "metadata.name: Required value: name or generateName is required",
        "metadata.namespace: Required value",
    ]


def test_name_syntax_goes_through_name_check() -> None:
    assert messages(meta.validate_object_meta({"name": "Web_1"}, namespaced=False)) == [
        f'metadata.name: Invalid value: "Web_1": {DNS_SUBDOMAIN}'
    ]
    assert messages(
        meta.validate_object_meta({"name": "a.b"}, namespaced=False, name_check=is_dns1123_label)
    ) == [f'metadata.name: Invalid value: "a.b": {DNS_LABEL}']
    assert meta.validate_object_meta({"name": "anything"}, namespaced=False, name_check=lambda _: []) == []


def test_generate_name_may_end_in_a_dash() -> None:
    ok = {"generateName": "web-", "name": "web-x7k2p", "namespace": "d"}
    assert meta.validate_object_meta(ok, namespaced=True) == []
    # Kubernetes' stand-in drops the character before the dash too, so "web.-" passes.
    assert meta.validate_object_meta({"generateName": "web.-", "name": "w"}, namespaced=False) == []
    assert messages(meta.validate_object_meta({"generateName": "-", "name": "w"}, namespaced=False)) == [
        f'metadata.generateName: Invalid value: "-": {DNS_SUBDOMAIN}'
    ]
    assert messages(meta.validate_object_meta({"generateName": "Web-", "name": "w"}, namespaced=False)) == [
        f'metadata.generateName: Invalid value: "Web-": {DNS_SUBDOMAIN}'
    ]


def test_namespace_rules() -> None:
    assert messages(meta.validate_object_meta({"name": "n", "namespace": "x"}, namespaced=False)) == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]
    assert messages(meta.validate_object_meta({"name": "n", "namespace": "a.b"}, namespaced=True)) == [
        f'metadata.namespace: Invalid value: "a.b": {DNS_LABEL}'
    ]


def test_labels_annotations_finalizers_and_generation() -> None:
    errors = meta.validate_object_meta(
        {
            "name": "n",
            "generation": -1,
            "labels": {"app": "-web"},
            "annotations": {"a b": "x"},
            "finalizers": ["orphan", "foregroundDeletion", "bad/name/x"],
            "managedFields": [{"manager": "kubectl", "operation": "Patch", "fieldsType": "FieldsV2"}],
        },
        namespaced=False,
    )
    assert [(e.field, e.type) for e in errors] == [
        ("metadata.generation", FieldErrorType.INVALID),
        ("metadata.labels", FieldErrorType.INVALID),
        ("metadata.annotations", FieldErrorType.INVALID),
        ("metadata.finalizers", FieldErrorType.INVALID),
        ("metadata.finalizers", FieldErrorType.INVALID),
        ("metadata.managedFields[0].operation", FieldErrorType.INVALID),
        ("metadata.managedFields[0].fieldsType", FieldErrorType.INVALID),
    ]
    assert str(errors[0]) == "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    assert str(errors[4]) == (
        'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion","bad/name/x"]: '
        "finalizer orphan and foregroundDeletion cannot be both set"
    )
    assert (
        str(errors[5])
        == 'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`'
    )


def test_custom_path() -> None:
    errors = meta.validate_object_meta({}, namespaced=True, path="spec.template.metadata")
    assert [e.field for e in errors] == ["spec.template.metadata.name", "spec.template.metadata.namespace"]


# --- updates --------------------------------------------------------------------------------

OLD = {
    "name": "a",
    "namespace": "d",
    "uid": "u-1",
    "resourceVersion": "5",
    "creationTimestamp": "2026-01-02T03:04:05Z",
    "generation": 2,
}


def test_unchanged_update_is_valid() -> None:
    assert meta.validate_object_meta_update({**OLD, "labels": {"x": "y"}}, OLD) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "b"}, 'metadata.name: Invalid value: "b": field is immutable'),
        ({"namespace": "e"}, 'metadata.namespace: Invalid value: "e": field is immutable'),
        ({"uid": "u-2"}, 'metadata.uid: Invalid value: "u-2": field is immutable'),
        (
            {"creationTimestamp": "2027-01-01T00:00:00Z"},
            'metadata.creationTimestamp: Invalid value: "2027-01-01T00:00:00Z": field is immutable',
        ),
        (
            {"deletionTimestamp": "2027-01-01T00:00:00Z"},
            'metadata.deletionTimestamp: Invalid value: "2027-01-01T00:00:00Z": field is immutable',
        ),
        (
            {"deletionGracePeriodSeconds": 30},
            "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable",
        ),
        (
            {"resourceVersion": ""},
            'metadata.resourceVersion: Invalid value: "": must be specified for an update',
        ),
        ({"generation": 1}, "metadata.generation: Invalid value: 1: must not be decremented"),
        (
            {"labels": {"a": "-"}},
            'metadata.labels: Invalid value: "-": a valid label must be an empty string or '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
    ],
)
def test_update_errors(change: dict[str, Any], message: str) -> None:
    assert messages(meta.validate_object_meta_update({**OLD, **change}, OLD)) == [message]


def test_removing_a_name_is_a_change_to_the_empty_name() -> None:
    new = {k: v for k, v in OLD.items() if k != "name"}
    assert messages(meta.validate_object_meta_update(new, OLD)) == [
        'metadata.name: Invalid value: "": field is immutable'
    ]


def test_no_new_finalizers_once_deleting() -> None:
    deleting = {**OLD, "deletionTimestamp": "2026-02-01T00:00:00Z", "finalizers": ["a/x"]}
    assert meta.validate_object_meta_update({**deleting, "finalizers": []}, deleting) == []
    errors = meta.validate_object_meta_update({**deleting, "finalizers": ["a/x", "b/y", "a/z"]}, deleting)
    assert messages(errors) == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, "
        'found new finalizers []string{"a/z", "b/y"}'
    ]
    # Before deletion, adding is fine.
    assert meta.validate_object_meta_update({**OLD, "finalizers": ["a/x"]}, OLD) == []
