"""``KubeSchedulerConfiguration`` (kubescheduler.config.k8s.io/v1): profiles, plugins, args.

One scheduler process can act as several schedulers: each *profile* answers to its own
``schedulerName`` and has its own plugin set. Pods naming another scheduler are left
alone. A profile starts from the default plugin set (``multiPoint``: every default plugin
at every extension point it implements, with kube-scheduler's weights) and edits it:

    profiles:
    - schedulerName: bin-packer
      plugins:
        score:
          disabled: [{name: NodeResourcesBalancedAllocation}]
          enabled: [{name: NodeResourcesFit, weight: 5}]
      pluginConfig:
      - name: NodeResourcesFit
        args: {scoringStrategy: {type: MostAllocated}}

``disabled: [{name: "*"}]`` drops every default at that point. The merge follows
Kubernetes' ``mergePluginSet``: defaults keep their order minus the disabled ones, a
default that is also listed as enabled takes the listed weight in place, and other
enabled plugins follow in the order given. Resolution to concrete extension points
happens in :mod:`scheduler.framework.runtime`, which knows what each plugin implements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

API_VERSION = "kubescheduler.config.k8s.io/v1"
KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"
EXTENSION_POINTS = (
    "preEnqueue",
    "queueSort",
    "preFilter",
    "filter",
    "postFilter",
    "preScore",
    "score",
    "reserve",
    "permit",
    "preBind",
    "bind",
    "postBind",
)


class ConfigError(ValueError):
    """An invalid configuration; the message names the field, as kube-scheduler's do."""


@dataclass(frozen=True, slots=True)
class PluginRef:
    name: str
    weight: int = 0


@dataclass(slots=True)
class PluginSet:
    enabled: list[PluginRef] = field(default_factory=list)
    disabled: list[PluginRef] = field(default_factory=list)


@dataclass(slots=True)
class Profile:
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    multi_point: PluginSet = field(default_factory=PluginSet)
    points: dict[str, PluginSet] = field(default_factory=dict)
    plugin_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    percentage_of_nodes_to_score: int | None = None


@dataclass(slots=True)
class LeaderElection:
    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_name: str = "kube-scheduler"
    resource_namespace: str = "kube-system"


