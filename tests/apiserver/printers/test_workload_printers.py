"""Deployments, replica sets, daemon sets and jobs."""

from __future__ import annotations

from typing import Any

import pytest

TEMPLATE = {
    "spec": {
        "containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}],
        "nodeSelector": {"zone": "a", "disk": "ssd"},
    }
}
META = {"name": "web", "namespace": "default", "creationTimestamp": "2025-06-01T09:00:00Z"}


def test_deployment(row: Any, columns: Any) -> None:
    assert columns("deployments") == [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    obj = {
        "metadata": META,
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert list(row("deployments", obj).values()) == [
        "web",
        "2/3",
        3,
        2,
        "3h",
        "web,log",
        "nginx:1.27,busybox",
        "app=web",
    ]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, ""),
        (None, ""),
        (
            {
                "matchLabels": {"tier": "front"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "app", "operator": "Exists"},
                ],
            },
            "app,env in (dev,prod),tier=front",
        ),
        ({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, "<invalid>"),
    ],
)
def test_deployment_selector(row: Any, selector: Any, expected: str) -> None:
    obj = {"metadata": META, "spec": {"selector": selector, "template": TEMPLATE}}
    cells = row("deployments", obj)
    assert cells["Selector"] == expected
    assert cells["Ready"] == "0/1"  # spec.replicas defaults to 1


def test_replicaset(row: Any, columns: Any) -> None:
    assert [name for name, _ in columns("replicasets")] == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    obj = {
        "metadata": META,
        "spec": {
            "replicas": 2,
            "selector": {
                "matchExpressions": [{"key": "pod-template-hash", "operator": "NotIn", "values": ["x"]}]
            },
            "template": TEMPLATE,
        },
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    cells = row("replicasets", obj)
    assert [cells[k] for k in ("Desired", "Current", "Ready", "Selector")] == [
        2,
        2,
        1,
        "pod-template-hash notin (x)",
    ]
    cells = row("replicasets", {"metadata": META, "spec": {"selector": {}}})
    assert (cells["Selector"], cells["Containers"], cells["Images"]) == ("<none>", "", "")


def test_daemonset(row: Any, columns: Any) -> None:
    assert columns("daemonsets") == [
        ("Name", 0),
        ("Desired", 0),
        ("Current", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Node Selector", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    obj = {
        "metadata": META,
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": TEMPLATE},
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 1,
            "numberAvailable": 2,
        },
    }
    assert list(row("daemonsets", obj).values())[1:8] == [3, 3, 2, 1, 2, "disk=ssd,zone=a", "3h"]
    bare = {"metadata": META, "spec": {"template": {"spec": {"containers": []}}}}
    assert row("daemonsets", bare)["Node Selector"] == "<none>"


def test_job_columns(columns: Any) -> None:
    assert columns("jobs") == [
        ("Name", 0),
        ("Status", 0),
        ("Completions", 0),
        ("Duration", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]


def job(
    *, spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None, **meta: Any
) -> dict[str, Any]:
    return {
        "metadata": {**META, **meta},
        "spec": {"template": TEMPLATE, "selector": {"matchLabels": {"job": "pi"}}, **(spec or {})},
        "status": status or {},
    }


def condition(kind: str, status: str = "True") -> dict[str, Any]:
    return {"type": kind, "status": status}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (job(), "Running"),
        (job(status={"conditions": [condition("Complete")]}), "Complete"),
        (job(status={"conditions": [condition("Failed")]}), "Failed"),
        (job(status={"conditions": [condition("Complete", "False")]}), "Running"),
        (job(deletionTimestamp="2025-06-01T11:00:00Z"), "Terminating"),
        (job(status={"conditions": [condition("Suspended")]}), "Suspended"),
        (job(status={"conditions": [condition("FailureTarget")]}), "FailureTarget"),
        (job(status={"conditions": [condition("SuccessCriteriaMet")]}), "SuccessCriteriaMet"),
        (
            job(status={"conditions": [condition("Failed")]}, deletionTimestamp="2025-06-01T11:00:00Z"),
            "Failed",
        ),
    ],
)
def test_job_status(row: Any, obj: dict[str, Any], expected: str) -> None:
    assert row("jobs", obj)["Status"] == expected


@pytest.mark.parametrize(
    ("spec", "succeeded", "expected"),
    [
        ({"completions": 5, "parallelism": 2}, 3, "3/5"),
        ({}, 0, "0/1"),
        ({"parallelism": 4}, 1, "1/1 of 4"),
        ({"parallelism": 1}, 0, "0/1"),
    ],
)
def test_job_completions(row: Any, spec: dict[str, Any], succeeded: int, expected: str) -> None:
    assert row("jobs", job(spec=spec, status={"succeeded": succeeded}))["Completions"] == expected


def test_job_duration(row: Any, ago: Any) -> None:
    assert row("jobs", job())["Duration"] == ""
    assert row("jobs", job(status={"startTime": ago(minutes=3)}))["Duration"] == "3m"
    done = {"startTime": ago(hours=2), "completionTime": ago(hours=1, minutes=59, seconds=15)}
    cells = row("jobs", job(status=done))
    assert (cells["Duration"], cells["Age"], cells["Selector"]) == ("45s", "3h", "job=pi")
