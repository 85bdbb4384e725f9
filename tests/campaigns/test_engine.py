"""Campaign engine flows on a virtual clock: each mode, AMD, drops, DNC, windows, callbacks, guard."""

from __future__ import annotations

from datetime import datetime

import pytest

from callserver.campaigns.commands import (
    ConnectToAgent,
    Dial,
    HangUp,
    LeaveMachineMessage,
    OfferPreview,
    PlayInfoMessageAndHangup,
)
from callserver.campaigns.engine import DialProgress, NotAllowed
from callserver.campaigns.facts import (
    AttemptEnded,
    CallbackBooked,
    CampaignModeChanged,
    DialRefused,
    PreviewSkipped,
)
from callserver.campaigns.leads import local_time_to_epoch
from callserver.campaigns.model import (
    AgentSlot,
    AmdDecision,
    AmdSettings,
    Callback,
    DialMode,
    EffectiveMode,
    InvalidTransition,
    LeadState,
    MachineHandling,
)
from callserver.campaigns.pacer import PredictiveSettings

from .driver import NY, Run, campaign, leads, local


def progressive(n_leads: int = 5, **kw: object) -> Run:
    return Run.build(campaign(mode=DialMode.PROGRESSIVE, **kw), leads(n_leads))


def test_progressive_dials_one_reserved_line_per_ready_agent_and_connects_that_agent() -> None:
    run = progressive()
    run.take(run.engine.start(run.now))
    assert run.dials() == []  # nobody to dial for
    cmds = run.take(run.engine.agent_ready("a1", run.now))
    (dial,) = run.dials(cmds)
    assert (dial.agent_id, dial.caller_id, dial.amd_args, dial.ring_timeout) == (
        "a1",
        "+12025550100",
        None,
        25.0,
    )
    assert run.engine.agents["a1"].slot is AgentSlot.RESERVED
    run.now += 1
    run.take(run.engine.dial_result(dial.attempt_id, DialProgress.RINGING, run.now))
    run.now += 6
    cmds = run.take(run.engine.dial_result(dial.attempt_id, DialProgress.ANSWERED, run.now))
    assert cmds == [ConnectToAgent(dial.attempt_id, "a1")]
    run.take(run.engine.connected_to_agent(dial.attempt_id, run.now))
    run.now += 100
    run.take(run.engine.hangup(dial.attempt_id, run.now))
    assert run.engine.agents["a1"].slot is AgentSlot.WRAPUP
    run.now += 20
    cmds = run.take(run.engine.agent_wrapup_done("a1", run.now, outcome="sale"))
    assert len(run.dials(cmds)) == 1  # the agent is ready again: the next lead is dialled
    ended = [f for f in run.facts if isinstance(f, AttemptEnded)]
    assert [(e.result, e.abandoned, e.agent_id) for e in ended] == [("connected", False, "a1")]
    assert run.engine.leads.get(dial.lead_id).state is LeadState.DONE


def test_progressive_failed_line_frees_the_agent_for_the_next_lead() -> None:
    run = progressive()
    run.take(run.engine.start(run.now))
    (dial,) = run.dials(run.take(run.engine.agent_ready("a1", run.now)))
    run.now += 3
    cmds = run.take(run.engine.dial_result(dial.attempt_id, DialProgress.BUSY, run.now))
    (again,) = run.dials(cmds)
    assert again.agent_id == "a1" and again.lead_id != dial.lead_id
    lead = run.engine.leads.get(dial.lead_id)
    assert lead.state is LeadState.QUEUED and lead.next_at == pytest.approx(run.now + 600)


def amd_predictive(**kw: object) -> Run:
    c = campaign(mode=DialMode.PREDICTIVE, amd=AmdSettings(enabled=True), **kw)
    return Run.build(c, leads(20), predictive=PredictiveSettings(min_agents=1))


