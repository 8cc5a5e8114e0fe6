"""The zero status Go always writes: status counters are never "missing".

A kind's status is a Go value struct, so it is always encoded, and its plain (non-
pointer, non-``omitempty``) fields are encoded even at their zero value. Those are
exactly the fields the OpenAPI schema lists as ``required`` in a status, such as a
ReplicaSet's ``replicas`` or a DaemonSet's four ``*NumberScheduled``/``numberReady``
counters. Kubernetes therefore never reports them as missing:

- on create, the strategy resets the status to the Go zero value
  (``rs.Status = apps.ReplicaSetStatus{}``), which reads back as ``{"replicas": 0}``;
- a status the client writes is decoded into that struct, so an absent counter is 0;
- validation of the main resource does not look at the status at all.

``fill_zero_status`` is that decode step for a status: the required scalar fields a
status lacks (or sets to null) get their zero value, so the required-field check has
nothing to report and ``kubectl get -o json`` shows what it shows against Kubernetes.
Fields whose Go zero is encoded as ``null`` (a timestamp, a slice) are left alone.
"""

from __future__ import annotations

from typing import Any

from kube.model.schema import JSONType, SchemaNode

_ZERO: dict[JSONType, Any] = {JSONType.INTEGER: 0, JSONType.NUMBER: 0, JSONType.BOOLEAN: False}
_ZERO_STATUS: dict[int, dict[str, Any]] = {}
"""id(kind node) → its status's zero-valued fields (nodes live forever)."""


def zero_status(node: SchemaNode) -> dict[str, Any]:
    """The status fields a kind's Go zero status encodes, with their values (a new
    dict; empty for kinds without such fields, e.g. a Deployment's ``{}``)."""
    zero = _ZERO_STATUS.get(id(node))
    if zero is None:
        zero = _ZERO_STATUS[id(node)] = _compute(node)
    return dict(zero)


def fill_zero_status(obj: dict[str, Any], node: SchemaNode) -> None:
    """Give ``obj``'s status (created if absent: a Go value struct always exists) the
    zero value of every required scalar field it lacks. A status that is not an
    object is left for the type check to report."""
    zero = _ZERO_STATUS.get(id(node))
    if zero is None:
        zero = _ZERO_STATUS[id(node)] = _compute(node)
    if not zero:
        return
    status = obj.get("status")
    if status is None:
        obj["status"] = dict(zero)
    elif type(status) is dict:
        for name, value in zero.items():
            if status.get(name) is None:
                status[name] = value


def _compute(node: SchemaNode) -> dict[str, Any]:
    status = node.properties.get("status")
    if status is None or status.type is not JSONType.OBJECT:
        return {}
    zero: dict[str, Any] = {}
    for name in status.required:
        field = status.properties.get(name)
        if field is None:
            continue
        if field.type in _ZERO:
            zero[name] = _ZERO[field.type]
        elif field.type is JSONType.STRING and not field.format:
            zero[name] = ""
    return zero
