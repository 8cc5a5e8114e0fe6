"""Why each pod went where it went (or nowhere): decision records, their store, the summary.

Every scheduling attempt leaves a :class:`~scheduler.explain.record.DecisionRecord`:
which filter rejected each evaluated node and why, and for each scored node every
plugin's raw, normalized and weighted score. Records are kept in a bounded in-memory
:class:`~scheduler.explain.store.DecisionStore` and served by the debug endpoint; a compact
summary (≤ 4 KiB whatever the cluster size) travels on the pod as the annotation
``scheduler.kubesim.io/decision``.
"""

from .record import DECISION_ANNOTATION, DecisionRecord
from .store import DecisionStore
from .summary import MAX_SUMMARY_BYTES, summarize

__all__ = ["DECISION_ANNOTATION", "MAX_SUMMARY_BYTES", "DecisionRecord", "DecisionStore", "summarize"]
