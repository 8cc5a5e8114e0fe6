"""The pod row: READY, STATUS and RESTARTS as ``kubectl get pods`` shows them.

STATUS is not a field of the pod; the API server derives it (``printPod`` in Kubernetes'
``pkg/printers/internalversion``) from the phase, the pod's reason, the first init
container that has not finished (``Init:0/2``, ``Init:CrashLoopBackOff``), the last
regular container with a waiting or terminated reason (``ContainerCreating``,
``CrashLoopBackOff``, ``Completed``, ``Error``), and the deletion timestamp
(``Terminating``). Users read their pods' health from this one word, so the rules are
followed step by step, including their quirks: containers are walked last to first, so
the first container's reason wins; sidecars (init containers with ``restartPolicy:
Always``) count towards READY and RESTARTS; RESTARTS carries ``(5m ago)`` from the most
recent ``lastState.terminated.finishedAt``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import docs
from .formatting import NONE, Cell, Obj, dig, dig_int, dig_list, dig_map, dig_str, parse_time, since
from .registry import AGE, NAME, Column, ResourceKey, register

COLUMNS = (
    NAME,
    Column(
        name="Ready",
        type="string",
        description="The aggregate readiness state of this pod for accepting traffic.",
    ),
    Column(name="Status", type="string", description="The aggregate status of the containers in this pod."),
    Column(
        name="Restarts",
        type="string",
        description=(
            "The number of times the containers in this pod have been restarted and when the last "
            "container in this pod has restarted."
        ),
    ),
    AGE,
    Column(name="IP", type="string", priority=1, description=docs.FIELD_DOCS["core.v1.PodStatus.podIP"]),
    Column(name="Node", type="string", priority=1, description=docs.FIELD_DOCS["core.v1.PodSpec.nodeName"]),
    Column(
        name="Nominated Node",
        type="string",
        priority=1,
        description=docs.FIELD_DOCS["core.v1.PodStatus.nominatedNodeName"],
    ),
    Column(
        name="Readiness Gates",
        type="string",
        priority=1,
        description=docs.FIELD_DOCS["core.v1.PodSpec.readinessGates"],
    ),
)

# The reason the node lifecycle controller gives pods on a node that stopped reporting.
_NODE_LOST = "NodeLost"
_TERMINAL_PHASES = ("Succeeded", "Failed")


def _is_sidecar(container: Any) -> bool:
    """A restartable init container (``restartPolicy: Always``) runs beside the app."""
    return dig_str(container, "restartPolicy") == "Always"


def _has_condition(pod: Obj, *, type_: str, reason: str = "") -> bool:
    for condition in dig_list(pod, "status", "conditions"):
        if dig_str(condition, "type") != type_:
            continue
        if reason:
            if dig_str(condition, "reason") == reason:
                return True
        elif dig_str(condition, "status") == "True":
            return True
    return False


def _finished_at(status: Any) -> datetime | None:
    return parse_time(dig(status, "lastState", "terminated", "finishedAt"))


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _terminated_reason(terminated: Any, *, prefix: str = "") -> str:
    """A terminated state's reason, or ``Signal:9`` / ``ExitCode:1`` when it has none."""
    if reason := dig_str(terminated, "reason"):
        return prefix + reason
    if signal := dig_int(terminated, "signal"):
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{dig_int(terminated, 'exitCode')}"


class _Tally:
    """What the container walk accumulates: STATUS word, READY and RESTARTS counts."""

    def __init__(self, *, reason: str, total: int) -> None:
        self.reason = reason
        self.total = total
        self.ready = 0
        self.restarts = 0
        self.last_restart: datetime | None = None
        self.sidecar_restarts = 0
        self.last_sidecar_restart: datetime | None = None


def _walk_init_containers(pod: Obj, tally: _Tally) -> bool:
    """Account for init containers; True while the pod is still initializing."""
    specs = dig_list(pod, "spec", "initContainers")
    by_name = {dig_str(c, "name"): c for c in specs}
    for index, status in enumerate(dig_list(pod, "status", "initContainerStatuses")):
        restarts = dig_int(status, "restartCount")
        tally.restarts += restarts
        tally.last_restart = _later(tally.last_restart, _finished_at(status))
        sidecar = _is_sidecar(by_name.get(dig_str(status, "name")))
        if sidecar:
            tally.sidecar_restarts += restarts
            tally.last_sidecar_restart = _later(tally.last_sidecar_restart, _finished_at(status))
        state = dig_map(status, "state")
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and dig_int(terminated, "exitCode") == 0:
            continue
        if sidecar and dig(status, "started") is True:
            if dig(status, "ready") is True:
                tally.ready += 1
            continue
        if terminated is not None:
            tally.reason = _terminated_reason(terminated, prefix="Init:")
        elif waiting is not None and dig_str(waiting, "reason") not in ("", "PodInitializing"):
            tally.reason = "Init:" + dig_str(waiting, "reason")
        else:
            tally.reason = f"Init:{index}/{len(specs)}"
        return True
    return False


