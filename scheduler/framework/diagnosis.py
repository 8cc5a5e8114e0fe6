"""Why a pod fits nowhere: per-node statuses and the message Kubernetes prints.

``FitError.message()`` is the text users see in ``kubectl describe pod`` under
FailedScheduling, built exactly as Kubernetes builds it so it reads the same:

    0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint
    {key: value}. preemption: 0/5 nodes are available: 5 Preemption is not helpful for
    scheduling.

Each reason of each rejected node is counted, "<count> <reason>" strings are sorted as
strings (so "10 ..." sorts before "2 ..."), and the PostFilter's own message follows.
When PreFilter rejected the pod outright, its message replaces the per-node histogram.
"""

from __future__ import annotations

from collections.abc import Iterator

from .status import Code, Status

NO_NODE_AVAILABLE = "0/{} nodes are available"


class NodeToStatus:
    """Statuses of rejected nodes; nodes never evaluated share ``absent`` (None: not rejected)."""

    __slots__ = ("absent", "explicit")

    def __init__(self) -> None:
        self.explicit: dict[str, Status] = {}
        self.absent: Status | None = None

    def set(self, node: str, status: Status) -> None:
        self.explicit[node] = status

    def get(self, node: str) -> Status | None:
        return self.explicit.get(node, self.absent)

    def __len__(self) -> int:
        return len(self.explicit)

    def items(self) -> Iterator[tuple[str, Status]]:
        return iter(self.explicit.items())

    def nodes_with_code(self, all_nodes: list[str], code: Code) -> list[str]:
        out = [name for name, s in self.explicit.items() if s.code is code]
        if self.absent is not None and self.absent.code is code:
            out.extend(n for n in all_nodes if n not in self.explicit)
        return out


class Diagnosis:
    __slots__ = ("node_to_status", "post_filter_msg", "pre_filter_msg", "unschedulable_plugins")

    def __init__(self) -> None:
        self.node_to_status = NodeToStatus()
        self.unschedulable_plugins: set[str] = set()
        self.pre_filter_msg = ""
        self.post_filter_msg = ""

    def add_plugin_status(self, status: Status) -> None:
        if status.plugin and status.is_rejected():
            self.unschedulable_plugins.add(status.plugin)


def reason_histogram(statuses: NodeToStatus, num_all_nodes: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, status in statuses.items():
        for reason in status.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    if statuses.absent is not None and len(statuses) < num_all_nodes:
        for reason in statuses.absent.reasons:
            counts[reason] = counts.get(reason, 0) + num_all_nodes - len(statuses)
    return counts


class FitError(Exception):
    """No node fits the pod; ``message()`` is the FailedScheduling event text."""

    def __init__(self, *, pod_key: str, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        super().__init__(pod_key)
        self.pod_key = pod_key
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis

    def message(self) -> str:
        text = NO_NODE_AVAILABLE.format(self.num_all_nodes) + ":"
        d = self.diagnosis
        if d.pre_filter_msg:
            text += f" {d.pre_filter_msg}."
        else:
            counts = reason_histogram(d.node_to_status, self.num_all_nodes)
            parts = sorted(f"{count} {reason}" for reason, count in counts.items())
            if parts:
                text += " " + ", ".join(parts) + "."
        if d.post_filter_msg:
            text += " " + d.post_filter_msg
        return text

    def __str__(self) -> str:
        return self.message()
