"""kube.errors: the exact Status JSON Kubernetes sends for every error, and the way back."""

import orjson
import pytest

from kube import errors as e
from kube.errors import Cause, Details, FieldError, FieldErrorType, StatusError

HEAD = b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'


@pytest.mark.parametrize(
    ("err", "body"),
    [
        (
            e.NotFound.of(resource="pods", name="x"),
            b'"message":"pods \\"x\\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},'
            b'"code":404}',
        ),
        (
            e.NotFound.of(resource="deployments", group="apps", name="web"),
            b'"message":"deployments.apps \\"web\\" not found","reason":"NotFound",'
            b'"details":{"name":"web","group":"apps","kind":"deployments"},"code":404}',
        ),
        (
            e.AlreadyExists.of(resource="deployments", group="apps", name="web"),
            b'"message":"deployments.apps \\"web\\" already exists","reason":"AlreadyExists",'
            b'"details":{"name":"web","group":"apps","kind":"deployments"},"code":409}',
        ),
        (
            e.Conflict.of(resource="pods", name="x"),
            b'"message":"Operation cannot be fulfilled on pods \\"x\\": the object has been modified; please '
            b'apply your changes to the latest version and try again","reason":"Conflict",'
            b'"details":{"name":"x","kind":"pods"},"code":409}',
        ),
        (
            e.Forbidden.of(
                resource="pods",
                err='User "system:anonymous" cannot list resource "pods" in API group "" in the namespace '
                '"default"',
            ),
            b'"message":"pods is forbidden: User \\"system:anonymous\\" cannot list resource \\"pods\\" in API '
            b'group \\"\\" in the namespace \\"default\\"","reason":"Forbidden","details":{"kind":"pods"},'
            b'"code":403}',
        ),
        (
            e.Forbidden.of(resource="pods", name="x", err="no"),
            b'"message":"pods \\"x\\" is forbidden: no","reason":"Forbidden","details":{"name":"x","kind":"pods"},'
            b'"code":403}',
        ),
        (
            e.Forbidden.of(resource="", err="not allowed"),
            b'"message":"forbidden: not allowed","reason":"Forbidden","code":403}',
        ),
        (e.Unauthorized(), b'"message":"Unauthorized","reason":"Unauthorized","code":401}'),
        (e.BadRequest("bad"), b'"message":"bad","reason":"BadRequest","code":400}'),
        (
            e.MethodNotAllowed(),
            b'"message":"the server does not allow this method on the requested resource",'
            b'"reason":"MethodNotAllowed","code":405}',
        ),
        (e.NotAcceptable("nope"), b'"message":"nope","reason":"NotAcceptable","code":406}'),
        (e.Gone("gone"), b'"message":"gone","reason":"Gone","code":410}'),
        (
            e.Expired.too_old(requested=1, oldest=500),
            b'"message":"too old resource version: 1 (500)","reason":"Expired","code":410}',
        ),
        (
            e.TooLarge.of(limit=3145728),
            b'"message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge",'
            b'"code":413}',
        ),
        (
            e.UnsupportedMediaType.of(content_type="text/plain"),
            b'"message":"the body of the request was in an unknown format - accepted media types include: '
            b'application/json, application/yaml, application/vnd.kubernetes.protobuf (got \\"text/plain\\")",'
            b'"reason":"UnsupportedMediaType","code":415}',
        ),
        (
            e.TooManyRequests.of(message="too many requests, please try again later", retry_after=1),
            b'"message":"too many requests, please try again later","reason":"TooManyRequests",'
            b'"details":{"retryAfterSeconds":1},"code":429}',
        ),
        (
            e.InternalError.of("etcd is down"),
            b'"message":"Internal error occurred: etcd is down","reason":"InternalError",'
            b'"details":{"causes":[{"message":"etcd is down"}]},"code":500}',
        ),
        (
            e.ServiceUnavailable("try later"),
            b'"message":"try later","reason":"ServiceUnavailable","code":503}',
        ),
        (e.Timeout("slow"), b'"message":"slow","reason":"Timeout","code":504}'),
        (StatusError("oops"), b'"message":"oops","reason":"InternalError","code":500}'),
    ],
)
def test_status_json_is_byte_for_byte_kubernetes(err: StatusError, body: bytes) -> None:
    assert err.to_json() == HEAD + body
    assert orjson.loads(err.to_json()) == err.status()


