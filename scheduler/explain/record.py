"""One scheduling attempt, recorded as it happens, cheaply.

The cycle already has everything worth explaining in hand — the statuses of rejected
nodes (the Diagnosis), the score lists of each plugin, the totals — so the record keeps
references to those lists rather than copying or formatting anything on the hot path.
Formatting happens only when someone asks (:meth:`DecisionRecord.to_dict`, the summary).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler.framework.diagnosis import NodeToStatus
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.services import PluginScores
from scheduler.framework.status import Status

DECISION_ANNOTATION = "scheduler.kubesim.io/decision"

SCHEDULED = "Scheduled"
UNSCHEDULABLE = "Unschedulable"
ERROR = "Error"


def status_dict(status: Status) -> dict[str, Any]:
    return {"plugin": status.plugin, "code": str(status.code), "reasons": list(status.reasons)}


@dataclass(slots=True)
class DecisionRecord:
    pod: str
    uid: str
    profile: str
    attempt: int
    started: float = field(default_factory=time.time)
    duration: float = 0.0
    result: str = ""
    node: str = ""
    message: str = ""
    num_all_nodes: int = 0
    feasible_nodes: int = 0
    rejections: NodeToStatus | None = None
    pre_filter_message: str = ""
    post_filter_message: str = ""
    nominated_node: str = ""
    victims: list[str] = field(default_factory=list)
    scored: Sequence[NodeInfo] = ()
    """The scored nodes (the snapshot's objects: names are read only when asked for)."""
    plugin_scores: list[PluginScores] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    chosen: int = -1
    """Index of the chosen node in ``scored`` (-1: none or not scored)."""
    scoring_skipped: str = ""
    """Why nothing was scored (one feasible node, no score plugins)."""

    @property
    def scored_nodes(self) -> list[str]:
        return [n.name for n in self.scored]

    @property
    def evaluated_nodes(self) -> int:
        return self.feasible_nodes + (len(self.rejections) if self.rejections is not None else 0)

    def size(self) -> int:
        """Roughly how many per-node entries this record holds (for the store's budget)."""
        rejected = len(self.rejections) if self.rejections is not None else 0
        return 1 + rejected + len(self.scored) * (1 + len(self.plugin_scores))

    def rejection_counts(self) -> dict[str, int]:
        """ "<plugin>: <reason>" → number of nodes, over the nodes that were evaluated
        (or all nodes, when PreFilter rejected the pod before any node was looked at)."""
        counts: dict[str, int] = {}
        if self.rejections is None:
            return counts
        for _, status in self.rejections.items():
            for reason in status.reasons or ("",):
                key = f"{status.plugin}: {reason}" if status.plugin else reason
                counts[key] = counts.get(key, 0) + 1
        absent = self.rejections.absent
        if absent is not None and len(self.rejections) < self.num_all_nodes:
            for reason in absent.reasons:
                key = f"{absent.plugin}: {reason}" if absent.plugin else reason
                counts[key] = counts.get(key, 0) + self.num_all_nodes - len(self.rejections)
        return counts

    def best(self, n: int) -> list[tuple[str, int]]:
        """The ``n`` highest totals as (node, total), best first."""
        totals = self.totals
        if n <= 0 or not totals:
            return []
        best = max(totals)
        if totals.count(best) >= n:
            # Common on uniform clusters: enough nodes share the best total; take them in C.
            order = list(
                itertools.islice(itertools.compress(range(len(totals)), map(best.__eq__, totals)), n)
            )
        else:
            order = heapq.nlargest(n, range(len(totals)), key=totals.__getitem__)
        return [(self.scored[i].name, totals[i]) for i in order]

    def weighted_scores(self, node: str) -> dict[str, int]:
        if 0 <= self.chosen < len(self.scored) and self.scored[self.chosen].name == node:
            i = self.chosen
        else:
            i = next((i for i, n in enumerate(self.scored) if n.name == node), -1)
        if i < 0:
            return {}
        return {ps.name: ps.normalized[i] * ps.weight for ps in self.plugin_scores}

    def header(self) -> dict[str, Any]:
        return {
            "pod": self.pod,
            "uid": self.uid,
            "profile": self.profile,
            "attempt": self.attempt,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "durationMs": round(self.duration * 1000, 3),
            "result": self.result,
            "node": self.node,
            "nominatedNode": self.nominated_node,
            "message": self.message,
            "nodes": {
                "all": self.num_all_nodes,
                "evaluated": self.evaluated_nodes,
                "feasible": self.feasible_nodes,
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """The full tables: every evaluated node's filter verdict and every plugin's scores."""
        out = self.header()
        out["preFilterMessage"] = self.pre_filter_message
        out["postFilterMessage"] = self.post_filter_message
        out["victims"] = list(self.victims)
        out["scoringSkipped"] = self.scoring_skipped
        out["plugins"] = [{"name": ps.name, "weight": ps.weight} for ps in self.plugin_scores]
        rejected: dict[str, Any] = {}
        if self.rejections is not None:
            rejected = {name: status_dict(s) for name, s in self.rejections.items()}
            if self.rejections.absent is not None:
                out["otherNodes"] = status_dict(self.rejections.absent)
        out["filtered"] = rejected
        scored: list[dict[str, Any]] = []
        for i, name in enumerate(self.scored_nodes):
            plugins = {
                ps.name: {
                    "raw": ps.raw[i],
                    "normalized": ps.normalized[i],
                    "weighted": ps.normalized[i] * ps.weight,
                }
                for ps in self.plugin_scores
            }
            scored.append(
                {"node": name, "total": self.totals[i] if i < len(self.totals) else 0, "plugins": plugins}
            )
        scored.sort(key=lambda row: -int(row["total"]))
        out["scored"] = scored
        out["rejectedByReason"] = self.rejection_counts()
        return out
