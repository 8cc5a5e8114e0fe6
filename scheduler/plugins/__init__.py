"""The in-tree plugins, by name, and kube-scheduler's default profile.

``REGISTRY`` maps a plugin name (as used in a KubeSchedulerConfiguration) to its factory
``new(args, handle)``. ``DEFAULT_PLUGINS`` is the default ``multiPoint`` set in
kube-scheduler's order, with its score weights: TaintToleration 3, NodeAffinity 2,
PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit 1,
NodeResourcesBalancedAllocation 1, ImageLocality 1. (The volume plugins of the real
default set are absent: kubesim has no volume binding.)
"""

from __future__ import annotations

from scheduler.config import PluginRef
from scheduler.framework.runtime import Factory

from . import (
    balancedallocation,
    defaultbinder,
    defaultpreemption,
    imagelocality,
    interpodaffinity,
    nodeaffinity,
    nodename,
    nodeports,
    noderesourcesfit,
    nodeunschedulable,
    podtopologyspread,
    prioritysort,
    schedulinggates,
    tainttoleration,
)

REGISTRY: dict[str, Factory] = {
    schedulinggates.NAME: schedulinggates.new,
    prioritysort.NAME: prioritysort.new,
    nodeunschedulable.NAME: nodeunschedulable.new,
    nodename.NAME: nodename.new,
    tainttoleration.NAME: tainttoleration.new,
    nodeaffinity.NAME: nodeaffinity.new,
    nodeports.NAME: nodeports.new,
    noderesourcesfit.NAME: noderesourcesfit.new,
    podtopologyspread.NAME: podtopologyspread.new,
    interpodaffinity.NAME: interpodaffinity.new,
    defaultpreemption.NAME: defaultpreemption.new,
    balancedallocation.NAME: balancedallocation.new,
    imagelocality.NAME: imagelocality.new,
    defaultbinder.NAME: defaultbinder.new,
}

DEFAULT_PLUGINS: list[PluginRef] = [
    PluginRef(schedulinggates.NAME),
    PluginRef(prioritysort.NAME),
    PluginRef(nodeunschedulable.NAME),
    PluginRef(nodename.NAME),
    PluginRef(tainttoleration.NAME, 3),
    PluginRef(nodeaffinity.NAME, 2),
    PluginRef(nodeports.NAME),
    PluginRef(noderesourcesfit.NAME, 1),
    PluginRef(podtopologyspread.NAME, 2),
    PluginRef(interpodaffinity.NAME, 2),
    PluginRef(defaultpreemption.NAME),
    PluginRef(balancedallocation.NAME, 1),
    PluginRef(imagelocality.NAME, 1),
    PluginRef(defaultbinder.NAME),
]

DEFAULT_WEIGHTS: dict[str, int] = {ref.name: ref.weight for ref in DEFAULT_PLUGINS if ref.weight}
