"""Every message the decoder knows, compiled from the per-group tables and checked once.

The tables are transcribed facts, so a slip (a nested message that does not exist, a
field with two kinds, a message containing itself) must fail at import, in every test
run, rather than on the one request that reaches it. ``KINDS`` says which top-level
objects a body may hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from apiserver.protobuf.fields import PRESENCE, VALUE_KINDS, Entry, T, Table
from apiserver.protobuf.tables import ALL_TABLES


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    number: int
    json: str
    kind: T  # exactly one of fields.VALUE_KINDS; for a map, the kind of its values
    repeated: bool
    map: bool
    presence: T  # one of fields.PRESENCE, or T(0) for Go omitempty
    message: str = ""  # the nested message for MSG fields
    # Precomputed for the decoder's inner loop, where IntFlag arithmetic is slow:
    single_message: bool = False  # a MSG that is neither a list nor a map: chunks merge
    packable: bool = False  # repeated numbers, which may arrive packed in one LEN field


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    name: str
    fields: Mapping[int, Field]
    # What the decoder revisits after reading, grouped once here rather than per body:
    omitempty: tuple[Field, ...]  # dropped when zero
    defaults: tuple[Field, ...]  # ALWAYS, NULL and INLINE: filled in when absent


class SchemaError(Exception):
    """A mistake in the field tables themselves (a bug here, never a client's fault)."""


def _compile(tables: list[Table]) -> dict[str, Message]:
    merged: dict[str, dict[int, Field]] = {}
    for table in tables:
        for name, entries in table.items():
            if name in merged:
                raise SchemaError(f"message {name} is defined twice")
            merged[name] = {number: _field(name, number, entry) for number, entry in entries.items()}
    for name, fields in merged.items():
        for field in fields.values():
            if field.kind == T.MSG and field.message not in merged:
                raise SchemaError(f"{name}.{field.json} names unknown message {field.message!r}")
    _refuse_cycles(merged)
    return {
        name: Message(
            name=name, fields=MappingProxyType(fields),
            omitempty=tuple(f for f in fields.values() if not f.presence),
            defaults=tuple(f for f in fields.values() if f.presence & (T.ALWAYS | T.NULL | T.INLINE)),
        )
        for name, fields in merged.items()
    }


def _refuse_cycles(messages: dict[str, dict[int, Field]]) -> None:
    """No message may contain itself: then how deep a body nests is bounded by the
    tables rather than by the client, and no recursion limit can be reached."""
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            raise SchemaError("recursive messages: " + " -> ".join((*trail, name)))
        if name not in done:
            for field in messages[name].values():
                if field.message:
                    visit(field.message, (*trail, name))
            done.add(name)

    for name in messages:
        visit(name, ())


def _field(message: str, number: int, entry: Entry) -> Field:
    json, flags = entry[0], entry[1]
    nested = entry[2] if len(entry) == 3 else ""
    kind, presence = flags & VALUE_KINDS, flags & PRESENCE
    where = f"{message} field {number} ({json or 'inline'})"
    if bin(kind).count("1") != 1 or bin(presence).count("1") > 1:
        raise SchemaError(f"{where}: needs exactly one kind and at most one presence flag, got {flags!r}")
    if (kind == T.MSG) != bool(nested):
        raise SchemaError(f"{where}: a nested message name goes with MSG and only with MSG")
    if flags & T.MAP and (flags & T.REP or kind not in (T.STR | T.BYTES | T.MSG)):
        raise SchemaError(f"{where}: maps hold strings, bytes or messages and are not also REP")
    if presence == T.INLINE and (kind != T.MSG or json or flags & (T.REP | T.MAP)):
        raise SchemaError(f"{where}: INLINE is for one nested message with an empty JSON name")
    repeated, is_map = bool(flags & T.REP), bool(flags & T.MAP)
    return Field(
        number=number, json=json, kind=kind, repeated=repeated, map=is_map, presence=presence, message=nested,
        single_message=kind == T.MSG and not repeated and not is_map,
        packable=repeated and kind in (T.INT, T.I32, T.BOOL),
    )


MESSAGES: Final = MappingProxyType(_compile(ALL_TABLES))

# (apiVersion, kind) → message: what kubectl 1.32+ sends as protobuf, i.e. every
# ``create`` subcommand, ``auth can-i``, ``auth whoami``, ``certificate approve|deny``,
# ``debug`` (its pods) and ``autoscale``. Kubernetes registers DeleteOptions in every
# group version, so a client may label it v1, meta.k8s.io/v1 or apps/v1; any is accepted.
KINDS: Final = MappingProxyType({
    **{
        (api_version, kind): kind
        for api_version, kinds in {
            "v1": ["Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service", "ResourceQuota", "Pod"],
            "apps/v1": ["Deployment"],
            "batch/v1": ["Job", "CronJob"],
            "autoscaling/v2": ["HorizontalPodAutoscaler"],
            "policy/v1": ["PodDisruptionBudget", "Eviction"],
            "authorization.k8s.io/v1": ["SelfSubjectAccessReview", "SelfSubjectRulesReview"],
            "authentication.k8s.io/v1": ["TokenRequest", "SelfSubjectReview"],
            "certificates.k8s.io/v1": ["CertificateSigningRequest"],
            "rbac.authorization.k8s.io/v1": ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"],
            "networking.k8s.io/v1": ["Ingress"],
            "scheduling.k8s.io/v1": ["PriorityClass"],
        }.items()
        for kind in kinds
    },
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "autoscaling.v1.HorizontalPodAutoscaler",
})
ANY_VERSION_KINDS: Final = frozenset({"DeleteOptions"})


for _message in KINDS.values():
    if _message not in MESSAGES:
        raise SchemaError(f"KINDS names unknown message {_message!r}")


def message_for(*, api_version: str, kind: str) -> str | None:
    if kind in ANY_VERSION_KINDS:
        return kind
    return KINDS.get((api_version, kind))


def known_kinds() -> list[str]:
    """``v1 ConfigMap``-style names for error messages, in a stable order."""
    return sorted({f"{v} {k}" for v, k in KINDS} | {f"meta.k8s.io/v1 {k}" for k in ANY_VERSION_KINDS})
