"""End to end: ``python -m scheduler`` against a real API server.

Every placement is checked against the constraints it had to satisfy, using what the
API server reports afterwards — not what the scheduler believes.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections import Counter
from typing import Any

import orjson
import pytest

from kube.client import Client

from .conftest import PODS, Cluster, SchedulerProcess

pytestmark = pytest.mark.e2e
ZONE = "topology.kubernetes.io/zone"
Obj = dict[str, Any]


def fetch(proc: SchedulerProcess, path: str) -> tuple[int, bytes]:
    ctx = ssl.create_default_context(cafile=str(proc.ca_file))
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{proc.port}{path}", context=ctx, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def node_of(pod: Obj) -> str:
    return str(pod["spec"].get("nodeName") or "")


async def test_failed_scheduling_event_condition_annotation_and_debug_endpoint(
    cluster: Cluster, start_scheduler: Any
) -> None:
    ns = cluster.namespace
    for i in range(3):
        await cluster.node(f"{ns}-small-{i}", cpu="1")
    for i in range(2):
        await cluster.node(
            f"{ns}-tainted-{i}", cpu="8", taints=[{"key": "key", "value": "value", "effect": "NoSchedule"}]
        )
    proc = start_scheduler()
    await cluster.pod("web-1", cpu="2")
    message = (
        "0/5 nodes are available: 2 node(s) had untolerated taint {key: value}, 3 Insufficient cpu. "
        "preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, "
        "3 No preemption victims found for incoming pod."
    )

    async def failed() -> list[Obj]:
        return await cluster.events("FailedScheduling")

    events = await cluster.wait(failed, "a FailedScheduling event")
    assert events[0]["message"] == message
    assert events[0]["type"] == "Warning" and events[0]["involvedObject"]["name"] == "web-1"
    assert events[0]["source"]["component"] == "default-scheduler"

    async def annotated() -> Obj | None:
        pod = (await cluster.pods())["web-1"]
        ok = (pod["metadata"].get("annotations") or {}).get("scheduler.kubesim.io/decision")
        return pod if ok and pod.get("status", {}).get("conditions") else None

    pod = await cluster.wait(annotated, "the PodScheduled condition and the decision annotation")
    condition = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "False",
        "Unschedulable",
        message,
    )
    summary = orjson.loads(pod["metadata"]["annotations"]["scheduler.kubesim.io/decision"])
    assert summary["rejected"] == {
        "NodeResourcesFit: Insufficient cpu": 3,
        "TaintToleration: node(s) had untolerated taint {key: value}": 2,
    }

    status, body = fetch(proc, f"/debug/decisions/{ns}/web-1")
    assert status == 200
    full = orjson.loads(body)
    assert full["result"] == "Unschedulable" and len(full["filtered"]) == 5
    assert full["filtered"][f"{ns}-tainted-0"] == {
        "plugin": "TaintToleration", "code": "UnschedulableAndUnresolvable",
        "reasons": ["node(s) had untolerated taint {key: value}"],
    }  # fmt: skip
    assert fetch(proc, "/healthz") == (200, b"ok")
    status, metrics = fetch(proc, "/metrics")
    assert status == 200
    assert b'scheduler_schedule_attempts_total{profile="default-scheduler",result="unschedulable"}' in metrics
    assert b'scheduler_pending_pods{queue="unschedulable"} 1.0' in metrics
    assert fetch(proc, "/debug/decisions/none/such")[0] == 404


async def test_mixed_workload_placements_satisfy_every_constraint(
    cluster: Cluster, start_scheduler: Any, require_binding: None
) -> None:
    ns = cluster.namespace
    zones = {}
    for i in range(6):
        name = f"{ns}-n{i}"
        zone = f"zone-{i % 3}"
        zones[name] = zone
        labels = {ZONE: zone, **({"disk": "ssd"} if i < 2 else {})}
        taints = [{"key": "gpu", "value": "true", "effect": "NoSchedule"}] if i == 5 else None
        await cluster.node(name, cpu="4", memory="8Gi", labels=labels, taints=taints)
    start_scheduler()

    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}
            ]
        }
    }
    ssd = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
                ]
            }
        }
    }
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": ZONE,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}},
        }
    ]
    gpu = [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]  # fmt: skip
    for i in range(5):
        await cluster.pod(f"cache-{i}", cpu="100m", labels={"app": "cache"}, affinity=anti)
    for i in range(6):
        await cluster.pod(
            f"web-{i}", cpu="200m", memory="256Mi", labels={"app": "web"}, topologySpreadConstraints=spread
        )
    for i in range(2):
        await cluster.pod(f"db-{i}", cpu="1", memory="2Gi", labels={"app": "db"}, affinity=ssd)
    await cluster.pod(
        "trainer",
        cpu="1",
        labels={"app": "gpu"},
        tolerations=gpu,
        nodeSelector={"kubernetes.io/hostname": f"{ns}-n5"},
    )
    for i in range(4):
        await cluster.pod(f"batch-{i}", cpu="1500m", memory="1Gi", labels={"app": "batch"})
    total = 5 + 6 + 2 + 1 + 4

    async def all_bound() -> dict[str, Obj] | None:
        pods = await cluster.pods()
        return pods if len(pods) == total and all(node_of(p) for p in pods.values()) else None

    pods = await cluster.wait(all_bound, "every pod bound")
    by_node: dict[str, list[Obj]] = {}
    for pod in pods.values():
        by_node.setdefault(node_of(pod), []).append(pod)
    # Resources: requests never exceed a node's allocatable.
    for node, on_node in by_node.items():
        cpu = sum(_milli(p) for p in on_node)
        assert cpu <= 4000, f"{node} over-committed: {cpu}m"
    # Anti-affinity: at most one cache pod per node.
    assert (
        max(Counter(node_of(p) for p in pods.values() if p["metadata"]["labels"]["app"] == "cache").values())
        == 1
    )
    # Topology spread: web pods differ by at most 1 across the zones that can hold them.
    per_zone = Counter(zones[node_of(p)] for p in pods.values() if p["metadata"]["labels"]["app"] == "web")
    assert max(per_zone.values()) - min(per_zone.get(z, 0) for z in ("zone-0", "zone-1", "zone-2")) <= 1
    # Node affinity: db on ssd nodes only; toleration + selector: the trainer on the gpu node.
    assert {node_of(pods[f"db-{i}"]) for i in range(2)} <= {f"{ns}-n0", f"{ns}-n1"}
    assert node_of(pods["trainer"]) == f"{ns}-n5"
    # The taint kept everything else off n5.
    assert [p["metadata"]["name"] for p in by_node.get(f"{ns}-n5", [])] == ["trainer"]
    # Every pod carries its decision, and got exactly one Scheduled event.
    for pod in pods.values():
        summary = orjson.loads(pod["metadata"]["annotations"]["scheduler.kubesim.io/decision"])
        assert summary["result"] == "Scheduled" and summary["node"] == node_of(pod)
    scheduled = Counter(
        e["involvedObject"]["name"]
        for e in await cluster.wait(
            lambda: _events_for(cluster, "Scheduled", total), "a Scheduled event per pod"
        )
    )
    assert set(scheduled.values()) == {1}


async def _events_for(cluster: Cluster, reason: str, count: int) -> list[Obj] | None:
    events = await cluster.events(reason)
    return events if len({e["involvedObject"]["name"] for e in events}) >= count else None


def _milli(pod: Obj) -> int:
    text = pod["spec"]["containers"][0]["resources"].get("requests", {}).get("cpu", "0")
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


async def test_preemption_evicts_a_lower_priority_pod_and_binds_the_preemptor(
    client: Client, cluster: Cluster, start_scheduler: Any, require_binding: None
) -> None:
    ns = cluster.namespace
    await cluster.node(f"{ns}-only", cpu="2")
    low_class = await cluster.priority_class("low", 1)
    high_class = await cluster.priority_class("high", 1000)
    start_scheduler()
    await cluster.pod("low", cpu="1500m", priorityClassName=low_class)
    await cluster.wait(lambda: _bound(cluster, "low"), "the low-priority pod bound")
    await cluster.pod("high", cpu="1500m", priorityClassName=high_class)

    async def preempted() -> bool:
        pods = await cluster.pods()
        low = pods.get("low")
        if low is not None and low["metadata"].get("deletionTimestamp"):
            # No kubelet here: finish the graceful deletion as the kubelet would.
            await client.delete(PODS, name="low", namespace=ns, grace_period=0)
            return False
        high = pods.get("high", {})
        return low is None and bool(node_of(high) or high.get("status", {}).get("nominatedNodeName"))

    await cluster.wait(preempted, "the victim gone and the preemptor nominated or bound")
    high = await cluster.wait(lambda: _bound(cluster, "high"), "the preemptor bound")
    assert node_of(high) == f"{ns}-only"
    reasons = {e["reason"] for e in await cluster.events("Preempted")}
    assert reasons == {"Preempted"}


async def _bound(cluster: Cluster, name: str) -> Obj | None:
    pod = (await cluster.pods()).get(name)
    return pod if pod is not None and node_of(pod) else None


async def test_leader_election_one_active_then_failover_without_double_binding(
    cluster: Cluster, start_scheduler: Any, require_binding: None
) -> None:
    ns = cluster.namespace
    await cluster.node(f"{ns}-a", cpu="8")
    await cluster.node(f"{ns}-b", cpu="8")
    flags = ["--leader-elect", "--leader-elect-resource-name", f"sched-{ns}",
             "--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s",
             "--leader-elect-retry-period", "500ms"]  # fmt: skip
    first, second = start_scheduler(*flags), start_scheduler(*flags)
    for i in range(5):
        await cluster.pod(f"before-{i}", cpu="100m")
    await cluster.wait(lambda: _all_bound(cluster, 5), "the first pods bound")
    leaders = [p for p in (first, second) if "leading: scheduling" in p.log()]
    assert len(leaders) == 1, "exactly one scheduler leads"
    leader = leaders[0]
    standby = second if leader is first else first
    leader.kill()
    for i in range(5):
        await cluster.pod(f"after-{i}", cpu="100m")
    await cluster.wait(lambda: _all_bound(cluster, 10), "the standby took over and bound the rest")
    assert "leading: scheduling" in standby.log()
    events = await cluster.wait(lambda: _events_for(cluster, "Scheduled", 10), "Scheduled events")
    per_pod = Counter(e["involvedObject"]["name"] for e in events)
    assert set(per_pod.values()) == {1}, f"a pod was bound twice: {per_pod}"
    # No binding was refused as "already assigned": nobody bound a pod someone else had.
    assert "pods/binding" not in standby.log() and "pods/binding" not in leader.log()


async def _all_bound(cluster: Cluster, count: int) -> bool:
    pods = await cluster.pods()
    return len(pods) == count and all(node_of(p) for p in pods.values())
