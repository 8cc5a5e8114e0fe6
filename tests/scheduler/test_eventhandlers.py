"""The bound version of a pod we assumed: confirmed in the cache, reusing the parse."""

from __future__ import annotations

import copy

from scheduler.framework.podinfo import PodInfo
from tests.scheduler.fakes import make_pod


def bound_copy(pod: dict, node: str) -> dict:
    """The pod as the watch delivers it after the binding (a fresh decode: equal, not the same)."""
    out = copy.deepcopy(pod)
    out["spec"]["nodeName"] = node
    out["metadata"]["resourceVersion"] = "2"
    out["status"]["conditions"] = [{"type": "PodScheduled", "status": "True"}]
    return out


def test_an_unchanged_binding_reuses_the_assumed_parse() -> None:
    pod = make_pod("p", cpu="100m", memory="100Mi", labels={"app": "a"}, ports=[{"hostPort": 80}])
    assumed = PodInfo(pod).with_node("n1")
    new = bound_copy(pod, "n1")
    confirmed = assumed.confirmed(new, priority=7)
    assert confirmed is not None
    assert confirmed.pod is new and confirmed.node_name == "n1" and confirmed.priority == 7
    assert confirmed.requests is assumed.requests and confirmed.host_ports is assumed.host_ports
    fresh = PodInfo(new, priority=7)
    for slot in ("uid", "key", "labels", "node_name", "non_zero_cpu", "non_zero_memory", "host_ports",
                 "deleting", "start_time", "has_affinity"):  # fmt: skip
        assert getattr(confirmed, slot) == getattr(fresh, slot), slot


def test_a_binding_that_changed_the_pod_is_parsed_anew() -> None:
    pod = make_pod("p", cpu="100m", labels={"app": "a"})
    assumed = PodInfo(pod).with_node("n1")
    elsewhere = bound_copy(pod, "n2")  # another scheduler won
    assert assumed.confirmed(elsewhere, priority=0) is None
    relabelled = bound_copy(pod, "n1")
    relabelled["metadata"]["labels"] = {"app": "b"}
    assert assumed.confirmed(relabelled, priority=0) is None
