"""The adapter's record of when it originated each leg (resync spares legs too young to judge): it
keeps every live leg and stays bounded by them, whatever the number of calls the server has seen."""

from __future__ import annotations

from typing import Any

from callserver.acd.adapter import LEG_SWEEP_MIN, PbxCommands
from callserver.acd.commands import OriginateAgentLeg
from callserver.pbx.channels import ChannelNames


class _Pbx:
    def __init__(self) -> None:
        self.originated: list[str] = []

    async def originate(self, **fields: Any) -> None:
        self.originated.append(fields["channel_id"])


class _Legs:
    """The engine's live legs, as the adapter asks about them."""

    def __init__(self) -> None:
        self.live: set[str] = set()
        self.asked = 0

    def leg_unreachable(self, leg_id: str) -> None:
        raise AssertionError("no originate fails here")

    def leg_not_sent(self, leg_id: str) -> None:
        raise AssertionError("no originate fails here")

    def leg_live(self, leg_id: str) -> bool:
        self.asked += 1
        return leg_id in self.live


def _leg(n: int) -> OriginateAgentLeg:
    return OriginateAgentLeg(f"c{n}", "ann", f"leg{n}", "PJSIP/ann", "PJSIP/trunk-1", 20.0, "")


async def test_the_record_keeps_live_legs_and_forgets_ended_ones_in_bounded_work() -> None:
    pbx, legs, now = _Pbx(), _Legs(), [1000.0]
    commands = PbxCommands(pbx, ChannelNames(), legs, lambda: now[0])  # type: ignore[arg-type]
    for n in range(20_000):
        now[0] += 0.01
        legs.live.add(f"leg{n}")
        legs.live.discard(f"leg{n - 300}")  # about 300 legs live at a time
        await commands.originate_leg(_leg(n))
    assert len(pbx.originated) == 20_000
    assert all(commands.leg_started(f"leg{n}") > 0 for n in range(19_701, 20_000))
    assert commands.leg_started("leg19999") == now[0]
    assert commands.legs_on_record() <= max(LEG_SWEEP_MIN, 2 * 301) + 1
    # each sweep asks about the legs on record, and sweeps come when the record has doubled:
    # a few questions per originate on average, not one per live leg
    assert legs.asked < 4 * 20_000
