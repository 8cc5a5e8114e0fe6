"""Errors that carry a Kubernetes ``Status``.

Every failure a client can see is one of these. Each class knows its HTTP code and
``reason`` and builds the exact ``Status`` JSON the real API server sends, so that
kubectl prints ``Error from server (NotFound): pods "x" not found`` from our answer
just as it does from Kubernetes. Components raise them; the API server serializes
them; the client library parses them back into the same classes (``from_status``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import orjson


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """One field problem, as in ``details.causes`` of an Invalid Status."""

    reason: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        # Every member of metav1.StatusCause is ``omitempty``: an internal error's cause
        # carries only a message.
        out: dict[str, str] = {}
        if self.reason:
            out["reason"] = self.reason
        if self.message:
            out["message"] = self.message
        if self.field:
            out["field"] = self.field
        return out


class FieldErrorType:
    """The ``reason`` strings of field causes and the words Kubernetes prints for them."""

    NOT_FOUND = ("FieldValueNotFound", "Not found")
    REQUIRED = ("FieldValueRequired", "Required value")
    DUPLICATE = ("FieldValueDuplicate", "Duplicate value")
    INVALID = ("FieldValueInvalid", "Invalid value")
    NOT_SUPPORTED = ("FieldValueNotSupported", "Unsupported value")
    FORBIDDEN = ("FieldValueForbidden", "Forbidden")
    TOO_LONG = ("FieldValueTooLong", "Too long")
    TOO_MANY = ("FieldValueTooMany", "Too many")
    TYPE_INVALID = ("FieldValueTypeInvalid", "Invalid value")


# Types whose message never carries the value, as in apimachinery's field.Error.ErrorBody
# (NotFound and TooMany do print theirs when one is given).
_VALUELESS = {
    FieldErrorType.REQUIRED,
    FieldErrorType.FORBIDDEN,
    FieldErrorType.TOO_LONG,
}

_OMIT = object()


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value, default=str).decode()


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldError:
    """A validation problem at one field path, e.g. ``spec.containers[0].image``."""

    type: tuple[str, str]
    field: str
    value: Any = _OMIT
    detail: str = ""

    def body(self) -> str:
        text = self.type[1]
        if self.type not in _VALUELESS and self.value is not _OMIT:
            text += f": {_quote(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    def cause(self) -> Cause:
        return Cause(reason=self.type[0], message=self.body(), field=self.field)


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(type=FieldErrorType.REQUIRED, field=field, detail=detail)


def invalid(field: str, value: Any, detail: str = "") -> FieldError:
    return FieldError(type=FieldErrorType.INVALID, field=field, value=value, detail=detail)


def not_supported(field: str, value: Any, valid: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(_quote(v) for v in valid) if valid else ""
    return FieldError(type=FieldErrorType.NOT_SUPPORTED, field=field, value=value, detail=detail)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(type=FieldErrorType.FORBIDDEN, field=field, detail=detail)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(type=FieldErrorType.DUPLICATE, field=field, value=value)


def not_found(field: str, value: Any = _OMIT, detail: str = "") -> FieldError:
    return FieldError(type=FieldErrorType.NOT_FOUND, field=field, value=value, detail=detail)


def too_long(field: str, max_length: int) -> FieldError:
    return FieldError(
        type=FieldErrorType.TOO_LONG, field=field, detail=f"must have at most {max_length} bytes"
    )


def type_invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(type=FieldErrorType.TYPE_INVALID, field=field, value=value, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class Details:
    name: str = ""
    group: str = ""
    kind: str = ""
    uid: str = ""
    causes: tuple[Cause, ...] = ()
    retry_after_seconds: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.group:
            out["group"] = self.group
        if self.kind:
            out["kind"] = self.kind
        if self.uid:
            out["uid"] = self.uid
        if self.causes:
            out["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after_seconds:
            out["retryAfterSeconds"] = self.retry_after_seconds
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Details:
        data = data or {}
        return cls(
            name=data.get("name", ""),
            group=data.get("group", ""),
            kind=data.get("kind", ""),
            uid=data.get("uid", ""),
            causes=tuple(
                Cause(reason=c.get("reason", ""), message=c.get("message", ""), field=c.get("field", ""))
                for c in data.get("causes") or ()
            ),
            retry_after_seconds=int(data.get("retryAfterSeconds") or 0),
        )


def qualified(resource: str, group: str = "") -> str:
    """``deployments.apps`` for a grouped resource, ``pods`` for the core group."""
    return f"{resource}.{group}" if group else resource


class StatusError(Exception):
    """Base of every error that is a Kubernetes Status. Subclasses fix code and reason."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"
    _by_reason: ClassVar[dict[str, type[StatusError]]] = {}

    def __init__(self, message: str, *, details: Details | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or Details()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        StatusError._by_reason.setdefault(cls.reason, cls)

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        details = self.details.to_dict()
        if details:
            out["details"] = details
        out["code"] = self.code
        return out

    def to_json(self) -> bytes:
        return orjson.dumps(self.status())

    @staticmethod
    def from_status(status: dict[str, Any], *, http_code: int = 0) -> StatusError:
        """Rebuild the typed error from a Status body a server sent."""
        reason = status.get("reason") or ""
        code = int(status.get("code") or http_code or 500)
        cls = StatusError._by_reason.get(reason)
        if cls is None:
            cls = _by_code.get(code, StatusError)
        err = StatusError.__new__(cls)
        StatusError.__init__(err, status.get("message", ""), details=Details.from_dict(status.get("details")))
        if cls.code != code or (reason and cls.reason != reason):
            err.code = code  # type: ignore[misc]
            err.reason = reason or cls.reason  # type: ignore[misc]
        return err

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InternalError(StatusError):
    code = 500
    reason = "InternalError"

    @classmethod
    def of(cls, err: str) -> InternalError:
        return cls(f"Internal error occurred: {err}", details=Details(causes=(Cause(reason="", message=err),)))


class BadRequest(StatusError):
    code = 400
    reason = "BadRequest"


class Unauthorized(StatusError):
    code = 401
    reason = "Unauthorized"

    def __init__(self, message: str = "Unauthorized", *, details: Details | None = None) -> None:
        super().__init__(message, details=details)


class Forbidden(StatusError):
    code = 403
    reason = "Forbidden"

    @classmethod
    def of(cls, *, resource: str, group: str = "", name: str = "", err: str) -> Forbidden:
        what = qualified(resource, group)
        if not what:
            message = f"forbidden: {err}"
        else:
            message = f'{what} "{name}" is forbidden: {err}' if name else f"{what} is forbidden: {err}"
        return cls(message, details=Details(name=name, group=group, kind=resource))


class NotFound(StatusError):
    code = 404
    reason = "NotFound"

    @classmethod
    def of(cls, *, resource: str, name: str, group: str = "") -> NotFound:
        return cls(
            f'{qualified(resource, group)} "{name}" not found',
            details=Details(name=name, group=group, kind=resource),
        )


class MethodNotAllowed(StatusError):
    code = 405
    reason = "MethodNotAllowed"

    def __init__(
        self,
        message: str = "the server does not allow this method on the requested resource",
        *,
        details: Details | None = None,
    ) -> None:
        super().__init__(message, details=details)


class NotAcceptable(StatusError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(StatusError):
    code = 409
    reason = "AlreadyExists"

    @classmethod
    def of(cls, *, resource: str, name: str, group: str = "") -> AlreadyExists:
        return cls(
            f'{qualified(resource, group)} "{name}" already exists',
            details=Details(name=name, group=group, kind=resource),
        )


OBJECT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


class Conflict(StatusError):
    code = 409
    reason = "Conflict"

    @classmethod
    def of(cls, *, resource: str, name: str, err: str = OBJECT_MODIFIED, group: str = "") -> Conflict:
        return cls(
            f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {err}',
            details=Details(name=name, group=group, kind=resource),
        )


class Gone(StatusError):
    code = 410
    reason = "Gone"


class Expired(StatusError):
    """410 with reason Expired: a resourceVersion or continue token older than the history."""

    code = 410
    reason = "Expired"

    @classmethod
    def too_old(cls, *, requested: int, oldest: int) -> Expired:
        return cls(f"too old resource version: {requested} ({oldest})")


class TooLarge(StatusError):
    code = 413
    reason = "RequestEntityTooLarge"

    @classmethod
    def of(cls, *, limit: int) -> TooLarge:
        return cls(f"Request entity too large: limit is {limit}")


class UnsupportedMediaType(StatusError):
    code = 415
    reason = "UnsupportedMediaType"

    @classmethod
    def of(cls, *, content_type: str) -> UnsupportedMediaType:
        return cls(f'the body of the request was in an unknown format - accepted media types include: '
                   f'application/json, application/yaml, application/vnd.kubernetes.protobuf '
                   f'(got "{content_type}")')


class Invalid(StatusError):
    code = 422
    reason = "Invalid"

    def __init__(
        self, message: str, *, details: Details | None = None, errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.errors = list(errors or [])

    @classmethod
    def of(cls, *, kind: str, name: str, errors: list[FieldError], group: str = "") -> Invalid:
        """``Pod "x" is invalid: [a: Required value, b: Invalid value: ...]`` with every cause."""
        # As utilerrors' aggregate: repeated messages are printed once, brackets only for several.
        messages = list(dict.fromkeys(str(e) for e in errors))
        joined = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
        qualified_kind = f"{kind}.{group}" if group else kind
        head = f'{qualified_kind} "{name}" is invalid'
        return cls(
            f"{head}: {joined}" if messages else head,
            details=Details(name=name, group=group, kind=kind, causes=tuple(e.cause() for e in errors)),
            errors=errors,
        )


class TooManyRequests(StatusError):
    code = 429
    reason = "TooManyRequests"

    @classmethod
    def of(cls, *, message: str, retry_after: int = 1) -> TooManyRequests:
        return cls(message, details=Details(retry_after_seconds=retry_after))


class ServiceUnavailable(StatusError):
    code = 503
    reason = "ServiceUnavailable"


class Timeout(StatusError):
    code = 504
    reason = "Timeout"


_by_code: dict[int, type[StatusError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    409: Conflict,
    410: Gone,
    413: TooLarge,
    415: UnsupportedMediaType,
    422: Invalid,
    429: TooManyRequests,
    500: InternalError,
    503: ServiceUnavailable,
    504: Timeout,
}
