"""Content negotiation: what a request body is written in, and what the client wants back.

Request bodies are JSON (also when no Content-Type is sent, as ``kubectl scale
--current-replicas`` does) or YAML; other media types are refused with 415 unless a
decoder was registered for them (protobuf plugs in here with ``register_decoder``).

The Accept header can ask not just for a format but for a *different kind* of answer:
``application/json;as=Table;v=v1;g=meta.k8s.io`` makes ``kubectl get`` columns,
``as=PartialObjectMetadataList`` is what metadata informers use, and discovery answers
``as=APIGroupDiscoveryList``. ``negotiate`` picks the first acceptable entry, honouring
q-values, and reports the ``as``/``g``/``v`` it chose so each endpoint decides how to
render; an Accept that lists nothing we can produce is a 406.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import orjson
import yaml

from kube.errors import BadRequest, NotAcceptable, UnsupportedMediaType

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

META_GROUP = "meta.k8s.io"
META_VERSIONS = ("v1", "v1beta1")

Decoder = Callable[[bytes], Any]
Encoder = Callable[[Any], bytes]


# -- YAML that reads as Kubernetes' sigs.k8s.io/yaml does --------------------------------


class _KubeYAMLLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: ``2024-01-01T00:00:00Z`` stays the string
    Kubernetes would see, not a Python datetime that JSON cannot hold."""


_KubeYAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _json_keys(value: Any) -> Any:
    # YAML allows non-string keys (``80: http``); JSON objects do not. sigs.k8s.io/yaml
    # turns them into strings, and so do we, recursively.
    if isinstance(value, dict):
        return {k if isinstance(k, str) else _yaml_scalar_text(k): _json_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_keys(v) for v in value]
    return value


def _yaml_scalar_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def decode_yaml(body: bytes) -> Any:
    try:
        docs = [d for d in yaml.load_all(body, Loader=_KubeYAMLLoader) if d is not None]
    except yaml.YAMLError as err:
        raise BadRequest(f"error converting YAML to JSON: {_one_line(str(err))}") from None
    if len(docs) > 1:
        raise BadRequest(
            "error converting YAML to JSON: the body holds more than one YAML document; send one object"
        )
    return _json_keys(docs[0]) if docs else None


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"error decoding JSON: {err}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def encode_json(value: Any) -> bytes:
    return orjson.dumps(value)


def encode_yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False).encode()


_decoders: dict[str, Decoder] = {JSON: decode_json, YAML: decode_yaml}
# orjson.dumps itself for JSON (what encode_json calls): one Python call less per answer.
_encoders: dict[str, Encoder] = {JSON: orjson.dumps, YAML: encode_yaml}


def register_decoder(media_type: str, decoder: Decoder) -> None:
    """Accept request bodies of ``media_type`` (e.g. protobuf), decoded to a JSON-like value."""
    _decoders[media_type] = decoder


def register_encoder(media_type: str, encoder: Encoder) -> None:
    """Offer responses in ``media_type`` to clients that ask for it."""
    _encoders[media_type] = encoder
    _NEGOTIATED.clear()  # an Accept header refused or answered otherwise before may now be served


def base_media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return content_type.split(";", 1)[0].strip().lower()


def decode_body(*, content_type: str, body: bytes) -> Any:
    """The request body as a JSON-like value. An absent Content-Type means JSON."""
    media = base_media_type(content_type) or JSON
    decoder = _decoders.get(media)
    if decoder is None:
        raise UnsupportedMediaType.of(content_type=content_type)
    if not body.strip():
        raise BadRequest("the request body is empty; send the object as JSON or YAML")
    return decoder(body)


def decode_patch(*, patch_type: str, body: bytes) -> Any:
    """A PATCH body: apply patches are YAML (JSON being YAML too), the others JSON."""
    if not body.strip():
        raise BadRequest("the patch body is empty")
    if patch_type == APPLY_PATCH:
        return decode_yaml(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"error decoding patch: {err}") from None


