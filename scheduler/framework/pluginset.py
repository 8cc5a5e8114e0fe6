"""Which plugin runs at which extension point, for one profile.

A profile names plugins, not extension points: ``multiPoint`` (the default set, edited)
means "wherever this plugin has something to do". Each plugin is instantiated once and
takes part in every point whose protocol it implements; per-point ``enabled``/``disabled``
lists then edit each point's list, as kube-scheduler's ``mergePluginSet`` does. Score
weights come from the per-point entry, else the multiPoint entry, else the plugin's
default weight, and are at least 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scheduler.config import EXTENSION_POINTS, PluginRef, PluginSet, Profile, merge_plugins

from .interfaces import (
    BindPlugin,
    FilterPlugin,
    PermitPlugin,
    Plugin,
    PostBindPlugin,
    PostFilterPlugin,
    PreBindPlugin,
    PreFilterPlugin,
    PreScorePlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScorePlugin,
)

_EMPTY_SET = PluginSet()
_PROTOCOLS: dict[str, Any] = {
    "preEnqueue": None,
    "queueSort": QueueSortPlugin,
    "preFilter": PreFilterPlugin,
    "filter": FilterPlugin,
    "postFilter": PostFilterPlugin,
    "preScore": PreScorePlugin,
    "score": ScorePlugin,
    "reserve": ReservePlugin,
    "permit": PermitPlugin,
    "preBind": PreBindPlugin,
    "bind": BindPlugin,
    "postBind": PostBindPlugin,
}


class FrameworkError(ValueError):
    """A profile that cannot be built (unknown plugin, plugin at the wrong point, ...)."""


def implements(plugin: Plugin, point: str) -> bool:
    proto = _PROTOCOLS[point]
    if proto is None:
        return callable(getattr(plugin, "pre_enqueue", None))
    return isinstance(plugin, proto)


def resolve_plugins(
    profile: Profile,
    *,
    default_plugins: list[PluginRef],
    default_weights: Mapping[str, int],
    instantiate: Callable[[str], Plugin],
) -> tuple[dict[str, list[Plugin]], dict[str, int]]:
    """(plugins per extension point, in order; score weight per plugin name)."""
    multi = merge_plugins(default_plugins, profile.multi_point)
    points: dict[str, list[Plugin]] = {}
    weights: dict[str, int] = {}
    for point in EXTENSION_POINTS:
        base = [ref for ref in multi if implements(instantiate(ref.name), point)]
        plugins = []
        for ref in merge_plugins(base, profile.points.get(point, _EMPTY_SET)):
            plugin = instantiate(ref.name)
            if not implements(plugin, point):
                raise FrameworkError(f"plugin {ref.name!r} does not extend {point} plugin")
            if point == "score":
                weight = ref.weight or next((m.weight for m in multi if m.name == ref.name), 0)
                weights[ref.name] = weight or default_weights.get(ref.name, 1) or 1
            plugins.append(plugin)
        points[point] = plugins
    return points, weights