def test_invalid_with_several_causes() -> None:
    err = e.Invalid.of(
        kind="Deployment",
        group="apps",
        name="web",
        errors=[
            e.required("spec.selector"),
            e.invalid("spec.replicas", -1, "must be greater than or equal to 0"),
            e.not_supported("spec.strategy.type", "Sideways", ["Recreate", "RollingUpdate"]),
        ],
    )
    assert err.code == 422 and err.reason == "Invalid"
    assert err.to_json() == HEAD + (
        b'"message":"Deployment.apps \\"web\\" is invalid: [spec.selector: Required value, spec.replicas: '
        b"Invalid value: -1: must be greater than or equal to 0, spec.strategy.type: Unsupported value: "
        b'\\"Sideways\\": supported values: \\"Recreate\\", \\"RollingUpdate\\"]","reason":"Invalid",'
        b'"details":{"name":"web","group":"apps","kind":"Deployment","causes":['
        b'{"reason":"FieldValueRequired","message":"Required value","field":"spec.selector"},'
        b'{"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0",'
        b'"field":"spec.replicas"},'
        b'{"reason":"FieldValueNotSupported","message":"Unsupported value: \\"Sideways\\": supported values: '
        b'\\"Recreate\\", \\"RollingUpdate\\"","field":"spec.strategy.type"}]},"code":422}'
    )
    assert len(err.errors) == 3


def test_invalid_with_one_cause_has_no_brackets() -> None:
    err = e.Invalid.of(kind="Pod", name="x", errors=[e.invalid("metadata.name", "X", "bad")])
    assert err.message == 'Pod "x" is invalid: metadata.name: Invalid value: "X": bad'


def test_invalid_message_drops_repeats_but_keeps_every_cause() -> None:
    twice = [e.required("a"), e.required("a")]
    err = e.Invalid.of(kind="Pod", name="x", errors=twice)
    assert err.message == 'Pod "x" is invalid: a: Required value'
    assert len(err.details.causes) == 2
    assert e.Invalid.of(kind="Pod", name="x", errors=[]).message == 'Pod "x" is invalid'


@pytest.mark.parametrize(
    "err",
    [
        e.NotFound.of(resource="pods", name="x"),
        e.AlreadyExists.of(resource="deployments", group="apps", name="web"),
        e.Conflict.of(resource="pods", name="x"),
        e.Forbidden.of(resource="pods", err="no"),
        e.Unauthorized(),
        e.BadRequest("bad"),
        e.MethodNotAllowed(),
        e.NotAcceptable("nope"),
        e.Gone("gone"),
        e.Expired.too_old(requested=1, oldest=2),
        e.TooLarge.of(limit=10),
        e.UnsupportedMediaType.of(content_type="x"),
        e.TooManyRequests.of(message="slow down", retry_after=3),
        e.InternalError.of("boom"),
        e.ServiceUnavailable("later"),
        e.Timeout("slow"),
        e.Invalid.of(kind="Pod", name="x", errors=[e.required("a"), e.invalid("b", 1, "no")]),
    ],
)
def test_round_trip_through_from_status(err: StatusError) -> None:
    back = StatusError.from_status(orjson.loads(err.to_json()))
    assert type(back) is type(err)
    assert (back.code, back.reason, back.message) == (err.code, err.reason, err.message)
    assert back.details == err.details
    assert back.to_json() == err.to_json()


def test_from_status_falls_back_to_the_code() -> None:
    by_code = StatusError.from_status({"status": "Failure", "message": "m", "code": 404})
    assert isinstance(by_code, e.NotFound) and by_code.message == "m"
    by_http = StatusError.from_status({"message": "m"}, http_code=503)
    assert isinstance(by_http, e.ServiceUnavailable) and by_http.code == 503
    unknown = StatusError.from_status({"message": "teapot", "reason": "Teapot", "code": 418})
    assert type(unknown) is StatusError
    assert (unknown.code, unknown.reason) == (418, "Teapot")
    assert unknown.status()["code"] == 418 and unknown.status()["reason"] == "Teapot"
    odd = StatusError.from_status({"message": "m", "reason": "NotFound", "code": 410})
    assert isinstance(odd, e.NotFound) and odd.code == 410
    assert type(StatusError.from_status({})) is e.InternalError


