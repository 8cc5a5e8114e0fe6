"""The scheduling algorithm proper: feasible nodes, their scores, the chosen one.

``schedule_pod`` is kube-scheduler's ``schedulePod``:

1. PreFilter (may narrow the candidates, or reject the pod outright);
2. a nominated node (set by an earlier preemption) is tried first, alone;
3. Filter over the nodes, starting where the previous cycle stopped (round robin, so
   every node gets its turn) and stopping once *enough* feasible nodes are found —
   ``percentageOfNodesToScore``: by default 50% − nodes/125, at least 5%, and never
   fewer than 100 nodes. On 5,000 nodes that is 500 nodes scored, not 5,000;
4. PreScore, Score, NormalizeScore, × weight, summed per node;
5. the highest total wins, ties broken uniformly at random.

Filter runs plugin by plugin over a chunk of nodes rather than node by node
(``Framework.filter_nodes``), with the same result: each node meets the plugins in
order and leaves at its first rejection, and nodes past the point where enough feasible
ones were found are not counted as evaluated.
"""

from __future__ import annotations

import itertools
import operator
import random
from dataclasses import dataclass

from scheduler.explain.record import DecisionRecord
from scheduler.framework.cycle_state import CycleState
from scheduler.framework.diagnosis import Diagnosis, FitError
from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Code, Status
from scheduler.internal.nominator import Nominator, nominated_node_of
from scheduler.internal.snapshot import Snapshot

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
MIN_CHUNK = 16


class NoNodesAvailable(Exception):
    def __str__(self) -> str:
        return "no nodes available to schedule pods"


class SchedulingError(Exception):
    """A plugin failed (Error status): the pod is retried after backoff."""

    def __init__(self, status: Status) -> None:
        super().__init__(status.message())
        self.status = status


@dataclass(slots=True)
class ScheduleResult:
    suggested_host: str
    evaluated_nodes: int
    feasible_nodes: int


def num_feasible_nodes_to_find(percentage: int, num_all_nodes: int) -> int:
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