def test_amd_machine_is_hung_up_or_given_the_message() -> None:
    for handling, expected in (
        (MachineHandling.HANG_UP, HangUp),
        (MachineHandling.LEAVE_MESSAGE, LeaveMachineMessage),
    ):
        run = amd_predictive(machine_handling=handling, machine_message="acme-vm")
        run.take(run.engine.start(run.now))
        run.take(run.engine.agent_ready("a1", run.now))
        dial = run.dials(run.advance(1.0))[0]  # predictive dials on its tick
        assert dial.amd_args == AmdSettings().application_args()
        run.now += 8
        assert run.take(run.engine.dial_result(dial.attempt_id, DialProgress.ANSWERED, run.now)) == []
        run.now += 3.5
        cmds = run.take(run.engine.amd_result(dial.attempt_id, AmdDecision.MACHINE, run.now))
        assert any(isinstance(c, expected) for c in cmds)
        run.now += 1
        run.take(run.engine.hangup(dial.attempt_id, run.now, by="us"))
        ended = next(f for f in run.facts if isinstance(f, AttemptEnded))
        assert ended.amd == "machine" and ended.amd_duration == pytest.approx(3.5)
        assert ended.result == ("machine" if handling is MachineHandling.HANG_UP else "machine_message")


def test_person_with_no_agent_hears_the_information_message_and_counts_as_abandoned() -> None:
    run = amd_predictive()
    run.take(run.engine.start(run.now))
    run.take(run.engine.agent_ready("a1", run.now))
    first = run.dials(run.advance(1.0))[0]
    # the agent takes the first person
    run.now += 5
    run.take(run.engine.dial_result(first.attempt_id, DialProgress.ANSWERED, run.now))
    run.now += 2
    cmds = run.take(run.engine.amd_result(first.attempt_id, AmdDecision.HUMAN, run.now))
    assert cmds == [ConnectToAgent(first.attempt_id, "a1")]
    run.take(run.engine.connected_to_agent(first.attempt_id, run.now))
    # a second line (dialled by hand through the engine's own path) finds nobody free
    lead = run.engine.leads.pop_next(run.now)
    assert lead is not None
    (second,) = run.dials(run.take(run.engine._launch(lead, lead.numbers[0], None, run.now)))
    run.take(run.engine.dial_result(second.attempt_id, DialProgress.ANSWERED, run.now))
    run.now += 2
    assert run.take(run.engine.amd_result(second.attempt_id, AmdDecision.HUMAN, run.now)) == []
    cmds = run.advance(1.7)  # the grace (2 s less the margin) runs out
    assert PlayInfoMessageAndHangup(second.attempt_id, "acme-info", "Acme", "+12025550100") in cmds
    counts = run.engine.compliance.window_counts(run.now)
    fp = 0.02 / 0.98
    assert counts.abandoned == pytest.approx(1 + 2 * fp)
    assert counts.live == pytest.approx(2 + 2 * fp)
    run.now += 8
    run.take(run.engine.hangup(second.attempt_id, run.now, by="us"))
    ended = [f for f in run.facts if isinstance(f, AttemptEnded)]
    assert [(e.result, e.abandoned, e.info_message) for e in ended] == [("abandoned", True, True)]


def test_an_agent_freed_within_the_grace_takes_the_waiting_person() -> None:
    run = amd_predictive()
    run.take(run.engine.start(run.now))
    run.take(run.engine.agent_ready("a1", run.now))
    first = run.dials(run.advance(1.0))[0]
    run.take(run.engine.dial_result(first.attempt_id, DialProgress.ANSWERED, run.now))
    run.take(run.engine.amd_result(first.attempt_id, AmdDecision.HUMAN, run.now))
    run.take(run.engine.connected_to_agent(first.attempt_id, run.now))
    run.take(run.engine.hangup(first.attempt_id, run.now + 60))
    lead = run.engine.leads.pop_next(run.now)
    assert lead is not None
    (second,) = run.dials(run.take(run.engine._launch(lead, lead.numbers[0], None, run.now + 61)))
    run.now += 62
    run.take(run.engine.dial_result(second.attempt_id, DialProgress.ANSWERED, run.now))
    run.take(run.engine.amd_result(second.attempt_id, AmdDecision.HUMAN, run.now))
    run.now += 1.0
    cmds = run.take(run.engine.agent_wrapup_done("a1", run.now, outcome="sale"))
    assert ConnectToAgent(second.attempt_id, "a1") in cmds
    run.take(run.engine.connected_to_agent(second.attempt_id, run.now))
    assert run.engine.compliance.window_counts(run.now).abandoned == pytest.approx(2 * 0.02 / 0.98)


