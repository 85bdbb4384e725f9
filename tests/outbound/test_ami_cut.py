"""An AMI cut in the middle of a campaign loses no attempt record: what happened during the cut
(customers hanging up) is found after the reconnect from the channels the PBX still has, every
dial ends in one stored row, and the campaign carries on."""

from __future__ import annotations

from callserver.facts.campaign import AttemptConnected, AttemptEnded, AttemptStarted

from .conftest import NY, Outbound, campaign, coding, csv_of


async def test_an_ami_cut_mid_campaign_loses_no_attempt_record(outbound: Outbound) -> None:
    rig = outbound
    for n in range(1, 5):
        talk = 60.0 if n <= 2 else 0.5
        rig.sim.set_called(f"{NY}090{n}", kind="person", answer_after=0.3, talk=talk, patience=30)
    await rig.create(campaign())
    rows = [(f"K{n}", f"K {n}", f"{NY}090{n}") for n in range(1, 5)]
    await rig.import_list("spring", "cut", csv_of(rows), stream="0")
    await rig.post("boss", "/api/campaigns/spring/start")
    await rig.until(lambda: len(rig.of(AttemptConnected)) == 2)
    talking = [c.attempt_id for c in rig.of(AttemptConnected)]
    before = rig.server.service.resyncs
    rig.sim.drop_ami_clients()
    for attempt_id in talking:  # both customers hang up while the link is down: events lost
        assert rig.sim.hangup_channel(attempt_id)
    await rig.acd_until(lambda: rig.server.service.resyncs > before)
    await rig.until(lambda: {e.attempt_id for e in rig.of(AttemptEnded)} >= set(talking))
    ended = {e.attempt_id: e for e in rig.of(AttemptEnded)}
    assert [ended[a].hangup_by for a in talking] == ["network", "network"]
    assert [ended[a].result for a in talking] == ["connected", "connected"]
    async with coding(rig):
        await rig.until(lambda: len(rig.of(AttemptEnded)) == 4, timeout=15)
    await rig.stored()
    total, closed = await rig.store().attempt_count("spring")
    assert total == closed == len(rig.of(AttemptStarted)) == 4
