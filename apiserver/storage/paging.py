"""Continue tokens for paged lists, in Kubernetes' format.

A token is unpadded URL-safe base64 of ``{"v":"meta.k8s.io/v1","rv":N,"start":S}``: the
revision the first page was read at (later pages read at the same revision, so a paged
list is one consistent snapshot even while writes go on) and the next key relative to
the list prefix. Clients treat it as opaque, but kubectl and client-go pass tokens
between API servers, so we keep the exact shape. ``rv`` -1 means "at the latest
revision"; it is what we hand out when the original revision has been compacted.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from kube.errors import BadRequest

API_VERSION = "meta.k8s.io/v1"
LATEST = -1


def encode_continue(*, next_key: str, prefix: str, revision: int) -> str:
    if not next_key.startswith(prefix):
        raise ValueError(f"continue key {next_key!r} is not under {prefix!r}")
    data = orjson.dumps({"v": API_VERSION, "rv": revision, "start": next_key[len(prefix):]})
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_continue(token: str, prefix: str) -> tuple[str, int]:
    """``(start key, revision)`` from a client's token; BadRequest when it is not one we
    could have issued. The start key is checked like a path so that a hand-made token
    cannot range outside ``prefix``."""
    try:
        padded = token + "=" * (-len(token) % 4)
        raw: Any = orjson.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (binascii.Error, ValueError) as e:  # orjson.JSONDecodeError is a ValueError
        raise _invalid(str(e)) from e
    if not isinstance(raw, dict) or raw.get("v") != API_VERSION:
        version = raw.get("v") if isinstance(raw, dict) else None
        raise _invalid(f"server does not recognize this encoded version {version!r}")
    rv, start = raw.get("rv"), raw.get("start")
    if not isinstance(rv, int) or isinstance(rv, bool) or rv == 0 or rv < LATEST:
        raise _invalid(f"incorrect encoded start resourceVersion (version {API_VERSION})")
    if not isinstance(start, str) or not start:
        raise _invalid(f"encoded start key empty (version {API_VERSION})")
    path = start if start.startswith("/") else "/" + start
    if any(seg in ("", ".", "..") for seg in path[1:].split("/")):
        raise _invalid(start)
    return prefix + path[1:], rv


def _invalid(why: str) -> BadRequest:
    return BadRequest(f"invalid continue token: continue key is not valid: {why}")