def test_dnc_added_mid_campaign_is_not_dialled_again() -> None:
    run = progressive(n_leads=2)
    run.take(run.engine.start(run.now))
    (dial,) = run.dials(run.take(run.engine.agent_ready("a1", run.now)))
    number = dial.number
    run.take(run.engine.dial_result(dial.attempt_id, DialProgress.NO_ANSWER, run.now + 25))
    run.engine.add_dnc(number, run.now, source="agent:a2")
    run.advance(4 * 3600)  # well past the retry delay
    assert [d.number for d in run.dials()].count(number) == 1
    assert run.engine.leads.get(dial.lead_id).state is LeadState.DNC


def test_calling_hours_follow_each_leads_time_zone() -> None:
    c = campaign(mode=DialMode.PROGRESSIVE)
    west = leads(1, zone="America/Los_Angeles")
    run = Run.build(c, west, start="2025-03-04T10:00")  # 07:00 in Los Angeles
    run.take(run.engine.start(run.now))
    assert run.dials(run.take(run.engine.agent_ready("a1", run.now))) == []
    (refused,) = [f for f in run.facts if isinstance(f, DialRefused)]
    assert refused.rules == ("calling_hours",)
    assert refused.next_at == local("2025-03-04T08:00", "America/Los_Angeles")
    run.advance(3599)
    assert run.dials() == []
    run.advance(2)
    assert len(run.dials()) == 1
    assert run.now - 2 <= local("2025-03-04T08:00", "America/Los_Angeles") <= run.now


def test_callback_is_dialled_at_its_local_time_for_the_agent_who_booked_it() -> None:
    run = progressive(n_leads=1)
    run.take(run.engine.start(run.now))
    (dial,) = run.dials(run.take(run.engine.agent_ready("a1", run.now)))
    run.take(run.engine.agent_ready("a2", run.now))
    run.take(run.engine.dial_result(dial.attempt_id, DialProgress.ANSWERED, run.now + 5))
    run.take(run.engine.connected_to_agent(dial.attempt_id, run.now + 5))
    run.take(run.engine.hangup(dial.attempt_id, run.now + 60))
    at = local_time_to_epoch(datetime(2025, 3, 4, 15, 30), NY)
    run.take(
        run.engine.agent_wrapup_done("a1", run.now + 70, outcome="call_back", callback=Callback(at, "a1"))
    )
    run.now += 70
    (booked,) = [f for f in run.facts if isinstance(f, CallbackBooked)]
    assert (booked.callback_at, booked.agent_id) == (at, "a1")
    run.take(run.engine.agent_unavailable("a1", run.now))  # a1 goes on break
    run.advance(at - run.now + 5)
    assert len(run.dials()) == 1  # due, but a2 may not take a1's callback
    run.take(run.engine.agent_ready("a1", run.now))
    (callback_dial,) = run.dials()[1:]
    assert callback_dial.agent_id == "a1" and callback_dial.lead_id == dial.lead_id


