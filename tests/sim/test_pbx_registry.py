"""The simulator's channel registry: a live channel is found by its name or its Uniqueid."""

from __future__ import annotations

from callserver.sim.model import Channel
from callserver.sim.pbx import Pbx


def _channel(pbx: Pbx, uniqueid: str | None = None) -> Channel:
    return pbx.new_channel(
        "PJSIP/1001",
        caller_num="1001",
        caller_name="",
        context="default",
        exten="s",
        state=6,
        uniqueid=uniqueid,
    )


def test_a_channel_is_found_by_name_or_uniqueid_until_it_is_gone() -> None:
    pbx = Pbx()
    ch = _channel(pbx)
    assert pbx.find(ch.name) is ch and pbx.find(ch.uniqueid) is ch
    pbx.finish(ch)
    assert pbx.find(ch.name) is None and pbx.find(ch.uniqueid) is None


def test_channels_given_the_same_uniqueid_are_found_oldest_first_each_in_turn() -> None:
    # an Originate's ChannelId can repeat one in use; the oldest live channel answers for it
    pbx = Pbx()
    first, second, third = _channel(pbx, "leg-1"), _channel(pbx, "leg-1"), _channel(pbx, "leg-1")
    assert pbx.find("leg-1") is first
    pbx.finish(second)  # not the one found: nothing changes
    assert pbx.find("leg-1") is first
    pbx.finish(first)
    assert pbx.find("leg-1") is third
    pbx.vanish(third)
    assert pbx.find("leg-1") is None
    again = _channel(pbx, "leg-1")
    assert pbx.find("leg-1") is again
