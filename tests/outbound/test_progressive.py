"""Progressive dialling end to end over TCP: a campaign created and fed over REST, agents on
persistent lines, each line dialled for one reserved agent, the person bridged into the agent's
line, the agent's outcome code, every dial a stored row."""

from __future__ import annotations

from callserver.campaigns.model import AgentSlot
from callserver.facts.campaign import AttemptConnected, AttemptEnded, AttemptStarted

from .conftest import NY, Outbound, campaign, csv_of


async def test_progressive_dials_one_reserved_line_per_agent_and_bridges_into_the_line(
    outbound: Outbound,
) -> None:
    rig = outbound
    for n in range(1, 4):
        rig.sim.set_called(f"{NY}010{n}", kind="person", answer_after=0.3, talk=0.6, patience=30)
    await rig.create(campaign())
    status, report = await rig.import_list(
        "spring", "first", csv_of([(f"L{n}", f"Lead {n}", f"{NY}010{n}") for n in range(1, 4)]), stream="0"
    )
    assert status == 200 and report["leads"] == 3, report
    status, _ = await rig.post("boss", "/api/campaigns/spring/start")
    assert status == 200
    connected = lambda: len(rig.of(AttemptConnected))  # noqa: E731
    await rig.until(lambda: connected() >= 2)
    starts = rig.of(AttemptStarted)
    assert all(s.agent_id is not None for s in starts)  # every line reserved for an agent
    assert len({s.agent_id for s in starts[:2]}) == 2
    # the person hangs up after talking: the agent codes the call, their line stays up
    first = rig.of(AttemptConnected)[0]
    await rig.until(lambda: rig.slot("spring", first.agent_id) is AgentSlot.WRAPUP)
    line = rig.server.lines.line(first.agent_id) if rig.server.lines else None
    assert line is not None and line.state.value == "up"
    status, desk = await rig.get(f"agent{first.agent_id[-1]}", "/api/campaign-desk")
    assert status == 200 and desk["attempt"]["attempt_id"] == first.attempt_id
    assert desk["attempt"]["lead"]["fields"]["name"].startswith("Lead")
    status, body = await rig.post(
        f"agent{first.agent_id[-1]}",
        "/api/campaign-desk/wrapup",
        {"attempt_id": first.attempt_id, "outcome": "sale"},
    )
    assert status == 200, body
    await rig.until(lambda: len(rig.of(AttemptConnected)) == 3, timeout=15)
    await rig.until(lambda: len(rig.of(AttemptEnded)) == 3, timeout=15)
    await rig.stored()
    rows = await rig.store().attempts("spring")
    assert len(rows) == 3 and all(r["ended_at"] and r["result"] == "connected" for r in rows)
    assert {r["agent_id"] for r in rows} == {"agent1", "agent2"}
    coded = [r for r in rows if r["attempt_id"] == first.attempt_id]
    assert coded[0]["outcome"] == "sale" and coded[0]["abandoned"] == "no"
