"""Pods promised a node by preemption, waiting for their victims to leave.

After preemption the scheduler sets the preemptor's ``status.nominatedNodeName`` and
records it here. While victims terminate, other pods are scheduled; Filter then treats
nominated pods of equal or higher priority as already on their node
(``run_filter_plugins_with_nominated_pods``), so the space being freed is not handed to
someone else.
"""

from __future__ import annotations

from scheduler.framework.podinfo import PodInfo


def nominated_node_of(pod: PodInfo) -> str:
    return str((pod.pod.get("status") or {}).get("nominatedNodeName") or "")


class Nominator:
    def __init__(self) -> None:
        self._by_node: dict[str, list[PodInfo]] = {}
        self._node_of: dict[str, str] = {}

    def add(self, pod: PodInfo, node_name: str | None = None) -> None:
        """Nominate ``pod`` to ``node_name`` (None: the pod's own ``status.nominatedNodeName``)."""
        self.delete(pod)
        node = nominated_node_of(pod) if node_name is None else node_name
        if not node:
            return
        self._node_of[pod.uid] = node
        self._by_node.setdefault(node, []).append(pod)

    def delete(self, pod: PodInfo) -> None:
        self.delete_uid(pod.uid)

    def delete_uid(self, uid: str) -> None:
        node = self._node_of.pop(uid, None)
        if node is None:
            return
        pods = [p for p in self._by_node.get(node, []) if p.uid != uid]
        if pods:
            self._by_node[node] = pods
        else:
            self._by_node.pop(node, None)

    def update(self, old: PodInfo, new: PodInfo) -> None:
        # Keep a nomination the scheduler made until the API shows a different one: the
        # status patch carrying it may not have reached the informer yet.
        node = nominated_node_of(new) or self._node_of.get(old.uid, "")
        self.add(new, node)

    def node_of(self, uid: str) -> str:
        return self._node_of.get(uid, "")

    def pods_for_node(self, node_name: str) -> list[PodInfo]:
        return list(self._by_node.get(node_name, ()))

    def nodes(self) -> list[str]:
        """Nodes with at least one nominated pod."""
        return list(self._by_node)

    def __bool__(self) -> bool:
        return bool(self._node_of)

    def __len__(self) -> int:
        return len(self._node_of)
