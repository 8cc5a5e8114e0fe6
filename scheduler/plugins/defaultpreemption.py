"""DefaultPreemption: when no node fits, make room by evicting lower-priority pods.

Runs at PostFilter, only after every node was rejected:

1. Is the pod allowed to preempt? Not with ``preemptionPolicy: Never``, and not while
   victims of its previous preemption are still terminating on its nominated node.
2. Candidates: only nodes rejected as *Unschedulable* (an unresolvable rejection — a
   taint, a selector — would survive any eviction). On a copy of each node (sampled:
   10% of them, at least 100) remove every lower-priority pod; if the pod still does not
   fit, the node is no candidate. Otherwise add the victims back one by one, most
   important first and PodDisruptionBudget-protected ones before the rest, keeping each
   that still leaves room: what remains are the victims.
3. Pick a node: fewest PDB violations, then lowest highest victim priority, then lowest
   sum of priorities, then fewest victims, then the latest-started victims.
4. Mark the victims (``DisruptionTarget`` condition), delete them gracefully, clear
   lower-priority nominations to that node, and nominate the node for the pod
   (``status.nominatedNodeName``). The pod is scheduled in a later cycle once the
   victims are gone.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from kube.errors import StatusError
from kube.labels import from_label_selector
from scheduler.framework.cycle_state import CycleState
from scheduler.framework.diagnosis import Diagnosis, FitError, NodeToStatus
from scheduler.framework.interfaces import PostFilterResult
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.status import Code, Status

from .helpers import int_arg

log = logging.getLogger(__name__)
NAME = "DefaultPreemption"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
_LATE = "9999-12-31T23:59:59Z"  # a pod not started yet sorts as the newest


def _start(pod: PodInfo) -> str:
    return str((pod.pod.get("status") or {}).get("startTime") or _LATE)


def more_important(a: PodInfo, b: PodInfo) -> bool:
    """Higher priority, then the one running longer (Kubernetes' ``MoreImportantPod``)."""
    if a.priority != b.priority:
        return a.priority > b.priority
    return _start(a) < _start(b)


def terminating_by_preemption(pod: PodInfo) -> bool:
    if not pod.deleting:
        return False
    for c in (pod.pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "DisruptionTarget":
            return c.get("status") == "True" and c.get("reason") == "PreemptionByScheduler"
    return False


class Candidate:
    __slots__ = ("node", "num_pdb_violations", "victims")

    def __init__(self, node: str, victims: list[PodInfo], num_pdb_violations: int) -> None:
        self.node = node
        self.victims = victims  # most important first
        self.num_pdb_violations = num_pdb_violations


def split_by_pdb(
    pods: Sequence[PodInfo], pdbs: Sequence[dict[str, Any]]
) -> tuple[list[PodInfo], list[PodInfo]]:
    """(violating, non-violating), order kept: evicting a violating pod would take a
    PodDisruptionBudget below its allowed disruptions."""
    allowed = [int((p.get("status") or {}).get("disruptionsAllowed") or 0) for p in pdbs]
    violating: list[PodInfo] = []
    fine: list[PodInfo] = []
    for pod in pods:
        hit = False
        if pod.labels:
            for i, pdb in enumerate(pdbs):
                meta = pdb.get("metadata") or {}
                if meta.get("namespace") != pod.namespace:
                    continue
                try:
                    selector = from_label_selector((pdb.get("spec") or {}).get("selector"))
                except StatusError:
                    continue
                if selector.empty or not selector.matches(pod.labels):
                    continue
                if pod.name in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                    continue  # already being disrupted through the API: counted there
                allowed[i] -= 1
                if allowed[i] < 0:
                    hit = True
        (violating if hit else fine).append(pod)
    return violating, fine


def pick_one_node(candidates: Sequence[Candidate]) -> Candidate:
    best = list(candidates)
    criteria = (
        lambda c: -c.num_pdb_violations,
        lambda c: -c.victims[0].priority,
        lambda c: -sum(v.priority + 2**31 for v in c.victims),
        lambda c: -len(c.victims),
        lambda c: min((_start(v) for v in c.victims if v.priority == c.victims[0].priority), default=""),
    )
    for key in criteria:
        top = max(key(c) for c in best)
        best = [c for c in best if key(c) == top]
        if len(best) == 1:
            break
    return best[0]


class DefaultPreemption:
    name = NAME

    def __init__(self, args: dict[str, Any], handle: Any) -> None:
        self.handle = handle
        self.min_percentage = int_arg(args, "minCandidateNodesPercentage", 10, low=0, high=100)
        self.min_absolute = int_arg(args, "minCandidateNodesAbsolute", 100, low=0)
        if self.min_percentage == 0 and self.min_absolute == 0:
            raise ValueError("minCandidateNodesPercentage and minCandidateNodesAbsolute cannot both be zero")

    async def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: NodeToStatus
    ) -> tuple[PostFilterResult | None, Status | None]:
        result, status = await self.preempt(state, pod, statuses)
        if status is not None and status.reasons:
            return result, Status(status.code, ("preemption: " + status.message(),), plugin=NAME)
        return result, status

    def num_candidates(self, num_nodes: int) -> int:
        return min(max(num_nodes * self.min_percentage // 100, self.min_absolute), num_nodes)

    def eligible(self, pod: PodInfo, statuses: NodeToStatus) -> str:
        """ "" when the pod may preempt, else why not."""
        if (pod.pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return "not eligible due to preemptionPolicy=Never."
        nominated = str((pod.pod.get("status") or {}).get("nominatedNodeName") or "")
        if nominated:
            status = statuses.get(nominated)
            if status is not None and status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return ""
            node = self.handle.snapshot().get(nominated)
            if node is not None and any(
                p.priority < pod.priority and terminating_by_preemption(p) for p in node.pods
            ):
                return "not eligible due to a terminating pod on the nominated node."
        return ""

    async def preempt(
        self, state: CycleState, pod: PodInfo, statuses: NodeToStatus
    ) -> tuple[PostFilterResult | None, Status | None]:
        reason = self.eligible(pod, statuses)
        if reason:
            return None, Status.unschedulable(reason)
        snapshot = self.handle.snapshot()
        all_nodes: list[NodeInfo] = snapshot.node_info_list
        names = [n.name for n in all_nodes]
        potential = [snapshot.get(n) for n in statuses.nodes_with_code(names, Code.UNSCHEDULABLE)]
        candidates, dry_run = self.dry_run(state, pod, [n for n in potential if n is not None])
        if not candidates:
            diagnosis = Diagnosis()
            diagnosis.node_to_status = dry_run
            dry_run.absent = Status.unresolvable(PREEMPTION_NOT_HELPFUL)
            fit = FitError(pod_key=pod.key, num_all_nodes=len(all_nodes), diagnosis=diagnosis)
            return PostFilterResult(""), Status.unschedulable(fit.message())
        best = pick_one_node(candidates)
        await self.prepare(best, pod)
        return PostFilterResult(best.node, [v.key for v in best.victims]), None

    def dry_run(
        self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
    ) -> tuple[list[Candidate], NodeToStatus]:
        statuses = NodeToStatus()
        if not nodes:
            return [], statuses
        lister = self.handle.lister("poddisruptionbudgets")
        pdbs = lister.list() if lister is not None else []
        offset, wanted = random.randrange(len(nodes)), self.num_candidates(len(nodes))
        fine: list[Candidate] = []
        violating: list[Candidate] = []
        for i in range(len(nodes)):
            node = nodes[(offset + i) % len(nodes)].clone()
            victims, violations, status = self.select_victims(state.clone(), pod, node, pdbs)
            if status is None and victims:
                (fine if violations == 0 else violating).append(Candidate(node.name, victims, violations))
                if fine and len(fine) + len(violating) >= wanted:
                    break
                continue
            if status is None:
                status = Status.as_error(f"expected at least one victim pod on node {node.name!r}")
            statuses.set(node.name, status)
        return fine[:wanted] + violating[:wanted], statuses

    def select_victims(
        self, state: CycleState, pod: PodInfo, node: NodeInfo, pdbs: Sequence[dict[str, Any]]
    ) -> tuple[list[PodInfo], int, Status | None]:
        handle = self.handle
        potential = [p for p in node.pods if p.priority < pod.priority]
        if not potential:
            return [], 0, Status.unresolvable(NO_VICTIMS)
        for p in potential:
            node.remove_pod(p)
            status = handle.run_pre_filter_extension_remove_pod(state, pod, p, node)
            if status is not None:
                return [], 0, status
        status = handle.run_filter_plugins_with_nominated_pods(state, pod, node)
        if status is not None:
            return [], 0, status
        potential.sort(key=lambda p: (-p.priority, _start(p)))
        violating, fine = split_by_pdb(potential, pdbs)
        victims: list[PodInfo] = []
        num_violating = 0

        def reprieve(p: PodInfo) -> bool:
            node.add_pod(p)
            handle.run_pre_filter_extension_add_pod(state, pod, p, node)
            if handle.run_filter_plugins_with_nominated_pods(state, pod, node) is None:
                return True
            node.remove_pod(p)
            handle.run_pre_filter_extension_remove_pod(state, pod, p, node)
            victims.append(p)
            return False

        for p in violating:
            if not reprieve(p):
                num_violating += 1
        for p in fine:
            reprieve(p)
        if violating and fine:
            victims.sort(key=lambda p: (-p.priority, _start(p)))
        return victims, num_violating, None

    async def prepare(self, candidate: Candidate, pod: PodInfo) -> None:
        api = self.handle.api
        for victim in candidate.victims:
            if victim.deleting:
                continue  # graceful deletion already started
            await api.preempt(victim=victim, preemptor=pod, node_name=candidate.node)
            recorder = self.handle.recorder
            if recorder is not None:
                recorder.event(
                    victim.pod, reason="Preempted", message=f"Preempted by pod {pod.uid} on node {candidate.node}",
                    action="Preempting", related=pod.pod,
                )  # fmt: skip
        lower = [p for p in self.handle.nominated_pods_for_node(candidate.node) if p.priority < pod.priority]
        for other in lower:
            await api.clear_nominated_node(other)


def new(args: dict[str, Any], handle: Any) -> DefaultPreemption:
    return DefaultPreemption(args, handle)
