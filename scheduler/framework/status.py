"""The answer of one plugin at one extension point (the framework's ``Status``).

Plugins never raise to say "no": they return a status whose code tells the framework
what to do next. ``Unschedulable`` means "not here, but preemption might make room";
``UnschedulableAndUnresolvable`` means "not here, and evicting pods would not help", so
preemption skips the node; ``Skip`` at PreFilter/PreScore means "I have nothing to say
about this pod", and the framework then does not call that plugin's Filter/Score at all —
the cheapest work is the work never done. ``Wait`` is Permit's "hold the pod".

Success is ``None`` on the hot paths (Filter/Score run thousands of times per pod), so
a passing node costs no allocation; :func:`is_success` reads both spellings.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Code(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5

    def __str__(self) -> str:
        return _CODE_NAMES[self]


_CODE_NAMES = {
    Code.SUCCESS: "Success",
    Code.ERROR: "Error",
    Code.UNSCHEDULABLE: "Unschedulable",
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE: "UnschedulableAndUnresolvable",
    Code.WAIT: "Wait",
    Code.SKIP: "Skip",
}


class Status:
    __slots__ = ("code", "error", "plugin", "reasons")

    def __init__(
        self, code: Code, reasons: Iterable[str] = (), *, plugin: str = "", error: BaseException | None = None
    ) -> None:
        self.code = code
        self.reasons: tuple[str, ...] = tuple(reasons)
        self.plugin = plugin
        self.error = error

    @classmethod
    def unschedulable(cls, *reasons: str, plugin: str = "") -> Status:
        return cls(Code.UNSCHEDULABLE, reasons, plugin=plugin)

    @classmethod
    def unresolvable(cls, *reasons: str, plugin: str = "") -> Status:
        return cls(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reasons, plugin=plugin)

    @classmethod
    def as_error(cls, err: BaseException | str, *, plugin: str = "") -> Status:
        exc = err if isinstance(err, BaseException) else RuntimeError(err)
        return cls(Code.ERROR, (str(exc),), plugin=plugin, error=exc)

    @classmethod
    def skip(cls) -> Status:
        """The one shared Skip status (the framework never attributes or changes it)."""
        return _SKIP

    def with_plugin(self, plugin: str) -> Status:
        """This status attributed to ``plugin`` (a copy when it named another)."""
        if self.plugin == plugin:
            return self
        if not self.plugin:
            self.plugin = plugin
            return self
        return Status(self.code, self.reasons, plugin=plugin, error=self.error)

    def is_success(self) -> bool:
        return self.code is Code.SUCCESS

    def is_rejected(self) -> bool:
        """Unschedulable or unresolvable: the pod does not fit (as opposed to a failure)."""
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def message(self) -> str:
        return ", ".join(self.reasons)

    def __repr__(self) -> str:
        by = f" by {self.plugin}" if self.plugin else ""
        return f"Status({self.code}{by}: {self.message()!r})"


_SKIP = Status(Code.SKIP)


def is_success(status: Status | None) -> bool:
    return status is None or status.code is Code.SUCCESS


def code_of(status: Status | None) -> Code:
    return Code.SUCCESS if status is None else status.code