class Algorithm:
    def __init__(self, *, percentage_of_nodes_to_score: int = 0, nominator: Nominator | None = None,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.nominator = nominator if nominator is not None else Nominator()
        self.next_start_node_index = 0
        self.rng = rng or random.Random()

    def schedule_pod(
        self, fwk: Framework, state: CycleState, pod: PodInfo, snapshot: Snapshot, record: DecisionRecord
    ) -> ScheduleResult:
        """The node for ``pod``; raises FitError (no node fits), NoNodesAvailable or SchedulingError."""
        record.num_all_nodes = snapshot.num_nodes()
        if snapshot.num_nodes() == 0:
            raise NoNodesAvailable()
        feasible, diagnosis = self.find_nodes_that_fit(fwk, state, pod, snapshot)
        record.rejections = diagnosis.node_to_status
        record.pre_filter_message = diagnosis.pre_filter_msg
        record.feasible_nodes = len(feasible)
        if not feasible:
            raise FitError(pod_key=pod.key, num_all_nodes=snapshot.num_nodes(), diagnosis=diagnosis)
        evaluated = len(feasible) + len(diagnosis.node_to_status)
        if len(feasible) == 1:
            record.scoring_skipped = "only one feasible node"
            return ScheduleResult(feasible[0].name, evaluated, 1)
        host = self.prioritize_and_select(fwk, state, pod, feasible, record)
        return ScheduleResult(host, evaluated, len(feasible))

    # --- filtering ----------------------------------------------------------------------

    def find_nodes_that_fit(
        self, fwk: Framework, state: CycleState, pod: PodInfo, snapshot: Snapshot
    ) -> tuple[list[NodeInfo], Diagnosis]:
        diagnosis = Diagnosis()
        all_nodes = snapshot.node_info_list
        pre_result, status = fwk.run_pre_filter(state, pod, all_nodes)
        if status is not None:
            if not status.is_rejected():
                raise SchedulingError(status)
            diagnosis.node_to_status.absent = status
            diagnosis.pre_filter_msg = status.message()
            diagnosis.add_plugin_status(status)
            return [], diagnosis

        nominated = nominated_node_of(pod)
        if nominated:
            node = snapshot.get(nominated)
            if node is not None:
                # Preemption made room there: the likeliest fit, and the one we promised.
                feasible = self.find_nodes_that_pass_filters(
                    fwk, state, pod, diagnosis, [node], advance=False
                )
                if feasible:
                    return feasible, diagnosis
                diagnosis = Diagnosis()

        nodes = all_nodes
        if pre_result is not None and pre_result.node_names is not None:
            nodes = [n for name in sorted(pre_result.node_names) if (n := snapshot.get(name)) is not None]
            narrowed = " ".join(sorted(pre_result.narrowed_by))
            diagnosis.node_to_status.absent = Status.unresolvable(
                f"node(s) didn't satisfy plugin(s) [{narrowed}]"
            )
        feasible = self.find_nodes_that_pass_filters(fwk, state, pod, diagnosis, nodes)
        if all_nodes:
            processed = len(feasible) + len(diagnosis.node_to_status)
            self.next_start_node_index = (self.next_start_node_index + processed) % len(all_nodes)
        return feasible, diagnosis

    def find_nodes_that_pass_filters(
        self,
        fwk: Framework,
        state: CycleState,
        pod: PodInfo,
        diagnosis: Diagnosis,
        nodes: list[NodeInfo],
        *,
        advance: bool = True,
    ) -> list[NodeInfo]:
        num_all = len(nodes)
        if num_all == 0:
            return []
        percentage = fwk.percentage_of_nodes_to_score
        if percentage is None:
            percentage = self.percentage_of_nodes_to_score
        wanted = num_feasible_nodes_to_find(percentage, num_all) if fwk.has_score_plugins() else 1
        start = self.next_start_node_index % num_all if advance else 0
        if not fwk.has_filter_plugins():
            return [nodes[(start + i) % num_all] for i in range(wanted)]

        filters = fwk.active_filters(state)
        nominated_nodes = self._nodes_with_nominations(pod)
        feasible: list[NodeInfo] = []
        statuses = diagnosis.node_to_status
        done = 0
        while done < num_all and len(feasible) < wanted:
            size = min(num_all - done, max(wanted - len(feasible), MIN_CHUNK))
            first = (start + done) % num_all
            chunk = nodes[first : first + size]
            if len(chunk) < size:  # wrapped around the end of the list
                chunk = chunk + nodes[: size - len(chunk)]
            if nominated_nodes:
                results = [
                    fwk.run_filter_plugins_with_nominated_pods(state, pod, n)
                    if n.name in nominated_nodes
                    else fwk.run_filter(state, pod, n, filters)
                    for n in chunk
                ]
            else:
                results = fwk.filter_nodes(state, pod, chunk, filters)
            if not any(results):  # the common case: every node of the chunk passes
                take = min(len(chunk), wanted - len(feasible))
                feasible.extend(chunk[:take])
                done += take
                continue
            for node, status in zip(chunk, results, strict=True):
                done += 1
                if status is None:
                    feasible.append(node)
                    if len(feasible) >= wanted:
                        break
                    continue
                if status.code is Code.ERROR:
                    raise SchedulingError(status)
                statuses.set(node.name, status)
                diagnosis.add_plugin_status(status)
        return feasible

    def _nodes_with_nominations(self, pod: PodInfo) -> set[str]:
        """Nodes where a nominated pod of at least ``pod``'s priority waits (usually none)."""
        if not self.nominator:
            return set()
        nodes = set()
        for node_name in self.nominator.nodes():
            if any(
                p.uid != pod.uid and p.priority >= pod.priority
                for p in self.nominator.pods_for_node(node_name)
            ):
                nodes.add(node_name)
        return nodes

    # --- scoring ------------------------------------------------------------------------

    def prioritize_and_select(
        self, fwk: Framework, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], record: DecisionRecord
    ) -> str:
        record.scored = nodes
        if not fwk.has_score_plugins():
            record.scoring_skipped = "no score plugins"
            record.totals = [1] * len(nodes)
            return self.select_host(record.scored_nodes, record.totals)
        status = fwk.run_pre_score(state, pod, nodes)
        if status is not None:
            raise SchedulingError(status)
        try:
            plugin_scores = fwk.run_score(state, pod, nodes)
        except ValueError as err:
            raise SchedulingError(Status.as_error(err)) from err
        totals = [0] * len(nodes)
        for ps in plugin_scores:
            weighted = ps.normalized if ps.weight == 1 else [ps.weight * s for s in ps.normalized]
            totals = list(map(operator.add, totals, weighted))
        record.plugin_scores = plugin_scores
        record.totals = totals
        index = self.select_index(totals)
        record.chosen = index
        return nodes[index].name

    def select_host(self, names: list[str], totals: list[int]) -> str:
        return names[self.select_index(totals)]

    def select_index(self, totals: list[int]) -> int:
        """The best total's index; among equals, each is equally likely."""
        best = max(totals)
        if totals.count(best) == 1:
            return totals.index(best)
        ties = list(itertools.compress(range(len(totals)), map(best.__eq__, totals)))
        return self.rng.choice(ties)
