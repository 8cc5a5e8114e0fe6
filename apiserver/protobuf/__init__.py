"""Request bodies in Kubernetes' protobuf encoding, decoded to their JSON form.

kubectl 1.32 and later send ``Content-Type: application/vnd.kubernetes.protobuf`` from
every command built on typed clients (every ``create`` subcommand, ``auth can-i``,
``auth whoami``, ``certificate approve``, ``debug``, ``autoscale``, the pod deletes of
``drain``) and never retry as JSON after a 415. So the API server must read protobuf,
but only at its edge: ``decode`` returns exactly the dict the same kubectl command
would have sent as JSON, and everything behind negotiation stays JSON-only. Answers go
back as JSON, which kubectl accepts.

A body is the 4 bytes ``k8s\\0`` and a ``runtime.Unknown`` message whose TypeMeta names
the kind and whose ``raw`` bytes hold the typed message. Field numbers come from
Kubernetes' ``generated.proto`` files, kept as one table per API group version (in
``tables/``); ``decoder.py`` reads any of them generically.
"""

from __future__ import annotations

from typing import Any, Final

from apiserver.protobuf.decoder import UnknownField, decode_message
from apiserver.protobuf.schema import known_kinds, message_for
from apiserver.protobuf.wire import Malformed
from kube.errors import BadRequest, UnsupportedMediaType

__all__ = ["MAGIC", "PROTOBUF", "decode"]

PROTOBUF: Final = "application/vnd.kubernetes.protobuf"
MAGIC: Final = b"k8s\x00"

_SEND_JSON: Final = "send the object as JSON (Content-Type: application/json) instead"


def decode(body: bytes) -> dict[str, Any]:
    """The object in ``body`` as its JSON form (kind, apiVersion, metadata, spec, ...).

    Raises BadRequest for bytes that are not a Kubernetes protobuf body, and
    UnsupportedMediaType for a valid body of a kind, or with a field, this server does
    not decode.
    """
    if not body.startswith(MAGIC):
        raise BadRequest(
            f"the body is not Kubernetes protobuf: it must start with the 4 bytes 'k8s\\x00', "
            f"but starts with {body[:4]!r}; fix the Content-Type or {_SEND_JSON}"
        )
    if len(body) == len(MAGIC):
        raise BadRequest("the protobuf body holds no object after its 'k8s\\x00' prefix")
    envelope = _decode(
        body[len(MAGIC):], message="Unknown", subject="the runtime.Unknown envelope of the protobuf body"
    )
    type_meta: dict[str, str] = envelope["typeMeta"]
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    if not kind or not api_version:
        raise BadRequest(
            "the protobuf body does not say what it holds: its runtime.Unknown envelope needs "
            f"typeMeta.apiVersion and typeMeta.kind (got apiVersion {api_version!r}, kind {kind!r})"
        )
    named = f"{api_version} {kind}"
    if envelope.get("contentEncoding"):
        raise UnsupportedMediaType(
            f"the protobuf body of {named} uses contentEncoding {envelope['contentEncoding']!r}, "
            f"which this server does not decode; send it unencoded or {_SEND_JSON}"
        )
    if envelope.get("contentType", PROTOBUF) not in ("", PROTOBUF):
        raise UnsupportedMediaType(
            f"the protobuf envelope of {named} says its payload is {envelope['contentType']!r}; "
            f"send that payload as the request body with that Content-Type instead"
        )
    message = message_for(api_version=api_version, kind=kind)
    if message is None:
        raise UnsupportedMediaType(
            f"this server decodes protobuf bodies only of {', '.join(known_kinds())}, not {named}; {_SEND_JSON}"
        )
    obj = _decode(envelope.get("raw", b""), message=message, subject=f"the protobuf body of {named}")
    return {"kind": kind, "apiVersion": api_version, **obj}


def _decode(data: bytes, *, message: str, subject: str) -> Any:
    """Turns the decoder's own errors into Kubernetes Status errors saying where they were."""
    try:
        return decode_message(data, message=message, path="")
    except Malformed as err:
        where = f" at {err.path}" if err.path else ""
        raise BadRequest(f"{subject} is malformed{where}: {err.detail}") from None
    except UnknownField as err:
        where = f"at {err.path}" if err.path else "at the top level"
        raise UnsupportedMediaType(
            f"{subject} has field number {err.number} of {err.message} {where}, "
            f"which this server does not know (it may be newer than this server); {_SEND_JSON}"
        ) from None