@dataclass(slots=True)
class SchedulerConfig:
    profiles: list[Profile] = field(default_factory=lambda: [Profile()])
    percentage_of_nodes_to_score: int = 0
    """0 means adaptive: 50% − nodes/125, at least 5% (and at least 100 nodes)."""
    pod_initial_backoff_seconds: float = 1.0
    pod_max_backoff_seconds: float = 10.0
    leader_election: LeaderElection = field(default_factory=LeaderElection)
    qps: float = 50.0
    burst: int = 100
    kubeconfig: str = ""


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any, path: str) -> float:
    """A Go duration (``15s``, ``1m30s``, ``500ms``) in seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1e9  # metav1.Duration as a bare number is nanoseconds
    text = str(value).strip()
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ConfigError(f"{path}: invalid duration {text!r}")
    return total


def _plugin_list(raw: Any, path: str) -> list[PluginRef]:
    out = []
    for i, item in enumerate(raw or []):
        if not isinstance(item, dict) or not item.get("name"):
            raise ConfigError(f"{path}[{i}].name: Required value")
        weight = item.get("weight") or 0
        if not isinstance(weight, int) or weight < 0:
            raise ConfigError(
                f"{path}[{i}].weight: Invalid value: {weight!r}: must be a non-negative integer"
            )
        out.append(PluginRef(str(item["name"]), weight))
    return out


def _plugin_set(raw: Any, path: str) -> PluginSet:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be an object with enabled/disabled lists")
    return PluginSet(
        _plugin_list(raw.get("enabled"), f"{path}.enabled"),
        _plugin_list(raw.get("disabled"), f"{path}.disabled"),
    )


def _percentage(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ConfigError(f"{path}: Invalid value: {value!r}: not in valid range [0-100]")
    return value


def _profile(raw: dict[str, Any], path: str) -> Profile:
    profile = Profile(scheduler_name=str(raw.get("schedulerName") or DEFAULT_SCHEDULER_NAME))
    plugins = raw.get("plugins") or {}
    if not isinstance(plugins, dict):
        raise ConfigError(f"{path}.plugins: must be an object")
    for key, value in plugins.items():
        if key == "multiPoint":
            profile.multi_point = _plugin_set(value, f"{path}.plugins.multiPoint")
        elif key in EXTENSION_POINTS:
            profile.points[key] = _plugin_set(value, f"{path}.plugins.{key}")
        else:
            raise ConfigError(f"{path}.plugins.{key}: unknown extension point")
    for i, item in enumerate(raw.get("pluginConfig") or []):
        if not isinstance(item, dict) or not item.get("name"):
            raise ConfigError(f"{path}.pluginConfig[{i}].name: Required value")
        name = str(item["name"])
        if name in profile.plugin_args:
            raise ConfigError(f"{path}.pluginConfig[{i}]: Duplicate value: {name!r}")
        args = item.get("args") or {}
        if not isinstance(args, dict):
            raise ConfigError(f"{path}.pluginConfig[{i}].args: must be an object")
        profile.plugin_args[name] = args
    if raw.get("percentageOfNodesToScore") is not None:
        profile.percentage_of_nodes_to_score = _percentage(
            raw["percentageOfNodesToScore"], f"{path}.percentageOfNodesToScore"
        )
    return profile


def parse_config(raw: dict[str, Any]) -> SchedulerConfig:
    if raw.get("apiVersion") not in (API_VERSION, None) or raw.get("kind") not in (KIND, None):
        raise ConfigError(
            f"unsupported configuration {raw.get('apiVersion')}/{raw.get('kind')}: want {API_VERSION} {KIND}"
        )
    config = SchedulerConfig()
    if raw.get("profiles"):
        config.profiles = [_profile(p or {}, f"profiles[{i}]") for i, p in enumerate(raw["profiles"])]
    names = [p.scheduler_name for p in config.profiles]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"profiles[{i}].schedulerName: Duplicate value: {name!r}")
    if raw.get("percentageOfNodesToScore") is not None:
        config.percentage_of_nodes_to_score = _percentage(
            raw["percentageOfNodesToScore"], "percentageOfNodesToScore"
        )
    if raw.get("podInitialBackoffSeconds") is not None:
        config.pod_initial_backoff_seconds = float(raw["podInitialBackoffSeconds"])
    if raw.get("podMaxBackoffSeconds") is not None:
        config.pod_max_backoff_seconds = float(raw["podMaxBackoffSeconds"])
    if (
        config.pod_initial_backoff_seconds <= 0
        or config.pod_max_backoff_seconds < config.pod_initial_backoff_seconds
    ):
        raise ConfigError(
            "podMaxBackoffSeconds: must be at least podInitialBackoffSeconds, which must be > 0"
        )
    le = raw.get("leaderElection") or {}
    if le:
        config.leader_election = LeaderElection(
            leader_elect=bool(le.get("leaderElect", True)),
            lease_duration=parse_duration(le.get("leaseDuration", "15s"), "leaderElection.leaseDuration"),
            renew_deadline=parse_duration(le.get("renewDeadline", "10s"), "leaderElection.renewDeadline"),
            retry_period=parse_duration(le.get("retryPeriod", "2s"), "leaderElection.retryPeriod"),
            resource_name=str(le.get("resourceName") or "kube-scheduler"),
            resource_namespace=str(le.get("resourceNamespace") or "kube-system"),
        )
    conn = raw.get("clientConnection") or {}
    if conn.get("qps") is not None:
        config.qps = float(conn["qps"])
    if conn.get("burst") is not None:
        config.burst = int(conn["burst"])
    config.kubeconfig = str(conn.get("kubeconfig") or "")
    return config


def load_config(path: str | Path) -> SchedulerConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"reading {path}: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not a KubeSchedulerConfiguration object")
    return parse_config(raw)


def merge_plugins(defaults: list[PluginRef], custom: PluginSet) -> list[PluginRef]:
    """Kubernetes' ``mergePluginSet``: defaults minus disabled, listed weights win, extra
    enabled plugins appended in order."""
    disabled = {p.name for p in custom.disabled}
    if "*" in disabled:
        return list(custom.enabled)
    listed = {p.name: p for p in custom.enabled}
    out: list[PluginRef] = []
    placed: set[str] = set()
    for ref in defaults:
        if ref.name in disabled:
            continue
        if ref.name in listed:
            out.append(PluginRef(ref.name, listed[ref.name].weight or ref.weight))
            placed.add(ref.name)
        else:
            out.append(ref)
    out.extend(p for p in custom.enabled if p.name not in placed)
    return out
