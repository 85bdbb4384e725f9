"""A call's timeline from the facts the store logged: every moment a supervisor asks about, in
order, with what each one measured (ring time, wait, hold, talk, wrap-up)."""

from __future__ import annotations

from collections.abc import Sequence

from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallEndedWithReason,
    CallHeld,
    CallOffered,
    CallQueued,
    CallRejected,
    CallResumed,
    CallTransferred,
    CallWrappedUp,
    Fact,
    IvrLeft,
    IvrNodeEntered,
    OfferEnded,
    OfferResult,
    Outcome,
    ScriptRunStarted,
    TransferProgress,
    TransferState,
)
from callserver.history.timeline import Entry, VoicemailMark, WrapupSpan, timeline
from callserver.store.facts import payload_of
from tests.facts.samples import one_of_each
from tests.store.facts import T0, answered_call, queued, timed_out_call

IVR = {
    "flow": "main",
    "language": "en",
    "choices": [{"menu": "menu", "key": "2", "to": "sales"}],
    "entered": {},
    "self_service": [],
    "customer_found": False,
    "outcome": "queue",
    "path": ["welcome", "menu", "sales"],
}


def logged(facts: Sequence[Fact]) -> list[tuple[str, dict[str, object]]]:
    """The facts as the event log holds them (kind and JSON payload), as the store hands them back."""
    return [(type(f).__name__, payload_of(f)) for f in facts]


def kinds(entries: list[Entry]) -> list[str]:
    return [e.kind.value for e in entries]


def test_answered_call_shows_ring_no_answer_then_answer_after_the_wait_and_talk_time() -> None:
    entries = timeline(logged(answered_call("c1")))
    assert kinds(entries) == ["queued", "offered", "ring_no_answer", "offered", "answered", "ended"]
    rna = entries[2]
    assert (rna.agent_id, rna.detail["rang"], rna.at) == ("a1", 15.0, T0 + 17)
    answered = entries[4]
    assert (answered.agent_id, answered.detail["wait"]) == ("a2", 21.0)
    assert entries[-1].detail["outcome"] == "answered"
    assert entries[-1].detail["talk"] == 69.0
    assert entries[-1].detail["ended_by"] is None  # the sample does not say whose line went first


def test_overflow_shows_the_queue_change_and_the_time_out() -> None:
    entries = timeline(logged(timed_out_call("c3")))
    assert kinds(entries) == ["queued", "offered", "ring_no_answer", "requeued", "ended"]
    assert entries[3].detail == {"from_queue": "sales", "to_queue": "support"}
    assert entries[-1].detail["outcome"] == "timed_out" and entries[-1].detail["talk"] is None


def test_ivr_path_comes_first_and_a_readopted_call_is_not_queued_twice() -> None:
    first = CallQueued("c", T0, "sales", "PJSIP/t-1", "+33140000001", "", "500", data={"ivr": IVR})
    again = CallQueued("c", T0 + 30, "sales", "PJSIP/t-1", "+33140000001", "", "500")
    entries = timeline(
        logged([first, again, CallEnded("c", T0 + 40, "sales", Outcome.ABANDONED, None, 40.0)])
    )
    assert kinds(entries) == ["ivr", "queued", "ended"]
    assert entries[0].detail["path"] == ["welcome", "menu", "sales"]
    assert entries[0].detail["choices"] == [{"menu": "menu", "key": "2", "to": "sales"}]


def test_hold_transfer_consultation_and_wrapup_with_code_and_note_in_order() -> None:
    facts: list[Fact] = [
        queued("c", T0),
        CallOffered("c", T0 + 1, "sales", "a1", "leg1", 1),
        CallAnswered("c", T0 + 3, "sales", "a1", 3.0),
        CallHeld("c", T0 + 10, "a1"),
        CallResumed("c", T0 + 25, "a1", 15.0),
        TransferProgress("c", T0 + 30, "a1", "consult", "number", "+33199000042", TransferState.RINGING),
        TransferProgress("c", T0 + 33, "a1", "consult", "number", "+33199000042", TransferState.ANSWERED),
        CallTransferred("c", T0 + 40, "a1", "consult", "+33199000042"),
        CallEnded("c", T0 + 40, "sales", Outcome.TRANSFERRED, "a1", 3.0),
        AgentStateChanged("a1", T0 + 40, "on_call", "wrapup", "c", T0 + 70),
        CallWrappedUp("c", T0 + 50, "a1", "escalated", "Passed to second line.", "agent1"),
        AgentStateChanged("a1", T0 + 51, "wrapup", "idle", "c"),
    ]
    entries = timeline(logged(facts))
    assert kinds(entries) == [
        "queued",
        "offered",
        "answered",
        "held",
        "resumed",
        "consultation",
        "consultation",
        "transferred",
        "ended",
        "wrapup_started",
        "wrapped_up",
        "wrapup_ended",
    ]
    assert entries[4].detail["held"] == 15.0
    assert [e.detail["state"] for e in entries[5:7]] == ["ringing", "answered"]
    assert entries[7].detail == {"to_kind": "consult", "target": "+33199000042"}
    wrapped = entries[10]
    assert (wrapped.detail["code"], wrapped.detail["note"], wrapped.detail["timed_out"]) == (
        "escalated",
        "Passed to second line.",
        False,
    )
    assert entries[11].detail["lasted"] == 11.0


