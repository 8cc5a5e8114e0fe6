"""The options of list, watch and delete, already parsed and checked.

The endpoints turn query parameters (and DELETE bodies) into these records; the store
only ever sees well-formed values. Field names follow ``metav1.ListOptions`` and
``metav1.DeleteOptions`` so the mapping to the API documentation is obvious.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ResourceVersionMatch(enum.StrEnum):
    UNSET = ""
    NOT_OLDER_THAN = "NotOlderThan"
    EXACT = "Exact"


class PropagationPolicy(enum.StrEnum):
    ORPHAN = "Orphan"
    BACKGROUND = "Background"
    FOREGROUND = "Foreground"


@dataclass(frozen=True, slots=True, kw_only=True)
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    resource_version: str | None = None
    """None when the client did not send one (a consistent read), else the text sent."""
    resource_version_match: ResourceVersionMatch = ResourceVersionMatch.UNSET
    limit: int = 0
    continue_token: str = ""
    # Watch only.
    allow_bookmarks: bool = False
    timeout_seconds: float | None = None
    send_initial_events: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: PropagationPolicy | None = None
    orphan_dependents: bool | None = None
    """Deprecated spelling of ``propagation_policy=Orphan`` that clients still send."""
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    dry_run: bool = False

    def with_grace(self, seconds: int | None) -> DeleteOptions:
        return DeleteOptions(
            grace_period_seconds=seconds,
            propagation_policy=self.propagation_policy,
            orphan_dependents=self.orphan_dependents,
            precondition_uid=self.precondition_uid,
            precondition_resource_version=self.precondition_resource_version,
            dry_run=self.dry_run,
        )
