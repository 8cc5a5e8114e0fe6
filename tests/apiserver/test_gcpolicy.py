"""The server's garbage-collection policy: survivors of middle-generation and full
collections are frozen, and a periodic thaw still reclaims cycles that died while frozen."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator

import pytest

from apiserver.gcpolicy import FreezeSurvivors


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(b)


@pytest.fixture
async def policy() -> AsyncIterator[FreezeSurvivors]:
    p = FreezeSurvivors(thaw_interval=3600)
    p.start()
    try:
        yield p
    finally:
        await p.stop()
        gc.unfreeze()


@pytest.mark.parametrize("generation", [1, 2])
async def test_survivors_of_a_middle_or_full_collection_are_frozen(policy: FreezeSurvivors, generation: int) -> None:
    kept = [Node() for _ in range(1000)]
    before = gc.get_freeze_count()
    gc.collect(generation)
    assert gc.get_freeze_count() >= before + len(kept)
    # A young collection leaves the permanent generation alone.
    frozen = gc.get_freeze_count()
    gc.collect(0)
    assert gc.get_freeze_count() == frozen


async def test_a_thaw_reclaims_cycles_that_died_while_frozen(policy: FreezeSurvivors) -> None:
    head, alive = cycle()
    gc.collect(2)  # the cycle survives (it is referenced) and is frozen
    del head
    gc.collect(2)  # frozen objects are not walked: the dead cycle stays
    assert alive() is not None
    assert policy.thaw() >= 2
    assert alive() is None
    assert gc.get_freeze_count() > 0  # frozen again after the thaw


async def test_stop_removes_the_hook_and_the_thaw_task() -> None:
    p = FreezeSurvivors(thaw_interval=0.01)
    p.start()
    await asyncio.sleep(0.05)  # a few thaws ran
    await p.stop()
    gc.unfreeze()
    gc.collect(2)
    assert gc.get_freeze_count() == 0
    assert not any(getattr(cb, "__self__", None) is p for cb in gc.callbacks)
