"""A periodic listing of the PBX's channels: what it must not do again while the link is up, and the
listing freed as it goes rather than at once."""

from __future__ import annotations

import time
from typing import Any

from callserver.acd.adapter import PbxCommands
from callserver.acd.engine import AcdEngine
from callserver.acd.model import AgentSpec, QueueSpec
from callserver.acd.pbxstate import PbxState
from callserver.acd.resync import Resync
from callserver.pbx.channels import ChannelNames
from callserver.pbx.events import ChannelSnapshot

WAITING = 300


class _Feedback:
    def leg_unreachable(self, leg_id: str) -> None: ...

    def leg_not_sent(self, leg_id: str) -> None: ...

    def leg_live(self, leg_id: str) -> bool:
        return False


class _Pbx:
    """The PBX's side of a listing: every waiting caller's channel in `callserver-hold`."""

    def __init__(self, snapshots: list[ChannelSnapshot]) -> None:
        self.snapshots = snapshots
        self.listings: list[list[ChannelSnapshot]] = []

    async def core_show_channels(self) -> list[ChannelSnapshot]:
        listing = list(self.snapshots)
        self.listings.append(listing)
        return listing

    async def channel_count(self) -> int:
        return len(self.snapshots)


def _snapshot(i: int) -> ChannelSnapshot:
    return ChannelSnapshot(
        uniqueid=f"1800000000.{i}",
        linkedid=f"1800000000.{i}",
        channel=f"PJSIP/trunk-{i:08x}",
        state="Up",
        caller_num=f"+3314{i:08d}",
        caller_name="",
        context="callserver-hold",
        exten="s",
        priority="2",
        application="MusicOnHold",
        application_data="default",
        duration="10",
        bridge_id="",
    )


def _rig() -> tuple[AcdEngine, Resync, _Pbx, list[bool]]:
    queue = QueueSpec(name="support", skills=frozenset({"support"}), max_wait=86_400.0)
    engine = AcdEngine([queue], [AgentSpec("a1", "A1", "PJSIP/1001", {"support": 1})])
    now = time.time()
    for i in range(WAITING):
        engine.call_arrived(
            f"1800000000.{i}",
            channel=f"PJSIP/trunk-{i:08x}",
            caller_num=f"+3314{i:08d}",
            caller_name="",
            dnis="500",
            queue="support",
            now=now,
        )
    engine.pop_facts()
    released: list[bool] = []
    real = engine.set_pbx_ready

    def set_pbx_ready(ready: bool, at: float) -> Any:
        released.append(ready)
        return real(ready, at)

    engine.set_pbx_ready = set_pbx_ready  # type: ignore[method-assign]
    pbx = _Pbx([_snapshot(i) for i in range(WAITING)])
    names = ChannelNames()
    resync = Resync(
        engine,
        pbx,  # type: ignore[arg-type]
        names,
        PbxCommands(pbx, names, _Feedback(), time.time),  # type: ignore[arg-type]
        pbx_state=PbxState(),
        device_state=lambda _event: None,
        apply=lambda _commands: None,
        publish=lambda _fact: None,
        spawn=lambda coro: coro.close(),
        clock=time.time,
    )
    return engine, resync, pbx, released


async def test_a_periodic_listing_with_the_link_up_does_not_release_offers_again() -> None:
    engine, resync, pbx, released = _rig()
    assert engine.pbx_ready
    await resync.run(periodic=True, deep=True)
    assert resync.runs == 1 and len(engine.calls) == WAITING  # the listing ran and kept every call
    # every waiting call was looked at when it arrived; marking them all again (20,000 at scale)
    # held the loop for nothing
    assert released == []
    # the listing was freed as the run went, not left for one deallocation at its end
    assert pbx.listings and pbx.listings[0] == []
    assert all(resync.channels.known())


async def test_a_listing_after_offers_were_held_releases_them() -> None:
    engine, resync, _pbx, released = _rig()
    engine.set_pbx_ready(False, time.time())  # an Originate could not be sent: offers are held
    released.clear()
    await resync.run(periodic=True, deep=True)
    assert released == [True]
    assert engine.pbx_ready
