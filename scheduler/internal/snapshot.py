"""The cycle's frozen view of the cluster (Kubernetes' ``internal/cache.Snapshot``).

At the start of every cycle the cache copies into the snapshot only the NodeInfos that
changed since the last cycle (usually one: the node the previous pod was assumed on).
Plugins then read a world that does not move under them while the informers keep
updating the cache, and nothing is locked. Node order interleaves zones, as
Kubernetes' node tree does, so that sampling a prefix of the nodes (percentageOfNodesToScore)
still spreads over zones.
"""

from __future__ import annotations

from scheduler.framework.nodeinfo import NodeInfo


class NodeTraits:
    """How many nodes of the snapshot have each rare property. Plugins whose per-node
    work only concerns such nodes (a cordon, a taint, a cached image) skip the pass
    over the sampled nodes entirely while the count is zero."""

    __slots__ = ("tainted", "unschedulable", "with_images", "with_prefer_no_schedule")

    def __init__(self) -> None:
        self.unschedulable = 0
        self.tainted = 0
        self.with_prefer_no_schedule = 0
        self.with_images = 0

    def count(self, node: NodeInfo, sign: int) -> None:
        self.unschedulable += sign * node.unschedulable
        self.tainted += sign * bool(node.taints)
        self.with_prefer_no_schedule += sign * bool(node.prefer_no_schedule_taints)
        self.with_images += sign * bool(node.image_states)


class Snapshot:
    __slots__ = (
        "generation",
        "have_pods_with_affinity",
        "have_pods_with_required_anti_affinity",
        "index",
        "node_info_list",
        "node_info_map",
        "traits",
    )

    def __init__(self, nodes: list[NodeInfo] | None = None) -> None:
        self.node_info_map: dict[str, NodeInfo] = {}
        self.node_info_list: list[NodeInfo] = []
        self.index: dict[str, int] = {}
        self.have_pods_with_affinity: list[NodeInfo] = []
        self.have_pods_with_required_anti_affinity: list[NodeInfo] = []
        self.generation = 0
        self.traits = NodeTraits()
        if nodes:
            self.set_nodes(nodes)

    def set_nodes(self, nodes: list[NodeInfo]) -> None:
        """Replace the node list (in this order) and every derived list."""
        self.node_info_list = list(nodes)
        self.node_info_map = {n.name: n for n in nodes}
        self.index = {n.name: i for i, n in enumerate(nodes)}
        self.traits = NodeTraits()
        for node in nodes:
            self.traits.count(node, 1)
        self.refresh_affinity_lists()

    def replace(self, node: NodeInfo) -> None:
        """Swap in a newer copy of a node already in the list."""
        i = self.index[node.name]
        self.traits.count(self.node_info_list[i], -1)
        self.traits.count(node, 1)
        self.node_info_map[node.name] = node
        self.node_info_list[i] = node

    def refresh_affinity_lists(self) -> None:
        self.have_pods_with_affinity = [n for n in self.node_info_list if n.pods_with_affinity]
        self.have_pods_with_required_anti_affinity = [
            n for n in self.node_info_list if n.pods_with_required_anti_affinity
        ]

    def get(self, name: str) -> NodeInfo | None:
        return self.node_info_map.get(name)

    def num_nodes(self) -> int:
        return len(self.node_info_list)

    def __len__(self) -> int:
        return len(self.node_info_list)