def test_cancelled_offer_and_a_cut_call_say_why() -> None:
    facts: list[Fact] = [
        queued("c", T0),
        CallOffered("c", T0 + 1, "sales", "a1", "leg1", 1),
        OfferEnded("c", T0 + 4, "a1", "leg1", OfferResult.CANCELLED),
        CallEndedWithReason("c", T0 + 4, "sales", Outcome.FAILED, None, 4.0, "cut by the PBX", True),
    ]
    entries = timeline(logged(facts))
    assert kinds(entries) == ["queued", "offered", "offer_ended", "ended"]
    assert entries[2].detail == {"result": "cancelled", "rang": 3.0}
    assert (entries[3].detail["reason"], entries[3].detail["estimated"]) == ("cut by the PBX", True)


def test_voicemail_goes_where_it_happened_between_facts() -> None:
    facts: list[Fact] = [
        queued("c", T0),
        CallEnded("c", T0 + 60, "sales", Outcome.OVERFLOWED, None, 60.0),
        ScriptRunStarted("c", T0 + 200, "r1", "care", 1, "a1", None),
    ]
    mark = VoicemailMark(T0 + 90, 7, "queue:sales", 12.4, True, "new")
    entries = timeline(logged(facts), [mark])
    assert kinds(entries) == ["queued", "ended", "voicemail", "script_started"]
    assert entries[2].detail == {
        "voicemail_id": 7,
        "box": "queue:sales",
        "duration": 12.4,
        "has_audio": True,
        "status": "new",
    }


def test_every_fact_kind_is_read_and_agent_only_facts_add_nothing() -> None:
    # one instance of every fact: none makes the timeline fail; the agent's own facts are not the call's
    facts = one_of_each()
    entries = timeline(logged(facts))
    assert entries
    agent_only = timeline(logged([AgentStatusChanged("a1", T0, "available", "")]))
    assert agent_only == []


def test_rows_of_an_unknown_kind_are_left_out() -> None:
    rows = [("SomethingFromTheFuture", {"call_id": "c", "at": T0}), *logged([queued("c", T0)])]
    assert kinds(timeline(rows)) == ["queued"]


def test_the_end_of_a_wrapup_comes_from_the_state_history_when_no_fact_names_the_call() -> None:
    facts: list[Fact] = [
        *answered_call("c", T0),
        AgentStateChanged("a2", T0 + 90, "on_call", "wrapup", "c", T0 + 120),
        CallWrappedUp("c", T0 + 100, "a2", "", "", "", timed_out=True),
    ]
    entries = timeline(logged(facts), wrapups=[WrapupSpan("a2", T0 + 90, T0 + 120)])
    assert kinds(entries)[-3:] == ["wrapup_started", "wrapped_up", "wrapup_ended"]
    assert entries[-1].detail == {"lasted": 30.0} and entries[-1].agent_id == "a2"
    assert entries[-2].detail["code"] is None and entries[-2].detail["timed_out"] is True
    # stamped by another clock a moment before the code was saved: still after it
    early = timeline(logged(facts), wrapups=[WrapupSpan("a2", T0 + 90, T0 + 99.999)])
    assert kinds(early)[-2:] == ["wrapped_up", "wrapup_ended"]
    # told by the facts already: not twice
    told = [*facts, AgentStateChanged("a2", T0 + 120, "wrapup", "idle", "c")]
    again = timeline(logged(told), wrapups=[WrapupSpan("a2", T0 + 90, T0 + 120)])
    assert kinds(again).count("wrapup_ended") == 1


def test_ivr_nodes_show_at_the_times_they_were_reached_before_the_summary_and_the_queue() -> None:
    facts: list[Fact] = [
        IvrNodeEntered("c", T0 - 40, "main", "welcome"),
        IvrNodeEntered("c", T0 - 31, "main", "menu"),
        IvrNodeEntered("c", T0 - 12, "main", "sales"),
        IvrLeft("c", T0 - 1, "main", "sales", "queue"),
        CallQueued("c", T0, "sales", "PJSIP/t-1", "+33140000001", "", "500", data={"ivr": IVR}),
        CallEnded("c", T0 + 40, "sales", Outcome.ABANDONED, None, 40.0),
    ]
    entries = timeline(logged(facts))
    assert kinds(entries) == ["ivr_node", "ivr_node", "ivr_node", "ivr_left", "ivr", "queued", "ended"]
    assert [(e.at, e.detail["node"]) for e in entries[:3]] == [
        (T0 - 40, "welcome"),
        (T0 - 31, "menu"),
        (T0 - 12, "sales"),
    ]
    assert entries[3].detail == {"flow": "main", "node": "sales", "outcome": "queue"}
    assert entries[4].detail["path"] == ["welcome", "menu", "sales"]  # the summary as before


def test_a_caller_who_hangs_up_in_the_ivr_shows_where_they_were() -> None:
    facts: list[Fact] = [
        IvrNodeEntered("c", T0, "main", "welcome"),
        IvrNodeEntered("c", T0 + 8, "main", "menu"),
        IvrLeft("c", T0 + 20, "main", "menu", "hangup"),
        CallRejected("c", T0 + 20, "PJSIP/t-1", "+33140000001", "", "500", "hangup"),
    ]
    entries = timeline(logged(facts))
    assert kinds(entries) == ["ivr_node", "ivr_node", "ivr_left", "rejected"]
    assert (entries[2].at, entries[2].detail["outcome"], entries[2].detail["node"]) == (
        T0 + 20,
        "hangup",
        "menu",
    )
