"""The survivor freezer: what outlives a full collection leaves the collector's sight, a cycle that
dies while frozen is freed after the next thaw, and uninstalling gives the collector back."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from callserver.collector import SurvivorFreezer


class Node:
    """Something tracked by the collector that can sit in a cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def freezer() -> Iterator[tuple[SurvivorFreezer, Clock]]:
    clock = Clock()
    installed = SurvivorFreezer(thaw_every=60.0, clock=clock)
    installed.install()
    try:
        yield installed, clock
    finally:
        installed.uninstall()


def _tracked(obj: object) -> bool:
    """Whether the collector still walks `obj` (frozen objects are out of gc.get_objects())."""
    return any(o is obj for o in gc.get_objects())


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_the_survivors_of_a_full_collection_are_frozen(freezer: tuple[SurvivorFreezer, Clock]) -> None:
    installed, _ = freezer
    kept = Node()
    assert _tracked(kept)  # made after the start-up freeze
    before = installed.freezes
    gc.collect()
    assert installed.freezes == before + 1
    assert not _tracked(kept)
    assert gc.get_freeze_count() > 0


def test_a_young_collection_freezes_nothing(freezer: tuple[SurvivorFreezer, Clock]) -> None:
    installed, _ = freezer
    kept = Node()
    before = installed.freezes
    gc.collect(0)
    assert installed.freezes == before
    assert _tracked(kept)


def test_a_cycle_that_dies_frozen_is_freed_after_the_thaw(freezer: tuple[SurvivorFreezer, Clock]) -> None:
    installed, clock = freezer
    dead = _cycle()
    gc.collect()
    assert dead() is None  # garbage at the collection: freed by it as usual, never frozen

    holder = [Node()]
    holder[0].other = Node()
    holder[0].other.other = holder[0]
    frozen = weakref.ref(holder[0])
    gc.collect()  # alive: frozen with the other survivors
    holder.clear()  # now a cycle nobody refers to, out of the collector's sight
    gc.collect()
    assert frozen() is not None, "a frozen cycle was collected: nothing was frozen"
    clock.now += 61.0
    gc.collect()  # past the period: this collection's callback gives everything back
    assert installed.thaws == 1
    gc.collect()
    assert frozen() is None
    assert installed.freezes >= 2  # the collection after the thaw froze its survivors again


def test_uninstall_gives_everything_back() -> None:
    installed = SurvivorFreezer()
    installed.install()
    assert gc.get_freeze_count() > 0
    installed.uninstall()
    assert gc.get_freeze_count() == 0
    before = installed.freezes
    gc.collect()
    assert installed.freezes == before
