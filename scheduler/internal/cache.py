"""What the scheduler believes is on each node, including pods it has only decided on.

Binding happens in the background, so the next pod is scheduled before the API server
has confirmed the last one. To keep the next decision honest the cycle *assumes* its
pod onto the chosen node here at once: the pod counts against the node's resources from
that moment. Then exactly one of three things happens:

- the informer delivers the pod bound to the node → the assumed pod is *confirmed*;
- the bind fails → the scheduler *forgets* it, giving the resources back;
- the bind call returned but the pod never shows up (a lost watch event): once
  ``finish_binding`` has been called, the assumed pod *expires* after ``ttl`` seconds,
  so a lost event cannot leak capacity forever.

Pods bound by someone else (or before this scheduler started) arrive through the
informer with ``spec.nodeName`` set and are simply added. Everything is keyed by pod uid.

``update_snapshot`` copies the NodeInfos changed since the previous call into the
cycle's :class:`~scheduler.internal.snapshot.Snapshot`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kube.client.clock import Clock, RealClock
from scheduler.framework.nodeinfo import ImageState, NodeInfo
from scheduler.framework.podinfo import PodInfo, normalized_image_name

from .snapshot import Snapshot

log = logging.getLogger(__name__)
Obj = dict[str, Any]
DEFAULT_ASSUMED_POD_TTL = 30.0
REGION = "topology.kubernetes.io/region"
ZONE = "topology.kubernetes.io/zone"


@dataclass(slots=True)
class _PodState:
    pod: PodInfo
    deadline: float | None = None
    binding_finished: bool = False


class CacheError(Exception):
    pass


class Cache:
    def __init__(self, *, ttl: float = DEFAULT_ASSUMED_POD_TTL, clock: Clock | None = None) -> None:
        self.ttl = ttl
        self.clock: Clock = clock or RealClock()
        self._nodes: dict[str, NodeInfo] = {}
        self._pods: dict[str, _PodState] = {}
        self._assumed: set[str] = set()
        self._images: dict[str, ImageState] = {}
        self._dirty: dict[str, None] = {}
        self._membership_changed = True
        self._synced: Snapshot | None = None

    # --- pods ---------------------------------------------------------------------------

    def assume_pod(self, pod: PodInfo) -> None:
        """Count ``pod`` (with ``node_name`` set) on its node before the bind is confirmed."""
        if pod.uid in self._pods:
            raise CacheError(f"pod {pod.key} ({pod.uid}) is in the cache, so can't be assumed")
        self._add_to_node(pod)
        self._pods[pod.uid] = _PodState(pod)
        self._assumed.add(pod.uid)

    def finish_binding(self, pod: PodInfo) -> None:
        """The bind call returned: start the expiry clock of the assumed pod."""
        state = self._pods.get(pod.uid)
        if state is not None and pod.uid in self._assumed:
            state.deadline = self.clock.now() + self.ttl
            state.binding_finished = True

    def forget_pod(self, pod: PodInfo) -> None:
        """Undo ``assume_pod`` (the bind failed)."""
        state = self._pods.get(pod.uid)
        if state is None or pod.uid not in self._assumed:
            raise CacheError(f"pod {pod.key} ({pod.uid}) wasn't assumed so cannot be forgotten")
        if state.pod.node_name != pod.node_name:
            raise CacheError(
                f"pod {pod.key} was assumed on {state.pod.node_name} but forgotten on {pod.node_name}"
            )
        self._remove_from_node(state.pod)
        del self._pods[pod.uid]
        self._assumed.discard(pod.uid)

    def add_pod(self, pod: PodInfo) -> None:
        """A bound pod seen by the informer: confirms an assumed pod, or adds a new one."""
        state = self._pods.get(pod.uid)
        if state is not None and pod.uid in self._assumed:
            if state.pod.node_name != pod.node_name:
                # Bound elsewhere than we assumed (another scheduler won): follow the truth.
                log.info(
                    "pod %s was assumed on %s but bound to %s", pod.key, state.pod.node_name, pod.node_name
                )
            self._remove_from_node(state.pod)
            self._add_to_node(pod)
            self._assumed.discard(pod.uid)
            state.pod, state.deadline, state.binding_finished = pod, None, False
            return
        if state is not None:
            self.update_pod(state.pod, pod)  # e.g. an expired assumed pod that arrives late
            return
        self._add_to_node(pod)
        self._pods[pod.uid] = _PodState(pod)

    def update_pod(self, old: PodInfo, new: PodInfo) -> None:
        state = self._pods.get(new.uid)
        if state is None:
            self.add_pod(new)
            return
        if new.uid in self._assumed:
            return  # the informer's copy will confirm it; an assumed pod is not updated
        self._remove_from_node(state.pod)
        self._add_to_node(new)
        state.pod = new

    def remove_pod(self, pod: PodInfo) -> None:
        state = self._pods.pop(pod.uid, None)
        if state is None:
            return
        self._assumed.discard(pod.uid)
        self._remove_from_node(state.pod)

    def is_assumed(self, uid: str) -> bool:
        return uid in self._assumed

    def get_pod(self, uid: str) -> PodInfo | None:
        state = self._pods.get(uid)
        return state.pod if state is not None else None

    def cleanup_assumed_pods(self) -> list[PodInfo]:
        """Expire assumed pods whose bind finished more than ``ttl`` ago; returns them."""
        now = self.clock.now()
        expired = []
        for uid in list(self._assumed):
            state = self._pods[uid]
            if state.binding_finished and state.deadline is not None and now >= state.deadline:
                log.warning(
                    "assumed pod %s on %s expired: its binding never showed up",
                    state.pod.key,
                    state.pod.node_name,
                )
                self._remove_from_node(state.pod)
                del self._pods[uid]
                self._assumed.discard(uid)
                expired.append(state.pod)
        return expired

    def _add_to_node(self, pod: PodInfo) -> None:
        info = self._nodes.get(pod.node_name)
        if info is None:
            # The pod's node is not (yet) known: keep a placeholder so its usage is counted.
            info = self._nodes[pod.node_name] = NodeInfo()
            info.name = pod.node_name
        info.add_pod(pod)
        self._dirty[pod.node_name] = None

    def _remove_from_node(self, pod: PodInfo) -> None:
        info = self._nodes.get(pod.node_name)
        if info is None:
            return
        info.remove_pod(pod)
        self._dirty[pod.node_name] = None
        if info.node is None and not info.pods:
            del self._nodes[pod.node_name]

    # --- nodes --------------------------------------------------------------------------

    def add_node(self, node: Obj) -> NodeInfo:
        name = str((node.get("metadata") or {}).get("name") or "")
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo()
        else:
            self._remove_images(info)
        if info.node is None:
            self._membership_changed = True
        info.set_node(node)
        self._add_images(info, node)
        self._dirty[name] = None
        return info

    def update_node(self, old: Obj, new: Obj) -> NodeInfo:
        name = str((new.get("metadata") or {}).get("name") or "")
        info = self._nodes.get(name)
        new_labels = (new.get("metadata") or {}).get("labels") or {}
        if info is not None and info.node is not None and _zone(info.labels) != _zone(new_labels):
            self._membership_changed = True  # the zone interleaving changes
        return self.add_node(new)

    def remove_node(self, node: Obj) -> None:
        name = str((node.get("metadata") or {}).get("name") or "")
        info = self._nodes.get(name)
        if info is None:
            return
        self._remove_images(info)
        self._membership_changed = True
        self._dirty[name] = None
        if info.pods:
            # Pods may still be deleted later; keep counting them against a node-less entry.
            info.node = None
            info.image_states = {}
        else:
            del self._nodes[name]

    def _add_images(self, info: NodeInfo, node: Obj) -> None:
        states: dict[str, ImageState] = {}
        for image in (node.get("status") or {}).get("images") or []:
            size = int(image.get("sizeBytes") or 0)
            for raw in image.get("names") or []:
                name = normalized_image_name(str(raw))
                state = self._images.get(name)
                if state is None:
                    state = self._images[name] = ImageState(size)
                state.nodes.add(info.name)
                states[name] = state
        info.image_states = states

    def _remove_images(self, info: NodeInfo) -> None:
        for name, state in info.image_states.items():
            state.nodes.discard(info.name)
            if not state.nodes:
                self._images.pop(name, None)

    def node_count(self) -> int:
        return sum(1 for n in self._nodes.values() if n.node is not None)

    def pod_count(self) -> int:
        return len(self._pods)

    def assumed_count(self) -> int:
        return len(self._assumed)

    # --- snapshot -----------------------------------------------------------------------

    def update_snapshot(self, snapshot: Snapshot) -> None:
        """Bring ``snapshot`` up to date, copying only the nodes that changed."""
        dirty, self._dirty = self._dirty, {}
        affinity_changed = False
        if self._membership_changed or snapshot is not self._synced:
            # Nodes came or went (or this snapshot is new to us): rebuild the list,
            # still reusing every copy whose node did not change.
            self._membership_changed = False
            self._synced = snapshot
            live = [self._clone_for(snapshot, n) for n in self._nodes.values() if n.node is not None]
            snapshot.set_nodes(self._ordered(live))
            snapshot.generation += 1
            return
        for name in dirty:
            info = self._nodes.get(name)
            old = snapshot.node_info_map.get(name)
            if info is None or info.node is None or old is None:
                continue
            clone = info.clone()
            affinity_changed = affinity_changed or bool(old.pods_with_affinity or clone.pods_with_affinity)
            snapshot.replace(clone)
        if affinity_changed:
            snapshot.refresh_affinity_lists()
        if dirty:
            snapshot.generation += 1

    def _clone_for(self, snapshot: Snapshot, info: NodeInfo) -> NodeInfo:
        # Reuse the snapshot's copy when the node did not change since it was made.
        existing = snapshot.node_info_map.get(info.name)
        if existing is not None and existing.generation == info.generation:
            return existing
        return info.clone()

    @staticmethod
    def _ordered(nodes: list[NodeInfo]) -> list[NodeInfo]:
        """Round-robin across zones, in each zone in the order nodes were added."""
        zones: dict[str, list[NodeInfo]] = {}
        for node in nodes:
            zones.setdefault(_zone(node.labels), []).append(node)
        if len(zones) <= 1:
            return nodes
        out: list[NodeInfo] = []
        lists = list(zones.values())
        for i in range(max(len(z) for z in lists)):
            out.extend(z[i] for z in lists if i < len(z))
        return out


def _zone(labels: dict[str, str]) -> str:
    region, zone = labels.get(REGION, ""), labels.get(ZONE, "")
    return f"{region}:\x00:{zone}" if region or zone else ""
