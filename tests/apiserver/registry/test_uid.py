"""Object UIDs: version-4 UUIDs in the canonical text form, as uuid.UUID writes them."""

from __future__ import annotations

import uuid

from apiserver.registry.objectmeta import new_uid


def test_uids_are_canonical_version_4_uuids() -> None:
    seen = set()
    for _ in range(2000):
        text = new_uid()
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text  # lower-case hex, 8-4-4-4-12
        seen.add(text)
    assert len(seen) == 2000
