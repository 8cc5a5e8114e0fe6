"""ImageLocality: prefer nodes that already have the pod's images, so it starts sooner.

Each image present on the node counts its size scaled by how widespread it is (an image
on every node gives no reason to pick this one — Kubernetes' "image spreading"); the sum
is clamped between 23 MB and 1000 MB per container and mapped to 0..100.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scheduler.framework.cycle_state import CycleState
from scheduler.framework.interfaces import MAX_NODE_SCORE
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo

from .helpers import traits

NAME = "ImageLocality"
MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if max_threshold <= MIN_THRESHOLD:
        return 0
    clamped = min(max(sum_scores, MIN_THRESHOLD), max_threshold)
    return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


class ImageLocality:
    name = NAME

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def _total_nodes(self) -> int:
        snapshot = self.handle.snapshot() if self.handle is not None else None
        return max(len(snapshot), 1) if snapshot is not None else 1

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return self._score(pod, node, self._total_nodes())

    @staticmethod
    def _score(pod: PodInfo, node: NodeInfo, total_nodes: int) -> int:
        total = 0
        states = node.image_states
        if states:
            for image in pod.images:
                state = states.get(image)
                if state is not None:
                    total += int(state.size * state.num_nodes / total_nodes)
        return calculate_priority(total, len(pod.images))

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        empty = calculate_priority(0, len(pod.images))
        if not traits(self.handle).with_images:
            return [empty] * len(nodes)
        total_nodes = self._total_nodes()
        return [self._score(pod, n, total_nodes) if n.image_states else empty for n in nodes]


def new(args: dict[str, Any], handle: Any) -> ImageLocality:
    return ImageLocality(handle)
