"""The last N decision records, bounded in count and in total size.

A failed attempt on a 5,000-node cluster records 5,000 node verdicts, a successful one
hundreds of score rows; the store drops the oldest records when either the count or the
total number of per-node entries passes its budget, so memory stays flat however long
the scheduler runs. Lookups by pod return that pod's most recent decision.
"""

from __future__ import annotations

from collections import deque

from .record import DecisionRecord

DEFAULT_MAX_DECISIONS = 200
DEFAULT_MAX_ENTRIES = 500_000


class DecisionStore:
    def __init__(
        self, *, max_decisions: int = DEFAULT_MAX_DECISIONS, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        self.max_decisions = max_decisions
        self.max_entries = max_entries
        self._records: deque[DecisionRecord] = deque()
        self._by_pod: dict[str, DecisionRecord] = {}
        self._entries = 0
        self.total = 0

    def add(self, record: DecisionRecord) -> None:
        if self.max_decisions <= 0:
            return
        self.total += 1
        size = record.size()
        self._records.append(record)
        self._by_pod[record.pod] = record
        self._entries += size
        while self._records and (len(self._records) > self.max_decisions or self._entries > self.max_entries):
            old = self._records.popleft()
            self._entries -= old.size()
            if self._by_pod.get(old.pod) is old:
                del self._by_pod[old.pod]

    def get(self, pod_key: str) -> DecisionRecord | None:
        return self._by_pod.get(pod_key)

    def recent(self, limit: int | None = None) -> list[DecisionRecord]:
        records = list(self._records)
        records.reverse()
        return records[:limit] if limit is not None else records

    def __len__(self) -> int:
        return len(self._records)
