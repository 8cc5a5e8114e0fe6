"""KubeSchedulerConfiguration: profiles, plugin sets, weights, args, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.config import ConfigError, load_config, parse_config, parse_duration
from scheduler.framework.runtime import FrameworkError

from .fakes import Harness, make_node, make_pod

API = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}


def names(plugins: list) -> list[str]:
    return [p.name for p in plugins]


def test_default_profile_matches_kube_scheduler() -> None:
    fwk = Harness().scheduler.profiles["default-scheduler"]
    assert names(fwk.filter_plugins) == [
        "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
        "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity",
    ]  # fmt: skip
    assert fwk.weights == {
        "TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "PodTopologySpread": 2,
        "InterPodAffinity": 2, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1,
    }  # fmt: skip
    assert names(fwk.post_filter_plugins) == ["DefaultPreemption"]
    assert names(fwk.bind_plugins) == ["DefaultBinder"]
    assert fwk.queue_sort.name == "PrioritySort"


def test_profiles_disable_enable_and_weigh() -> None:
    config = {
        **API,
        "percentageOfNodesToScore": 30,
        "profiles": [
            {"schedulerName": "default-scheduler"},
            {
                "schedulerName": "packer",
                "percentageOfNodesToScore": 100,
                "plugins": {
                    "score": {
                        "disabled": [{"name": "*"}],
                        "enabled": [{"name": "NodeResourcesFit", "weight": 5}, {"name": "ImageLocality"}],
                    },
                    "filter": {"disabled": [{"name": "TaintToleration"}]},
                    "postFilter": {"disabled": [{"name": "DefaultPreemption"}]},
                },
                "pluginConfig": [
                    {"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated"}}}
                ],
            },
        ],
    }
    h = Harness(config=config)
    packer = h.scheduler.profiles["packer"]
    assert names(packer.score_plugins) == ["NodeResourcesFit", "ImageLocality"]
    assert packer.weights == {"NodeResourcesFit": 5, "ImageLocality": 1}
    assert "TaintToleration" not in names(packer.filter_plugins)
    assert packer.post_filter_plugins == []
    assert packer.plugins["NodeResourcesFit"].strategy == "MostAllocated"  # type: ignore[attr-defined]
    assert packer.percentage_of_nodes_to_score == 100
    assert h.scheduler.algorithm.percentage_of_nodes_to_score == 30
    assert h.scheduler.profiles["default-scheduler"].plugins["NodeResourcesFit"].strategy == "LeastAllocated"  # type: ignore[attr-defined]


async def test_each_profile_schedules_its_own_pods_with_its_own_plugins() -> None:
    config = {**API, "profiles": [
        {"schedulerName": "default-scheduler"},
        {"schedulerName": "packer", "pluginConfig": [
            {"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated"}}}]},
    ]}  # fmt: skip
    h = Harness(config=config)
    h.add_node(make_node("empty", cpu="4"))
    h.add_node(make_node("busy", cpu="4"))
    h.add_pod(make_pod("filler", cpu="2", memory="4Gi", node="busy"))
    h.add_pod(make_pod("spread", cpu="500m", memory="1Gi"))
    h.add_pod(make_pod("packed", cpu="500m", memory="1Gi", scheduler_name="packer"))
    await h.schedule_pending()
    assert h.node_of("default/spread") == "empty"
    assert h.node_of("default/packed") == "busy"
    record = h.scheduler.decisions.get("default/packed")
    assert record is not None and record.profile == "packer"


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"profiles": [{"plugins": {"filter": {"enabled": [{"name": "NoSuchPlugin"}]}}}]}, "not found"),
        ({"profiles": [{"schedulerName": "a"}, {"schedulerName": "a"}]}, "Duplicate value"),
        ({"percentageOfNodesToScore": 101}, "not in valid range"),
        ({"profiles": [{"plugins": {"score": {"enabled": [{"name": "NodeResourcesFit", "weight": -1}]}}}]}, "non-negative"),
        ({"profiles": [{"plugins": {"bind": {"disabled": [{"name": "*"}]}}}]}, "at least one bind plugin"),
        ({"profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "Bogus"}}}]}]},
         "Unsupported value"),
        ({"apiVersion": "kubescheduler.config.k8s.io/v1beta1", "kind": "KubeSchedulerConfiguration"}, "unsupported"),
    ],
)  # fmt: skip
def test_invalid_configurations_are_refused(config: dict, error: str) -> None:
    with pytest.raises((ConfigError, FrameworkError, ValueError), match=error):
        Harness(config={**API, **config} if "apiVersion" not in config else config)


def test_yaml_file_and_durations(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "leaderElection:\n  leaderElect: true\n  leaseDuration: 1m30s\n  renewDeadline: 500ms\n"
        "clientConnection:\n  qps: 200\n  burst: 400\n"
    )
    config = load_config(path)
    assert config.leader_election.lease_duration == 90.0
    assert config.leader_election.renew_deadline == 0.5
    assert (config.qps, config.burst) == (200.0, 400)
    assert parse_duration("15s", "x") == 15.0
    with pytest.raises(ConfigError):
        parse_duration("15 parsecs", "x")
    assert parse_config({}).profiles[0].scheduler_name == "default-scheduler"