def _walk_containers(pod: Obj, tally: _Tally) -> None:
    # Once initialized, only sidecar restarts still count next to the app containers'.
    tally.restarts = tally.sidecar_restarts
    tally.last_restart = tally.last_sidecar_restart
    has_running = False
    # Last to first, so that the first container's reason is the one left standing.
    for status in reversed(dig_list(pod, "status", "containerStatuses")):
        tally.restarts += dig_int(status, "restartCount")
        tally.last_restart = _later(tally.last_restart, _finished_at(status))
        state = dig_map(status, "state")
        waiting = state.get("waiting")
        terminated = state.get("terminated")
        if waiting is not None and dig_str(waiting, "reason"):
            tally.reason = dig_str(waiting, "reason")
        elif terminated is not None:
            tally.reason = _terminated_reason(terminated)
        elif dig(status, "ready") is True and state.get("running") is not None:
            has_running = True
            tally.ready += 1
    # A finished container beside a still-running one does not make the pod Completed.
    if tally.reason == "Completed" and has_running:
        tally.reason = "Running" if _has_condition(pod, type_="Ready") else "NotReady"


def pod_status(pod: Obj) -> tuple[str, _Tally]:
    """The STATUS word and the READY/RESTARTS tallies behind it."""
    phase = dig_str(pod, "status", "phase")
    reason = dig_str(pod, "status", "reason") or phase
    if _has_condition(pod, type_="PodScheduled", reason="SchedulingGated"):
        reason = "SchedulingGated"
    init_specs = dig_list(pod, "spec", "initContainers")
    total = len(dig_list(pod, "spec", "containers")) + sum(1 for c in init_specs if _is_sidecar(c))
    tally = _Tally(reason=reason, total=total)

    initializing = _walk_init_containers(pod, tally)
    if not initializing or _has_condition(pod, type_="Initialized"):
        _walk_containers(pod, tally)

    if dig(pod, "metadata", "deletionTimestamp") is not None:
        if dig_str(pod, "status", "reason") == _NODE_LOST:
            tally.reason = "Unknown"
        elif phase not in _TERMINAL_PHASES:
            tally.reason = "Terminating"
    return tally.reason, tally


def _pod_ip(pod: Obj) -> str:
    # The API server's v1 → internal conversion makes podIP authoritative over podIPs[0].
    ip = dig_str(pod, "status", "podIP")
    if not ip:
        ips = dig_list(pod, "status", "podIPs")
        ip = dig_str(ips[0], "ip") if ips else ""
    return ip or NONE


def _readiness_gates(pod: Obj) -> str:
    gates = dig_list(pod, "spec", "readinessGates")
    if not gates:
        return NONE
    conditions = dig_list(pod, "status", "conditions")
    true_count = 0
    for gate in gates:
        wanted = dig_str(gate, "conditionType")
        # Only the first condition of the gate's type counts, as in Kubernetes.
        match = next((c for c in conditions if dig_str(c, "type") == wanted), None)
        if match is not None and dig_str(match, "status") == "True":
            true_count += 1
    return f"{true_count}/{len(gates)}"


def pod_row(pod: Obj, *, now: datetime) -> list[Cell]:
    reason, tally = pod_status(pod)
    restarts = str(tally.restarts)
    if tally.restarts and tally.last_restart is not None:
        restarts = f"{tally.restarts} ({since(tally.last_restart, now=now)} ago)"
    return [
        dig_str(pod, "metadata", "name"),
        f"{tally.ready}/{tally.total}",
        reason,
        restarts,
        since(dig(pod, "metadata", "creationTimestamp"), now=now),
        _pod_ip(pod),
        dig_str(pod, "spec", "nodeName") or NONE,
        dig_str(pod, "status", "nominatedNodeName") or NONE,
        _readiness_gates(pod),
    ]


def pod_conditions(pod: Obj) -> list[dict[str, str]]:
    """Row conditions that let clients tell finished pods from running ones."""
    phase = dig_str(pod, "status", "phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


def install() -> None:
    register(ResourceKey(group="", resource="pods"), COLUMNS, pod_row, conditions_fn=pod_conditions)
