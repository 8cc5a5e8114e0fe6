"""The audit log: one JSON line per request, shaped like ``audit.k8s.io/v1`` Events.

With ``--audit-log-path`` every request is recorded at Kubernetes' ``Metadata`` level:
who (user, groups, source IP, user agent), what (verb, request URI, the object
reference), when (received and completed, microsecond timestamps) and the outcome
(HTTP code). Request and response bodies are never recorded at this level, so secret
payloads never reach the log. Long-running requests (watches, logs) get a
``ResponseStarted`` event when their response begins and a ``ResponseComplete`` when it
ends; others only ``ResponseComplete``. Health probes are not audited.

Events go to a file opened with ``O_APPEND`` (mode 0600), written in whole lines at the
end of each event-loop turn (see ``AuditLog``): lines never interleave, and a crash loses
at most the events of the turn in progress.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import orjson

from apiserver.authn import UserInfo
from apiserver.requestinfo import RequestInfo

Obj = dict[str, Any]


_second: list[Any] = [-1, ""]


def timestamp(when: float) -> str:
    """RFC 3339 with microseconds, UTC. Requests arrive many per second, so the
    formatted second is kept and only the microseconds are formatted each time."""
    second = int(when)
    if _second[0] != second:
        _second[0], _second[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{int((when - second) * 1_000_000):06d}Z"


def object_ref(info: RequestInfo) -> Obj | None:
    if not info.is_resource_request or not info.resource:
        return None
    ref: Obj = {"resource": info.resource}
    if info.namespace:
        ref["namespace"] = info.namespace
    if info.name:
        ref["name"] = info.name
    ref["apiGroup"] = info.api_group
    ref["apiVersion"] = info.api_version
    if info.subresource:
        ref["subresource"] = info.subresource
    return ref


def user_of(user: Any) -> Obj:
    if not isinstance(user, UserInfo):
        return {}
    out: Obj = {"username": user.name}
    if user.uid:
        out["uid"] = user.uid
    if user.groups:
        out["groups"] = list(user.groups)
    if user.extra:
        out["extra"] = user.extra
    return out


def event(
    *,
    audit_id: str,
    stage: str,
    info: RequestInfo,
    request_uri: str,
    user: Any,
    source_ip: str,
    user_agent: str,
    code: int,
    received: float,
    now: float,
    impersonated: Any = None,
) -> Obj:
    out: Obj = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": audit_id,
        "stage": stage,
        "requestURI": request_uri,
        "verb": info.verb,
        "user": user_of(user),
        "sourceIPs": [source_ip] if source_ip else [],
    }
    if impersonated is not None:
        out["impersonatedUser"] = user_of(impersonated)
    if user_agent:
        out["userAgent"] = user_agent
    ref = object_ref(info)
    if ref is not None:
        out["objectRef"] = ref
    if code:
        out["responseStatus"] = {"metadata": {}, "code": code}
    out["requestReceivedTimestamp"] = timestamp(received)
    out["stageTimestamp"] = timestamp(now)
    return out


class AuditLog:
    """An append-only JSON-lines file.

    Events finished in one turn of the event loop are written together, by one
    ``write`` scheduled for the end of that turn: under load many requests complete per
    turn, and a system call per event would cost more than the rest of auditing. An
    event is on disk (in the page cache) before the loop runs anything else."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._pending: list[bytes] = []

    def write(self, record: Obj) -> None:
        line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self._pending.append(line)  # no loop (tests, shutdown): write at once
                self.flush()
                return
        self._pending.append(line)

    def flush(self) -> None:
        if self._pending and self._fd >= 0:
            data, self._pending = b"".join(self._pending), []
            os.write(self._fd, data)

    def close(self) -> None:
        self.flush()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
