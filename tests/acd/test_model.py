"""The agent and call state machines, tested as the tables they are."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from callserver.acd import model as acd_model
from callserver.acd.expr import parse
from callserver.acd.model import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
    Agent,
    AgentSpec,
    AgentState,
    Call,
    CallState,
    InvalidTransition,
    QueueSpec,
)


def make_agent(state: AgentState) -> Agent:
    return Agent(spec=AgentSpec(id="a1", name="A", endpoint="PJSIP/a1"), queues=frozenset(), state=state)


def make_call(state: CallState) -> Call:
    return Call(
        id="c1",
        channel="PJSIP/t-1",
        caller_num="1",
        caller_name="",
        dnis="5000",
        queue="q",
        arrived_at=0.0,
        queued_at=0.0,
        deadline=60.0,
        state=state,
    )


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


def _state_assignments(path: Path) -> list[tuple[int, str]]:
    """(line, enclosing function) of every `<something>.state = ...` in a module."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            targets: list[ast.expr] = []
            if isinstance(child, ast.Assign):
                targets = child.targets
            elif isinstance(child, ast.AugAssign | ast.AnnAssign):
                targets = [child.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Attribute) and sub.attr == "state":
                        found.append((child.lineno, function))
            visit(child, function)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def test_state_changes_only_through_the_tables() -> None:
    """No engine part sets a call's or an agent's state by hand: only `move` does, via the table.

    (metrics.py keeps per-agent clocks of its own, fed by facts; it holds no engine objects.)
    """
    package = Path(acd_model.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        if path.name == "metrics.py":
            continue
        for line, function in _state_assignments(path):
            if not (path.name == "model.py" and function == "move"):
                offenders.append(f"{path.name}:{line} in {function or 'module'}")
    assert offenders == []


def test_a_queue_without_steps_requires_its_skills_parsed_once() -> None:
    spec = QueueSpec(name="sales", skills=frozenset({"french", "sales"}))
    (first,) = spec.routing_steps()
    (again,) = spec.routing_steps()
    assert again.requirement is first.requirement  # kept, not parsed at each call
    assert first.requirement == parse("french and sales")
    assert first.requirement.matches({"french": 1, "sales": 3})
    assert not first.requirement.matches({"sales": 3})
    (anyone,) = QueueSpec(name="all").routing_steps()
    assert anyone.requirement.matches({})