def test_preview_offers_a_lead_the_agent_skips_then_one_that_dials_itself() -> None:
    run = Run.build(campaign(mode=DialMode.PREVIEW, preview_auto_dial=10.0), leads(3))
    run.take(run.engine.start(run.now))
    cmds = run.take(run.engine.agent_ready("a1", run.now))
    (offer,) = [c for c in cmds if isinstance(c, OfferPreview)]
    assert offer.auto_dial_at == run.now + 10.0
    run.now += 3
    cmds = run.take(run.engine.preview_skip("a1", "wrong segment", run.now))
    (skipped,) = [f for f in run.facts if isinstance(f, PreviewSkipped)]
    assert skipped.reason == "wrong segment"
    (second,) = [c for c in cmds if isinstance(c, OfferPreview)]
    assert second.lead_id != offer.lead_id
    cmds = run.advance(10.0)
    (dial,) = run.dials(cmds)
    assert dial.lead_id == second.lead_id and dial.agent_id == "a1"


def test_predictive_falls_back_to_progressive_near_the_cap_and_says_why() -> None:
    c = campaign(mode=DialMode.PREDICTIVE)
    run = Run.build(c, leads(50), predictive=PredictiveSettings(min_agents=1, min_dials=0))
    meter = run.engine.compliance.meter
    for _ in range(100):
        meter.live_answer(run.now - 60)
    for _ in range(3):
        meter.abandoned(run.now - 60)  # 3 % already
    run.take(run.engine.agent_ready("a1", run.now))
    run.take(run.engine.start(run.now))
    run.advance(1.5)
    (change,) = [f for f in run.facts if isinstance(f, CampaignModeChanged)]
    assert change.new == EffectiveMode.PREDICTIVE_FALLBACK
    assert "3% cap" in change.reason
    assert all(d.agent_id == "a1" for d in run.dials())  # reserved: progressive
    for _ in range(100):
        meter.live_answer(run.now)  # 3 of 200: 3 abandons of headroom again
    run.advance(1.5)
    modes = [f.new for f in run.facts if isinstance(f, CampaignModeChanged)]
    assert modes[-1] == EffectiveMode.PREDICTIVE


def test_small_team_dials_progressively() -> None:
    run = Run.build(campaign(mode=DialMode.PREDICTIVE), leads(10))
    run.take(run.engine.start(run.now))
    run.take(run.engine.agent_ready("a1", run.now))
    run.advance(2)
    assert run.engine.mode is EffectiveMode.PREDICTIVE_FALLBACK
    assert "team of 1" in run.engine.mode_reason


def test_an_agent_taken_by_inbound_is_no_longer_counted_and_frees_its_line() -> None:
    run = progressive()
    run.take(run.engine.start(run.now))
    (dial,) = run.dials(run.take(run.engine.agent_ready("a1", run.now)))
    run.take(run.engine.agent_unavailable("a1", run.now + 1))
    assert run.engine.view(run.now + 1).agents == 0
    assert run.engine.attempts[dial.attempt_id].reserved_for is None
    with pytest.raises(NotAllowed, match="wrap-up"):
        run.engine.agent_wrapup_done("a1", run.now + 2)


def test_stop_hangs_up_unanswered_lines_and_ends_every_attempt() -> None:
    run = progressive()
    run.take(run.engine.start(run.now))
    run.take(run.engine.agent_ready("a1", run.now))
    run.take(run.engine.agent_ready("a2", run.now))
    cmds = run.take(run.engine.stop(run.now + 2))
    assert len([c for c in cmds if isinstance(c, HangUp)]) == 2
    assert sorted(f.result for f in run.facts if isinstance(f, AttemptEnded)) == ["cancelled", "cancelled"]
    assert run.engine.attempts == {}


def test_a_line_the_pbx_forgets_is_hung_up_and_recorded() -> None:
    run = progressive()
    run.take(run.engine.start(run.now))
    (dial,) = run.dials(run.take(run.engine.agent_ready("a1", run.now)))
    cmds = run.advance(25 + 31)
    assert HangUp(dial.attempt_id, "no progress from the PBX") in cmds
    ended = [f for f in run.facts if isinstance(f, AttemptEnded)]
    assert [e.result for e in ended] == ["cancelled"]


