"""Pod requests as Kubernetes computes them (component-helpers PodRequests), and NodeInfo accounting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.framework.nodeinfo import NodeInfo
from scheduler.framework.podinfo import PodInfo
from scheduler.framework.resources import NON_ZERO_DEFAULTS, pod_requests, requests_and_non_zero

from .fakes import make_node, make_pod

MI = 1024 * 1024


def container(cpu: str | None = None, memory: str | None = None, *, sidecar: bool = False) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    out: dict = {"name": "x", "image": "i", "resources": {"requests": requests}}
    if sidecar:
        out["restartPolicy"] = "Always"
    return out


@pytest.mark.parametrize(
    ("containers", "init", "overhead", "want_cpu", "want_mem"),
    [
        # Kubernetes' own example: init containers run one at a time (max), containers together (sum).
        (
            [container("2", "1G"), container("1", "1G")],
            [container("2", "1G"), container("2", "3G")],
            None,
            3000,
            3 * 10**9,
        ),
        ([container("100m")], [], {"cpu": "250m", "memory": "120Mi"}, 350, 120 * MI),
        ([container("500m")], [container("2")], None, 2000, 0),
        # A sidecar adds to the steady state and to every later init container.
        ([container("1")], [container("500m", sidecar=True), container("1")], None, 1500, 0),
        ([container("100m")], [container("1", sidecar=True), container("2")], None, 3000, 0),
    ],
)
def test_pod_requests(
    containers: list, init: list, overhead: dict | None, want_cpu: int, want_mem: int
) -> None:
    pod = make_pod("p")
    pod["spec"]["containers"] = containers
    if init:
        pod["spec"]["initContainers"] = init
    if overhead:
        pod["spec"]["overhead"] = overhead
    got = pod_requests(pod)
    assert got.get("cpu", 0) == want_cpu
    assert got.get("memory", 0) == want_mem


def test_non_zero_requests_default_missing_values_only() -> None:
    pod = make_pod("p")
    pod["spec"]["containers"] = [container(), container("0"), container("300m", "1Gi")]
    got = pod_requests(pod, non_missing=NON_ZERO_DEFAULTS)
    # A container naming cpu: 0 asks for zero; one naming nothing gets the defaults.
    assert got["cpu"] == 100 + 0 + 300
    assert got["memory"] == 200 * MI + 200 * MI + 1024 * MI


def test_node_info_accounting_add_remove_and_ports() -> None:
    info = NodeInfo(make_node("n", cpu="4", memory="8Gi"))
    a = PodInfo(make_pod("a", cpu="1", memory="1Gi", ports=[{"containerPort": 80, "hostPort": 8080}]))
    b = PodInfo(make_pod("b"))
    info.add_pod(a)
    info.add_pod(b)
    assert info.requested.milli_cpu == 1000 and info.requested.memory == 1024 * MI
    assert info.non_zero_cpu == 1100 and info.non_zero_memory == (1024 + 200) * MI
    assert info.used_ports.conflicts("0.0.0.0", "TCP", 8080)
    assert info.used_ports.conflicts("10.0.0.1", "TCP", 8080)
    assert not info.used_ports.conflicts("0.0.0.0", "UDP", 8080)
    clone = info.clone()
    assert info.remove_pod(a)
    assert not info.remove_pod(a)
    assert info.requested.milli_cpu == 0 and not info.used_ports.conflicts("0.0.0.0", "TCP", 8080)
    assert clone.requested.milli_cpu == 1000 and len(clone.pods) == 2  # the copy did not move


_quantities = st.one_of(
    st.none(), st.sampled_from(["0", "1", "250m", "1500m", "2", "128Mi", "1Gi", "3G", "100"])
)


@given(st.lists(st.tuples(_quantities, _quantities), min_size=1, max_size=4))
def test_fast_path_agrees_with_the_general_rules(containers: list) -> None:
    pod = make_pod("p")
    pod["spec"]["containers"] = [container(cpu, mem) for cpu, mem in containers]
    requests, nz_cpu, nz_mem = requests_and_non_zero(pod)
    assert requests == {k: v for k, v in pod_requests(pod).items()}
    non_zero = pod_requests(pod, non_missing=NON_ZERO_DEFAULTS)
    assert (nz_cpu, nz_mem) == (non_zero.get("cpu", 0), non_zero.get("memory", 0))