def unsupported_patch_type(
    content_type: str, *, allowed: Collection[str] = PATCH_TYPES
) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted media types include: {', '.join(allowed)} "
        f'(got "{content_type}")'
    )


# -- Accept ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    params: dict[str, str] = field(default_factory=dict)
    q: float = 1.0

    @property
    def media_type(self) -> str:
        return f"{self.type}/{self.subtype}"


def parse_accept(header: str) -> list[MediaRange]:
    """Entries in preference order (higher q first, then as written)."""
    out: list[MediaRange] = []
    for entry in header.split(","):
        pieces = [p.strip() for p in entry.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        type_, _, subtype = media.partition("/")
        params: dict[str, str] = {}
        q = 1.0
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            key = key.strip().lower()
            value = value.strip().strip('"')
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif key:
                params[key] = value
        if q > 0:
            out.append(MediaRange(type=type_, subtype=subtype or "*", params=params, q=q))
    out.sort(key=lambda m: -m.q)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """The chosen response form. ``as_kind`` is ``""`` for the object itself."""

    media_type: str = JSON
    as_kind: str = ""
    group: str = ""
    version: str = ""

    @property
    def content_type(self) -> str:
        if self.as_kind:
            return f"{self.media_type};as={self.as_kind};v={self.version};g={self.group}"
        return self.media_type

    def encode(self, value: Any) -> bytes:
        return _encoders[self.media_type](value)


DEFAULT_OUTPUT = Output()

# What resource endpoints can render besides the object: tables for kubectl get,
# metadata-only objects for metadata informers. (as, group, version) triples.
RESOURCE_AS_KINDS: frozenset[tuple[str, str, str]] = frozenset(
    (kind, META_GROUP, v)
    for kind in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList")
    for v in META_VERSIONS
)


def _media_for(rng: MediaRange, *, streaming: bool) -> str | None:
    if rng.type == "*" or (rng.type == "application" and rng.subtype == "*"):
        return JSON
    media = rng.media_type
    if streaming and media == YAML:
        return None  # watch streams are never YAML, as in Kubernetes
    return media if media in _encoders else None


# Answers for resource endpoints by (Accept, streaming): clients send the same few Accept
# headers on every request (kubectl's table request, client-go's JSON or protobuf).
_NEGOTIATED: dict[tuple[str, bool], Output] = {}
_NEGOTIATED_MAX = 256


def negotiate(
    accept: str,
    *,
    as_kinds: Collection[tuple[str, str, str]] = RESOURCE_AS_KINDS,
    streaming: bool = False,
) -> Output:
    """Pick the response form for an Accept header. ``as_kinds`` lists the (as, g, v)
    alternatives this endpoint can produce; entries asking for others are skipped."""
    if not accept:
        return DEFAULT_OUTPUT
    if as_kinds is not RESOURCE_AS_KINDS:
        return _negotiate(accept, as_kinds=as_kinds, streaming=streaming)
    key = (accept, streaming)
    found = _NEGOTIATED.get(key)
    if found is None:
        found = _negotiate(accept, as_kinds=as_kinds, streaming=streaming)  # a refusal raises: not kept
        if len(_NEGOTIATED) >= _NEGOTIATED_MAX:
            _NEGOTIATED.clear()
        _NEGOTIATED[key] = found
    return found


def _negotiate(accept: str, *, as_kinds: Collection[tuple[str, str, str]], streaming: bool) -> Output:
    for rng in parse_accept(accept):
        media = _media_for(rng, streaming=streaming)
        if media is None:
            continue
        as_kind = rng.params.get("as", "")
        if not as_kind:
            return DEFAULT_OUTPUT if media == JSON else Output(media_type=media)
        group, version = rng.params.get("g", ""), rng.params.get("v", "")
        if (as_kind, group, version) in as_kinds:
            return Output(media_type=media, as_kind=as_kind, group=group, version=version)
    supported = ", ".join(m for m in _encoders if not (streaming and m == YAML))
    raise NotAcceptable(f"only the following media types are accepted: {supported}")