def test_impossible_pbx_report_is_an_error_naming_the_states() -> None:
    run = progressive()
    run.take(run.engine.start(run.now))
    (dial,) = run.dials(run.take(run.engine.agent_ready("a1", run.now)))
    run.take(run.engine.dial_result(dial.attempt_id, DialProgress.ANSWERED, run.now + 5))
    with pytest.raises(InvalidTransition, match="cannot go from connecting to answered"):
        run.engine.dial_result(dial.attempt_id, DialProgress.ANSWERED, run.now + 6)


def test_unknown_outcome_code_is_refused_and_the_call_kept() -> None:
    run = progressive()
    run.take(run.engine.start(run.now))
    (dial,) = run.dials(run.take(run.engine.agent_ready("a1", run.now)))
    run.take(run.engine.dial_result(dial.attempt_id, DialProgress.ANSWERED, run.now + 5))
    run.take(run.engine.connected_to_agent(dial.attempt_id, run.now + 5))
    run.take(run.engine.hangup(dial.attempt_id, run.now + 50))
    with pytest.raises(NotAllowed, match="'bogus'"):
        run.engine.agent_wrapup_done("a1", run.now + 60, outcome="bogus")
    run.take(run.engine.agent_wrapup_done("a1", run.now + 61, outcome="remove"))
    assert run.engine.dnc.blocked(dial.number, "spring") is not None


def test_a_campaign_the_law_forbids_does_not_start() -> None:
    run = Run.build(campaign(ring_timeout=10.0), leads(1))
    with pytest.raises(NotAllowed, match="ring_timeout"):
        run.engine.start(run.now)


def test_dials_follow_the_trunk_rate() -> None:
    c = campaign(mode=DialMode.PROGRESSIVE, dials_per_second=2.0)
    run = Run.build(c, leads(20))
    run.take(run.engine.start(run.now))
    for i in range(6):
        run.take(run.engine.agent_ready(f"a{i}", run.now))
    assert len(run.dials()) == 2
    run.advance(1.0)
    assert len(run.dials()) == 4
    assert all(isinstance(d, Dial) for d in run.dials())


def test_the_monitor_tile_shows_mode_lines_windows_and_the_list() -> None:
    from callserver.campaigns.monitor import snapshot

    run = progressive(n_leads=10)
    run.take(run.engine.start(run.now))
    run.take(run.engine.agent_ready("a1", run.now))
    run.take(run.engine.agent_ready("a2", run.now))
    run.engine.compliance.meter.live_answer(run.now)
    tile = snapshot(run.engine, run.now, dials_per_hour=4.0)
    assert (tile.mode, tile.state, tile.agents, tile.lines_in_flight) == ("progressive", "running", 2, 2)
    assert tile.lines_per_agent == 1.0
    assert [(w.window, w.cap) for w in tile.windows] == [(86_400.0, None), (30 * 86_400.0, 0.03)]
    assert tile.windows[1].live == 1
    assert tile.leads_left == 8 and tile.list_runs_out_in == pytest.approx(2 * 3600.0)


def test_attempt_ids_carry_the_run_prefix_so_they_never_repeat_across_restarts() -> None:
    from callserver.campaigns.engine import CampaignEngine
    from callserver.campaigns.leads import LeadBook
    from callserver.campaigns.model import RetryPolicy
    from callserver.campaigns.rules import rule_set

    c = campaign(mode=DialMode.PROGRESSIVE)
    ids = []
    for prefix in ("r1-", "r2-"):
        engine = CampaignEngine(c, LeadBook(leads(1), retry=RetryPolicy()), rule_set("us"), id_prefix=prefix)
        now = local("2025-03-04T10:00")
        engine.start(now)
        ids += [cmd.attempt_id for cmd in engine.agent_ready("a1", now) if isinstance(cmd, Dial)]
    assert ids == ["spring-r1-1", "spring-r2-1"]
