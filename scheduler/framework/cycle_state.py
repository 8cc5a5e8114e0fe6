"""Per-attempt scratch space shared by the plugins of one scheduling cycle.

PreFilter computes once what every Filter call would otherwise recompute per node (the
pod's total request, the topology counts of matching pods) and leaves it here under its
own key; Filter, Score and the preemption dry-run read it back. Preemption simulates
"what if these pods were gone" on a :meth:`CycleState.clone`, so values that the
PreFilter extensions mutate implement ``clone()``; read-only values are shared.
"""

from __future__ import annotations

from typing import Any, Protocol


class StateData(Protocol):
    def clone(self) -> StateData: ...


class CycleState:
    __slots__ = ("_data", "skip_filter_plugins", "skip_score_plugins")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter_plugins: set[str] = set()
        """Plugins whose PreFilter answered Skip: their Filter is not called this cycle."""
        self.skip_score_plugins: set[str] = set()
        """Plugins whose PreScore answered Skip: their Score is not called this cycle."""

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def read(self, key: str) -> Any:
        """The value under ``key``; KeyError when the plugin that writes it did not run."""
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def clone(self) -> CycleState:
        copy = CycleState()
        for key, value in self._data.items():
            clone = getattr(value, "clone", None)
            copy._data[key] = clone() if callable(clone) else value
        copy.skip_filter_plugins = set(self.skip_filter_plugins)
        copy.skip_score_plugins = set(self.skip_score_plugins)
        return copy
