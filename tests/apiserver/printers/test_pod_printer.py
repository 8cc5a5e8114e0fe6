"""The pod row, especially STATUS: each case is one a user sees in ``kubectl get pods``."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.printers import table_for

from .conftest import NOW, info_of


def pod(*, phase: str = "Running", statuses: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    containers = extra.pop("containers", [{"name": "app", "image": "nginx"}])
    obj: dict[str, Any] = {
        "metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": "2025-06-01T11:00:00Z"},
        "spec": {"containers": containers, **extra.pop("spec", {})},
        "status": {"phase": phase, **extra.pop("status", {})},
    }
    if statuses is not None:
        obj["status"]["containerStatuses"] = statuses
    obj["metadata"].update(extra.pop("metadata", {}))
    assert not extra
    return obj


def running(name: str = "app", *, ready: bool = True, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {}}}


def waiting(reason: str, name: str = "app", *, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}}}


def terminated(name: str = "app", **state: Any) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": state}}


def test_columns(columns: Any) -> None:
    assert columns("pods") == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]


def test_running_pod_row(row: Any) -> None:
    obj = pod(statuses=[running()], spec={"nodeName": "node-1"}, status={"podIP": "10.244.0.5"})
    assert row("pods", obj) == {
        "Name": "web-1",
        "Ready": "1/1",
        "Status": "Running",
        "Restarts": "0",
        "Age": "60m",
        "IP": "10.244.0.5",
        "Node": "node-1",
        "Nominated Node": "<none>",
        "Readiness Gates": "<none>",
    }


@pytest.mark.parametrize(
    ("phase", "statuses", "extra", "expected"),
    [
        ("Pending", None, {}, "Pending"),
        ("Pending", [waiting("ContainerCreating")], {}, "ContainerCreating"),
        ("Pending", [waiting("ErrImagePull")], {}, "ErrImagePull"),
        ("Running", [running(ready=False)], {}, "Running"),
        ("Running", [waiting("CrashLoopBackOff", restarts=3)], {}, "CrashLoopBackOff"),
        ("Succeeded", [terminated(exitCode=0, reason="Completed")], {}, "Completed"),
        ("Failed", [terminated(exitCode=1, reason="Error")], {}, "Error"),
        ("Failed", [terminated(exitCode=137, reason="OOMKilled")], {}, "OOMKilled"),
        ("Failed", [terminated(exitCode=2)], {}, "ExitCode:2"),
        ("Failed", [terminated(exitCode=137, signal=9)], {}, "Signal:9"),
        ("Failed", None, {"status": {"reason": "Evicted"}}, "Evicted"),
        ("Running", [running()], {"metadata": {"deletionTimestamp": "2025-06-01T11:59:00Z"}}, "Terminating"),
        (
            "Succeeded",
            [terminated(exitCode=0, reason="Completed")],
            {"metadata": {"deletionTimestamp": "2025-06-01T11:59:00Z"}},
            "Completed",
        ),
        (
            "Running",
            [running()],
            {"metadata": {"deletionTimestamp": "2025-06-01T11:59:00Z"}, "status": {"reason": "NodeLost"}},
            "Unknown",
        ),
        (
            "Pending",
            None,
            {
                "status": {
                    "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
                }
            },
            "SchedulingGated",
        ),
    ],
)
def test_status(row: Any, phase: str, statuses: Any, extra: dict[str, Any], expected: str) -> None:
    assert row("pods", pod(phase=phase, statuses=statuses, **extra))["Status"] == expected


def test_first_container_reason_wins(row: Any) -> None:
    containers = [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]
    statuses = [waiting("ImagePullBackOff", "a"), waiting("ContainerCreating", "b")]
    cells = row("pods", pod(phase="Pending", statuses=statuses, containers=containers))
    assert (cells["Ready"], cells["Status"]) == ("0/2", "ImagePullBackOff")


@pytest.mark.parametrize(("ready_condition", "expected"), [("True", "Running"), ("False", "NotReady")])
def test_completed_container_beside_running_one(row: Any, ready_condition: str, expected: str) -> None:
    containers = [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]
    statuses = [running("a"), terminated("b", exitCode=0, reason="Completed")]
    status = {"conditions": [{"type": "Ready", "status": ready_condition}]}
    cells = row("pods", pod(statuses=statuses, containers=containers, status=status))
    assert (cells["Ready"], cells["Status"]) == ("1/2", expected)


def test_restarts_show_when_the_last_one_was(row: Any) -> None:
    status = waiting("CrashLoopBackOff", restarts=5)
    status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": "2025-06-01T11:55:00Z"}}
    assert row("pods", pod(statuses=[status]))["Restarts"] == "5 (5m ago)"


def test_restarts_without_a_finish_time_are_a_plain_count(row: Any) -> None:
    assert row("pods", pod(statuses=[running(restarts=2)]))["Restarts"] == "2"


def two_inits(*statuses: dict[str, Any]) -> dict[str, Any]:
    inits = [{"name": "i1", "image": "x"}, {"name": "i2", "image": "x"}]
    return pod(
        phase="Pending", spec={"initContainers": inits}, status={"initContainerStatuses": list(statuses)}
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([running("i1"), waiting("PodInitializing", "i2")], "Init:0/2"),
        ([terminated("i1", exitCode=0, reason="Completed"), running("i2")], "Init:1/2"),
        ([waiting("CrashLoopBackOff", "i1"), waiting("PodInitializing", "i2")], "Init:CrashLoopBackOff"),
        ([terminated("i1", exitCode=1, reason="Error"), waiting("PodInitializing", "i2")], "Init:Error"),
        ([terminated("i1", exitCode=3), waiting("PodInitializing", "i2")], "Init:ExitCode:3"),
        ([terminated("i1", exitCode=0, signal=15)], "Pending"),
    ],
)
def test_init_container_status(row: Any, statuses: list[dict[str, Any]], expected: str) -> None:
    assert row("pods", two_inits(*statuses))["Status"] == expected


def test_init_restarts_count_while_initializing(row: Any) -> None:
    crashing = waiting("CrashLoopBackOff", "i1", restarts=4)
    crashing["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": "2025-06-01T11:58:00Z"}}
    cells = row("pods", two_inits(crashing))
    assert (cells["Status"], cells["Restarts"]) == ("Init:CrashLoopBackOff", "4 (2m ago)")


def test_pod_initializing_after_init_containers(row: Any) -> None:
    obj = pod(
        phase="Pending",
        statuses=[waiting("PodInitializing")],
        spec={"initContainers": [{"name": "i1", "image": "x"}]},
        status={"initContainerStatuses": [terminated("i1", exitCode=0, reason="Completed")]},
    )
    assert row("pods", obj)["Status"] == "PodInitializing"


def test_sidecars_count_towards_ready_and_restarts(row: Any) -> None:
    sidecar = running("proxy", restarts=1)
    sidecar["started"] = True
    sidecar["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": "2025-06-01T11:30:00Z"}}
    obj = pod(
        statuses=[running(restarts=2)],
        spec={"initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]},
        status={
            "initContainerStatuses": [sidecar],
            "conditions": [{"type": "Initialized", "status": "True"}],
        },
    )
    cells = row("pods", obj)
    assert (cells["Ready"], cells["Status"], cells["Restarts"]) == ("2/2", "Running", "3 (30m ago)")


def test_wide_columns(row: Any) -> None:
    obj = pod(
        statuses=[running()],
        spec={"readinessGates": [{"conditionType": "a/ready"}, {"conditionType": "b/ready"}]},
        status={
            "podIPs": [{"ip": "fd00::5"}, {"ip": "10.0.0.5"}],
            "nominatedNodeName": "node-2",
            "conditions": [{"type": "a/ready", "status": "True"}, {"type": "b/ready", "status": "False"}],
        },
    )
    cells = row("pods", obj)
    assert (cells["IP"], cells["Nominated Node"], cells["Readiness Gates"]) == ("fd00::5", "node-2", "1/2")


@pytest.mark.parametrize(
    ("phase", "conditions"),
    [
        (
            "Succeeded",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Succeeded",
                    "message": "The pod has completed successfully.",
                }
            ],
        ),
        (
            "Failed",
            [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}],
        ),
        ("Running", None),
    ],
)
def test_row_conditions_mark_finished_pods(phase: str, conditions: Any) -> None:
    table = table_for(info=info_of("pods"), objects=[pod(phase=phase)], now=NOW)
    assert table["rows"][0].get("conditions") == conditions
