"""The storage layer's failures, as the Kubernetes ``Status`` errors of ``kube.errors``.

The messages follow Kubernetes' etcd3 store word for word where it has one, so a client
sees the same text whichever backend answered. The resource and name in the messages
are derived from the key (``/registry/pods/ns/web`` → pods "web"); the registry above
rewrites them when it knows the API group.
"""

from __future__ import annotations

from typing import Any

from kube.errors import (
    AlreadyExists,
    Cause,
    Conflict,
    Details,
    Expired,
    InternalError,
    NotFound,
    ServiceUnavailable,
    Timeout,
)

from .keys import resource_and_name


class StorageError(ServiceUnavailable):
    """The store cannot be opened or reached. The message names the file or the etcd
    endpoints and says what to do, so the API server's main can print it and exit."""


class ContinueExpired(Expired):
    """A continue token older than the compacted history. Like Kubernetes, the Status
    carries a fresh token (``metadata.continue``) that resumes from the same key at the
    latest revision, for clients that accept an inconsistent list."""

    def __init__(self, message: str, *, continue_token: str = "", details: Details | None = None) -> None:
        super().__init__(message, details=details)
        self.continue_token = continue_token

    def status(self) -> dict[str, Any]:
        out = super().status()
        if self.continue_token:
            out["metadata"] = {"continue": self.continue_token}
        return out


class RevisionCompacted(Exception):
    """Backend signal: the requested revision is older than ``compacted``. Turned into
    Expired or ContinueExpired by the shared list code, which knows which it was."""

    def __init__(self, compacted: int) -> None:
        super().__init__(f"revision compacted at {compacted}")
        self.compacted = compacted


class FutureRevision(Exception):
    """Backend signal: the requested revision is newer than ``current``."""

    def __init__(self, current: int) -> None:
        super().__init__(f"revision is in the future (current {current})")
        self.current = current


CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter, or use the continue token "
    "in this response to retrieve the remainder of the results. Continuing with the "
    "provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may "
    "show up in the list."
)


def not_found(key: str) -> NotFound:
    resource, name = resource_and_name(key)
    return NotFound.of(resource=resource, name=name)


def already_exists(key: str) -> AlreadyExists:
    resource, name = resource_and_name(key)
    return AlreadyExists.of(resource=resource, name=name)


def conflict(key: str, err: str) -> Conflict:
    resource, name = resource_and_name(key)
    return Conflict.of(resource=resource, name=name, err=err)


def corrupt(key: str, err: object) -> InternalError:
    return InternalError.of(f"the object stored at key {key!r} is not valid JSON: {err}")


def too_old(*, requested: int, compacted: int) -> Expired:
    return Expired.too_old(requested=requested, oldest=compacted)


def too_large(*, requested: int, current: int) -> Timeout:
    """Kubernetes' answer to a resourceVersion the store has not reached yet: a 504 the
    client retries after a second (``storage.NewTooLargeResourceVersionError``)."""
    return Timeout(
        f"Timeout: Too large resource version: {requested}, current: {current}",
        details=Details(
            causes=(Cause(reason="ResourceVersionTooLarge", message="Too large resource version"),),
            retry_after_seconds=1,
        ),
    )
