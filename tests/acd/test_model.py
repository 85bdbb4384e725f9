"""The agent and call state machines, tested as the tables they are."""

from __future__ import annotations

import itertools

import pytest

from callserver.acd.model import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
    Agent,
    AgentSpec,
    AgentState,
    Call,
    CallState,
    InvalidTransition,
)


def make_agent(state: AgentState) -> Agent:
    a = Agent(spec=AgentSpec(id="a1", name="A", endpoint="PJSIP/a1"), queues=frozenset())
    a.state = state
    return a


def make_call(state: CallState) -> Call:
    c = Call(
        id="c1",
        channel="PJSIP/t-1",
        caller_num="1",
        caller_name="",
        dnis="5000",
        queue="q",
        arrived_at=0.0,
        queued_at=0.0,
        deadline=60.0,
    )
    c.state = state
    return c


def test_every_state_has_a_row_in_the_tables() -> None:
    assert set(AGENT_TRANSITIONS) == set(AgentState)
    assert set(CALL_TRANSITIONS) == set(CallState)


def test_agent_table_is_the_documented_cycle() -> None:
    assert {
        AgentState.IDLE: {AgentState.RINGING},
        AgentState.RINGING: {AgentState.IDLE, AgentState.ON_CALL},
        AgentState.ON_CALL: {AgentState.WRAPUP, AgentState.IDLE},
        AgentState.WRAPUP: {AgentState.IDLE},
    } == AGENT_TRANSITIONS


def test_call_table_only_ends_once() -> None:
    assert CALL_TRANSITIONS[CallState.ENDED] == frozenset()
    # a connected call goes back to waiting only when an agent transfers it
    assert CALL_TRANSITIONS[CallState.CONNECTED] == {CallState.WAITING, CallState.ENDED}
    assert CALL_TRANSITIONS[CallState.WAITING] == {CallState.OFFERING, CallState.ENDED}
    assert CALL_TRANSITIONS[CallState.OFFERING] == {CallState.WAITING, CallState.CONNECTED, CallState.ENDED}


@pytest.mark.parametrize(("old", "new"), list(itertools.product(AgentState, AgentState)))
def test_agent_move_follows_the_table(old: AgentState, new: AgentState) -> None:
    agent = make_agent(old)
    if new in AGENT_TRANSITIONS[old]:
        assert agent.move(new) is old
        assert agent.state is new
    else:
        with pytest.raises(InvalidTransition) as err:
            agent.move(new)
        assert str(err.value) == f"agent a1: cannot go from {old} to {new}"
        assert agent.state is old


@pytest.mark.parametrize(("old", "new"), list(itertools.product(CallState, CallState)))
def test_call_move_follows_the_table(old: CallState, new: CallState) -> None:
    call = make_call(old)
    if new in CALL_TRANSITIONS[old]:
        assert call.move(new) is old
        assert call.state is new
    else:
        with pytest.raises(InvalidTransition) as err:
            call.move(new)
        assert str(err.value) == f"call c1: cannot go from {old} to {new}"
        assert call.state is old


def test_transitions_are_logged_in_one_format(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="callserver.acd.transitions")
    make_agent(AgentState.IDLE).move(AgentState.RINGING)
    make_call(CallState.WAITING).move(CallState.OFFERING)
    assert [r.getMessage() for r in caplog.records] == [
        "agent a1: idle -> ringing",
        "call c1: waiting -> offering",
    ]
