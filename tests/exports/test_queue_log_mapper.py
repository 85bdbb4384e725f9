"""The queue_log mapper on facts (no I/O): each situation gives the lines app_queue would write,
as the independent reader and the documented field meanings see them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from callserver.facts.model import (
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallEndedWithReason,
    CallHeld,
    CallOffered,
    CallQueued,
    CallRequeued,
    CallResumed,
    CallTransferred,
    CallWrappedUp,
    Fact,
    OfferEnded,
    OfferResult,
    Outcome,
)
from callserver.queuelog.mapper import QueueLogMapper
from callserver.queuelog.model import clean

from .queue_log_reader import Line, parse
from .stays import stays

T = 1_700_000_000.0


def run(facts: list[Fact], **options: object) -> list[Line]:
    mapper = QueueLogMapper({"a1": ["sales", "support"], "a2": ["support"]}, **options)  # type: ignore[arg-type]
    text = "".join(entry.line() + "\n" for fact in facts for entry in mapper.on_fact(fact))
    return parse(text)


def queued(call: str, at: float, queue: str = "support", number: str = "+33140000001") -> CallQueued:
    return CallQueued(call, T + at, queue, f"PJSIP/x-{call}", number, "", "500")


def test_positions_count_callers_ahead_and_an_abandon_reports_where_the_caller_was() -> None:
    lines = run(
        [
            queued("c1", 0),
            queued("c2", 1),
            queued("c3", 2),
            CallEnded("c1", T + 5, "support", Outcome.ABANDONED, None, 5),
            CallEnded("c3", T + 9.7, "support", Outcome.ABANDONED, None, 7.7),
        ]
    )
    entered = {line.callid: line.number("position") for line in lines if line.event == "ENTERQUEUE"}
    assert entered == {"c1": 1, "c2": 2, "c3": 3}
    abandons = {line.callid: line for line in lines if line.event == "ABANDON"}
    assert abandons["c1"].data == {"position": "1", "origposition": "1", "waittime": "5"}
    # c1 left, so c3 (third on entry) was second when it hung up
    assert abandons["c3"].data == {"position": "2", "origposition": "3", "waittime": "7"}
    stays(lines)


def test_an_answered_call_connects_then_completes_with_hold_and_talk_times() -> None:
    lines = run(
        [
            queued("c1", 0.4),
            CallOffered("c1", T + 2.0, "support", "a2", "leg1", 1),
            OfferEnded("c1", T + 4.5, "a2", "leg1", OfferResult.NO_ANSWER),
            CallOffered("c1", T + 5.0, "support", "a1", "leg2", 2),
            CallAnswered("c1", T + 8.2, "support", "a1", 7.8),
            CallEnded("c1", T + 70.9, "support", Outcome.ANSWERED, "a1", 7.8),
            CallWrappedUp("c1", T + 80, "a1", "sale", "a note | with a pipe", "agent1"),
        ]
    )
    assert [line.event for line in lines] == [
        "DID",
        "ENTERQUEUE",
        "RINGNOANSWER",
        "CONNECT",
        "COMPLETECALLER",
        "CALLSTATUS",
    ]
    did, enter, rna, connect, complete, status = lines
    assert did.data == {"did": "500"} and enter.data["callerid"] == "+33140000001"
    assert (rna.agent, rna.number("ringtime_ms")) == ("Agent/a2", 2500)
    assert connect.agent == "Agent/a1"
    assert connect.data == {"holdtime": "8", "bridged_uniqueid": "leg2", "ringtime": "3"}
    assert complete.data == {"holdtime": "8", "calltime": "62", "origposition": "1"}
    assert (status.queue, status.agent, status.data) == ("support", "Agent/a1", {"status": "sale"})
    stays(lines)


def test_overflow_exits_with_timeout_and_enters_the_next_queue_as_the_same_call() -> None:
    lines = run(
        [
            queued("c1", 0),
            CallRequeued("c1", T + 30, "support", "sales"),
            CallAnswered("c1", T + 41, "sales", "a1", 41),
            CallEnded("c1", T + 50, "sales", Outcome.ANSWERED, "a1", 41),
        ]
    )
    assert [(line.event, line.queue) for line in lines if line.event != "DID"] == [
        ("ENTERQUEUE", "support"),
        ("EXITWITHTIMEOUT", "support"),
        ("ENTERQUEUE", "sales"),
        ("CONNECT", "sales"),
        ("COMPLETECALLER", "sales"),
    ]
    assert lines[-2].number("holdtime") == 11  # from entering sales, as app_queue counts a new Queue()
    stays(lines)


def test_blind_transfer_to_a_queue_ends_the_first_stay_and_starts_another() -> None:
    lines = run(
        [
            queued("c1", 0),
            CallAnswered("c1", T + 3, "support", "a1", 3),
            CallTransferred("c1", T + 20, "a1", "queue", "sales"),
            CallAnswered("c1", T + 24, "sales", "a2", 24),
            CallEnded("c1", T + 40, "sales", Outcome.ANSWERED, "a2", 24, ended_by="agent"),
        ]
    )
    transfer = next(line for line in lines if line.event == "BLINDTRANSFER")
    assert transfer.data == {
        "extension": "sales",
        "context": "queue",
        "holdtime": "3",
        "calltime": "17",
        "origposition": "1",
    }
    two = stays(lines)["c1"]
    assert [(s.queue, s.ended.event if s.ended else None) for s in two] == [
        ("support", "BLINDTRANSFER"),
        ("sales", "COMPLETEAGENT"),  # the agent's line went first
    ]


def test_a_transfer_out_or_a_consultation_writes_no_completion_afterwards() -> None:
    lines = run(
        [
            queued("c1", 0),
            CallAnswered("c1", T + 3, "support", "a1", 3),
            CallTransferred("c1", T + 20, "a1", "consult", "a2"),
            CallEnded("c1", T + 40, "support", Outcome.ANSWERED, "a2", 3),
            queued("c2", 50),
            CallAnswered("c2", T + 53, "support", "a1", 3),
            CallTransferred("c2", T + 60, "a1", "number", "+33199000042"),
            CallEnded("c2", T + 60, "support", Outcome.TRANSFERRED, "a1", 3),
        ]
    )
    events = [line.event for line in lines if line.event not in ("DID", "ENTERQUEUE", "CONNECT")]
    assert events == ["ATTENDEDTRANSFER", "BLINDTRANSFER"]
    assert lines[3].data["target"] == "Agent/a2"
    stays(lines)


def test_status_changes_become_member_and_pause_lines_for_each_queue_of_the_agent() -> None:
    lines = run(
        [
            AgentStatusChanged("a1", T, "available", ""),
            AgentStatusChanged("a1", T + 10, "paused", "lunch"),
            AgentStatusChanged("a1", T + 20, "paused", "lunch"),  # no change: no line
            AgentStatusChanged("a1", T + 30, "available", ""),
            AgentStatusChanged("a2", T + 40, "paused", "training"),
            AgentStatusChanged("a1", T + 50, "logged_out", ""),
        ]
    )
    seen = [(line.event, line.queue, line.agent, tuple(line.data.values())) for line in lines]
    assert seen == [
        ("ADDMEMBER", "sales", "Agent/a1", ("",)),
        ("ADDMEMBER", "support", "Agent/a1", ("",)),
        ("PAUSEALL", "NONE", "Agent/a1", ("lunch",)),
        ("PAUSE", "sales", "Agent/a1", ("lunch",)),
        ("PAUSE", "support", "Agent/a1", ("lunch",)),
        ("UNPAUSEALL", "NONE", "Agent/a1", ("",)),
        ("UNPAUSE", "sales", "Agent/a1", ("",)),
        ("UNPAUSE", "support", "Agent/a1", ("",)),
        ("ADDMEMBER", "support", "Agent/a2", ("PAUSED",)),
        ("PAUSE", "support", "Agent/a2", ("training",)),
        ("REMOVEMEMBER", "sales", "Agent/a1", ("",)),
        ("REMOVEMEMBER", "support", "Agent/a1", ("",)),
    ]
    assert {line.callid for line in lines if "MEMBER" in line.event} == {"MANAGER"}


def test_a_call_cut_by_the_pbx_says_why_then_ends_as_app_queue_would() -> None:
    lines = run(
        [
            queued("c1", 0),
            CallEndedWithReason("c1", T + 9, "support", Outcome.FAILED, None, 9, "pbx restarted", True),
        ]
    )
    assert [(line.event, tuple(line.data.values())) for line in lines[2:]] == [
        ("INFO", ("ENDED", "pbx restarted")),
        ("ABANDON", ("1", "1", "9")),
    ]


def test_values_cannot_break_a_line_or_shift_its_fields() -> None:
    lines = run(
        [
            CallQueued("c|1", T, "support", "PJSIP/x", "12|34\n56", "name", "5|00"),
            CallEnded("c|1", T + 2, "support", Outcome.ABANDONED, None, 2),
        ]
    )
    assert [line.event for line in lines] == ["DID", "ENTERQUEUE", "ABANDON"]
    assert lines[1].callid == "c_1" and lines[1].data["callerid"] == "12_34 56"


def test_voicemail_tasks_are_not_queue_calls() -> None:
    facts: list[Fact] = [
        CallQueued("vm-1", T, "support", "", "", "", "", kind="voicemail"),
        CallAnswered("vm-1", T + 1, "support", "a1", 1),
        CallEnded("vm-1", T + 9, "support", Outcome.ANSWERED, "a1", 1),
    ]
    assert run(facts) == []


def test_the_member_prefix_is_configurable() -> None:
    lines = run([AgentStatusChanged("a2", T, "available", "")], member_prefix="PJSIP/")
    assert [line.agent for line in lines] == ["PJSIP/a2"]


def test_hold_and_callback_key_lines() -> None:
    lines = run(
        [
            queued("c1", 0),
            CallAnswered("c1", T + 3, "support", "a1", 3),
            CallHeld("c1", T + 10, "a1"),
            CallResumed("c1", T + 25.5, "a1", 15.5),
            CallEnded("c1", T + 30, "support", Outcome.ANSWERED, "a1", 3),
            queued("c2", 40),
            queued("c3", 41),
            CallbackRequested("c3", T + 47, "support", "+33140000009"),
            CallOffered("c3", T + 60, "support", "a2", "leg9", 1),  # the callback task: not a caller
            CallEnded("c3", T + 90, "support", Outcome.ANSWERED, "a2", 7),
        ],
        callback_keys={"support": "5"},
    )
    held = [(line.event, line.agent, line.data) for line in lines if "HOLD" in line.event]
    assert held == [
        ("CALLERONHOLD", "Agent/a1", {"empty": ""}),
        ("CALLEROFFHOLD", "Agent/a1", {"held": "15"}),
    ]
    assert [(line.event, line.data) for line in lines if line.callid == "c3"][-1] == (
        "EXITWITHKEY",
        {"key": "5", "position": "2", "origposition": "2", "waittime": "6"},
    )
    stays(lines)


@given(st.text())
def test_a_cleaned_value_keeps_every_character_but_pipes_and_control_characters(value: str) -> None:
    cleaned = clean(value)
    assert len(cleaned) == len(value)
    for before, after in zip(value, cleaned, strict=True):
        if before == "|":
            assert after == "_"
        elif ord(before) < 32 or before == "\x7f":
            assert after == " "
        else:
            assert after == before
