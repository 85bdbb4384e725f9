"""Predictive dialling end to end over TCP, from a campaign with a history: at start-up the store's
last 30 days of attempts fill the abandon meter and the pacer's figures, so the campaign paces
predictively at once (more lines than free agents, AMD on); when its window is near the cap it
dials progressively by itself and says why."""

from __future__ import annotations

import re
import time
from pathlib import Path

from callserver.campaigns.model import EffectiveMode
from callserver.facts.campaign import (
    AttemptAmd,
    AttemptConnected,
    AttemptStarted,
    CampaignModeChanged,
)

from .conftest import NY, campaign, coding, running, settings_for
from .history import past_attempts, seed

MIX = {
    "person": 0.5,
    "machine": 0.3,
    "nobody": 0.2,
    "busy": 0.0,
    "invalid": 0.0,
    "person_answer": [0.2, 0.6],
    "machine_answer": [0.2, 0.6],
    "talk": [0.6, 1.2],
    "patience": [6.0, 6.0],
    "amd_person_delay": [0.2, 0.4],
    "amd_machine_delay": [0.3, 0.5],
    "amd_false_positive": 0.0,
    "amd_false_negative": 0.0,
}
LEADS = [(f"N{i:02d}", f"{NY}{4100 + i}") for i in range(40)]


async def test_a_campaign_with_a_history_dials_predictively_with_amd_from_the_start(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **MIX)
    now = time.time()
    config = campaign(
        mode="predictive", amd={"enabled": True, "false_positive_estimate": 0.0}, ring_timeout=4
    )
    history = past_attempts("spring", now - 3000, people=60, machines=40, nobody=60)
    # a dial the server never saw end (it stopped meanwhile)
    history.append(AttemptStarted("spring-open-1", "spring", now - 100, "N39", f"{NY}4139", None))
    await seed(settings, config, LEADS, history, now - 3600)
    async with running(settings) as rig:
        engine = rig.campaigns.entry("spring").engine
        await rig.stored()
        (closed,) = [r for r in await rig.store().attempts("spring") if r["attempt_id"] == "spring-open-1"]
        assert (closed["result"], closed["hangup_by"]) == ("cancelled", "restart") and closed["ended_at"]
        window = engine.compliance.window_counts(time.time())
        assert (window.live, window.abandoned) == (60.0, 0.0)  # the meter came back from the store
        assert engine.stats.dials == 160
        status, _ = await rig.post("boss", "/api/campaigns/spring/start")
        assert status == 200
        async with coding(rig):
            await rig.until(lambda: len(rig.of(AttemptConnected)) >= 3, timeout=20)
        assert engine.mode is EffectiveMode.PREDICTIVE
        # only the instant before any agent joined: neither learning nor the abandon budget held it
        fallbacks = [m.reason for m in rig.of(CampaignModeChanged) if m.new == "predictive_fallback"]
        assert all(r.startswith("team of 0") for r in fallbacks), fallbacks
        # lines dialled for nobody in particular: more lines than agents waiting for them
        assert any(s.agent_id is None for s in rig.of(AttemptStarted))
        decisions = {a.decision for a in rig.of(AttemptAmd)}
        assert "human" in decisions
        for connected in rig.of(AttemptConnected):
            assert connected.wait <= 2.0  # the person hears the agent within the 2 s the law allows


async def test_near_the_cap_the_campaign_falls_back_to_progressive_and_says_why(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **MIX)
    now = time.time()
    config = campaign(
        mode="predictive", amd={"enabled": True, "false_positive_estimate": 0.0}, ring_timeout=4
    )
    history = past_attempts("spring", now - 3000, people=60, machines=40, nobody=60, abandoned=2)
    await seed(settings, config, LEADS, history, now - 3600)
    async with running(settings) as rig:
        status, _ = await rig.post("boss", "/api/campaigns/spring/start")
        assert status == 200
        async with coding(rig):
            await rig.until(lambda: len(rig.of(AttemptStarted)) >= 4, timeout=20)
        assert [m.new for m in rig.of(CampaignModeChanged)] == ["predictive_fallback"]
        assert all(s.agent_id is not None for s in rig.of(AttemptStarted))  # each line has its agent
        status, view = await rig.get("boss", "/api/campaigns/spring")
        tile = view["tile"]
        assert (tile["mode"], tile["chosen_mode"]) == ("predictive_fallback", "predictive")
        assert re.match(r"abandon rate 3\.\d\d% over the window", tile["mode_reason"]), tile
        assert "3% cap" in tile["mode_reason"]