def test_details_round_trip() -> None:
    details = Details(
        name="x",
        group="apps",
        kind="deployments",
        uid="u-1",
        causes=(Cause(reason="FieldValueRequired", message="Required value", field="spec"),),
        retry_after_seconds=5,
    )
    data = details.to_dict()
    assert list(data) == ["name", "group", "kind", "uid", "causes", "retryAfterSeconds"]
    assert Details.from_dict(data) == details
    assert Details.from_dict(None) == Details()
    assert Cause(reason="", message="").to_dict() == {}


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (e.required("spec.containers"), "spec.containers: Required value"),
        (e.required("spec.containers", "at least one"), "spec.containers: Required value: at least one"),
        (e.invalid("metadata.name", "X", "bad"), 'metadata.name: Invalid value: "X": bad'),
        (e.invalid("spec.replicas", -1, "neg"), "spec.replicas: Invalid value: -1: neg"),
        (e.invalid("spec.paused", True, "no"), "spec.paused: Invalid value: true: no"),
        (e.invalid("spec.x", None, "no"), "spec.x: Invalid value: null: no"),
        (e.invalid("spec.x", 1.5, "no"), "spec.x: Invalid value: 1.5: no"),
        (e.invalid("spec.x", ["a", "b"], "no"), 'spec.x: Invalid value: ["a","b"]: no'),
        (e.invalid("spec.x", {"a": 1}, "no"), 'spec.x: Invalid value: {"a":1}: no'),
        (e.invalid("spec.x", 'say "hi"', "no"), 'spec.x: Invalid value: "say \\"hi\\"": no'),
        (
            e.not_supported("spec.type", "X", ["A", "B"]),
            'spec.type: Unsupported value: "X": supported values: "A", "B"',
        ),
        (e.not_supported("spec.type", "X", []), 'spec.type: Unsupported value: "X"'),
        (e.forbidden("spec.nodeName", "may not be set"), "spec.nodeName: Forbidden: may not be set"),
        (e.duplicate("spec.ports[1].port", 80), "spec.ports[1].port: Duplicate value: 80"),
        (e.not_found("spec.volumes[0].name", "data"), 'spec.volumes[0].name: Not found: "data"'),
        (e.not_found("spec.volumes[0].name"), "spec.volumes[0].name: Not found"),
        (
            e.too_long("metadata.annotations", 262144),
            "metadata.annotations: Too long: must have at most 262144 bytes",
        ),
        (
            e.type_invalid("spec.replicas", "x", "must be an integer"),
            'spec.replicas: Invalid value: "x": must be an integer',
        ),
        (
            FieldError(
                type=FieldErrorType.TOO_MANY, field="spec.x", value=5, detail="must have at most 3 items"
            ),
            "spec.x: Too many: 5: must have at most 3 items",
        ),
        (e.invalid("", "v", "d"), 'Invalid value: "v": d'),
    ],
)
def test_field_error_text(error: FieldError, text: str) -> None:
    assert str(error) == text
    cause = error.cause()
    assert (cause.reason, cause.field, cause.message) == (error.type[0], error.field, error.body())
    assert text.endswith(cause.message)


def test_every_class_has_its_code_and_reason() -> None:
    expected: dict[type[StatusError], tuple[int, str]] = {
        e.BadRequest: (400, "BadRequest"),
        e.Unauthorized: (401, "Unauthorized"),
        e.Forbidden: (403, "Forbidden"),
        e.NotFound: (404, "NotFound"),
        e.MethodNotAllowed: (405, "MethodNotAllowed"),
        e.NotAcceptable: (406, "NotAcceptable"),
        e.AlreadyExists: (409, "AlreadyExists"),
        e.Conflict: (409, "Conflict"),
        e.Gone: (410, "Gone"),
        e.Expired: (410, "Expired"),
        e.TooLarge: (413, "RequestEntityTooLarge"),
        e.UnsupportedMediaType: (415, "UnsupportedMediaType"),
        e.Invalid: (422, "Invalid"),
        e.TooManyRequests: (429, "TooManyRequests"),
        e.InternalError: (500, "InternalError"),
        e.ServiceUnavailable: (503, "ServiceUnavailable"),
        e.Timeout: (504, "Timeout"),
    }
    for cls, (code, reason) in expected.items():
        assert (cls.code, cls.reason) == (code, reason), cls
        assert issubclass(cls, StatusError)
    assert repr(e.BadRequest("x")) == "BadRequest('x')"
    assert str(e.BadRequest("x")) == "x"
