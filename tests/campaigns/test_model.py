"""The campaign state machines, tested as the tables they are."""

from __future__ import annotations

import itertools

import pytest

from callserver.campaigns.model import (
    AGENT_TRANSITIONS,
    ATTEMPT_TRANSITIONS,
    LEAD_TRANSITIONS,
    MODE_TRANSITIONS,
    RUN_TRANSITIONS,
    AgentSlot,
    AmdSettings,
    Attempt,
    AttemptState,
    CampaignAgent,
    EffectiveMode,
    InvalidTransition,
    Lead,
    LeadState,
    RunState,
    TimeWindow,
    checked_move,
)


def test_every_state_has_a_row_in_its_table() -> None:
    assert set(RUN_TRANSITIONS) == set(RunState)
    assert set(MODE_TRANSITIONS) == set(EffectiveMode)
    assert set(LEAD_TRANSITIONS) == set(LeadState)
    assert set(ATTEMPT_TRANSITIONS) == set(AttemptState)
    assert set(AGENT_TRANSITIONS) == set(AgentSlot)


def test_ended_attempts_and_closed_leads_go_nowhere() -> None:
    assert ATTEMPT_TRANSITIONS[AttemptState.ENDED] == frozenset()
    for final in (LeadState.DONE, LeadState.DNC, LeadState.INVALID):
        assert LEAD_TRANSITIONS[final] == frozenset()


def test_only_predictive_falls_back_and_the_fallback_returns_to_predictive() -> None:
    entering = {m for m, nxt in MODE_TRANSITIONS.items() if EffectiveMode.PREDICTIVE_FALLBACK in nxt}
    assert entering == {EffectiveMode.PREDICTIVE}
    assert EffectiveMode.PREDICTIVE in MODE_TRANSITIONS[EffectiveMode.PREDICTIVE_FALLBACK]


def test_a_stopped_campaign_can_only_start() -> None:
    assert RUN_TRANSITIONS[RunState.STOPPED] == {RunState.RUNNING}
    assert RunState.STOPPED in RUN_TRANSITIONS[RunState.PAUSED]


@pytest.mark.parametrize(
    ("old", "new"),
    [(o, n) for o, n in itertools.product(AttemptState, AttemptState) if n not in ATTEMPT_TRANSITIONS[o]],
)
def test_every_move_outside_the_attempt_table_is_refused_naming_both_states(
    old: AttemptState, new: AttemptState
) -> None:
    attempt = Attempt(id="c-1", campaign="c", lead_id="L1", number="+15551234567", dialed_at=0.0)
    attempt.state = old
    with pytest.raises(InvalidTransition, match=f"attempt c-1: cannot go from {old} to {new}"):
        attempt.move(new)
    assert attempt.state is old


def test_lead_moves_follow_the_table() -> None:
    lead = Lead(id="L1", numbers=("+15551234567",), time_zones=("America/New_York",))
    lead.move(LeadState.DIALING)
    lead.move(LeadState.QUEUED)
    with pytest.raises(InvalidTransition, match="lead L1: cannot go from queued to done"):
        lead.move(LeadState.DONE)


def test_checked_move_returns_the_new_state() -> None:
    assert (
        checked_move(RUN_TRANSITIONS, "campaign", "c", RunState.RUNNING, RunState.PAUSED) is RunState.PAUSED
    )


def test_an_agent_on_a_call_cannot_be_taken_away_before_wrap_up() -> None:
    agent = CampaignAgent("a1")
    agent.move(AgentSlot.READY, 0.0)
    agent.move(AgentSlot.ON_CALL, 10.0)
    with pytest.raises(InvalidTransition):
        agent.move(AgentSlot.OFF, 20.0)


def test_agent_occupancy_counts_talk_and_wrap_up_over_logged_in_time() -> None:
    agent = CampaignAgent("a1")
    agent.move(AgentSlot.READY, 0.0)  # idle 0..20
    agent.move(AgentSlot.ON_CALL, 20.0)  # talk 20..80
    agent.move(AgentSlot.WRAPUP, 80.0)  # wrap 80..100
    agent.move(AgentSlot.READY, 100.0)
    assert agent.occupancy(100.0) == pytest.approx(0.8)
    assert agent.occupancy(200.0) == pytest.approx(0.4)


def test_amd_arguments_are_in_asterisk_order() -> None:
    assert AmdSettings().application_args() == "2500,1500,800,5000,100,50,3,256,5000"


def test_time_window_rejects_impossible_times() -> None:
    with pytest.raises(ValueError, match="25:00"):
        TimeWindow("25:00", "26:00").minutes()
