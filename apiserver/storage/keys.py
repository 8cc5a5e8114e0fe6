"""Where objects live in the key space.

Kubernetes stores every object under ``/registry/<resource>/<namespace>/<name>`` (or
``/registry/<resource>/<name>`` when cluster-scoped), so that one prefix range lists a
namespace and a shorter one lists the whole resource. We keep that layout on both
backends: an etcd written by kubesim looks familiar to anyone who has run
``etcdctl get --prefix /registry``, and prefix ranges are how list and watch select.
"""

from __future__ import annotations

ROOT = "/registry"


def key_for(resource: str, namespace: str, name: str) -> str:
    """The key of one object; ``namespace`` is ``""`` for cluster-scoped resources."""
    if namespace:
        return f"{ROOT}/{resource}/{namespace}/{name}"
    return f"{ROOT}/{resource}/{name}"


def prefix_for(resource: str, namespace: str = "") -> str:
    """The prefix (ending in ``/``) under which list and watch find ``resource`` objects,
    of one namespace or, with ``namespace=""``, of all of them."""
    if namespace:
        return f"{ROOT}/{resource}/{namespace}/"
    return f"{ROOT}/{resource}/"


def resource_and_name(key: str) -> tuple[str, str]:
    """Best-effort ``(resource, name)`` of a key, for error messages only: the storage
    layer does not know the API group, and the registry rewrites details when it does."""
    parts = [p for p in key.split("/") if p]
    if parts and f"/{parts[0]}" == ROOT:
        parts = parts[1:]
    if not parts:
        return "", key
    return parts[0], parts[-1]


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``
    (etcd's ``range_end``). Keys compare as UTF-8 bytes in both SQLite and etcd, and
    Python's code-point order agrees with that."""
    if not prefix:
        raise ValueError("empty prefix")
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
