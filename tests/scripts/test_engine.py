"""The script engine: moves (answer, forward, back, jump), the commands of every action, views and records."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from callserver.scripts.answers import AnswerError
from callserver.scripts.commands import (
    CreateTask,
    End,
    ScheduleCallback,
    SetCustomerField,
    SetOutcome,
    TransferToAgent,
    TransferToQueue,
)
from callserver.scripts.engine import AnswerRequired, NavigationError, RunContext, ScriptRun, StaleStep
from callserver.scripts.record import ALLOWED, EventKind, RunStateError, RunStatus, check_transition
from tests.scripts.helpers import JEANNE, NOW, agent_run, load, web_run, xml

A = "alice"
LATER = NOW + timedelta(minutes=1)

NAV = load(
    xml(
        '<step id="a"><ask-yes-no name="ok"><label>OK?</label></ask-yes-no>'
        '<set-field field="payment_plan" value="ok={data.ok}"/>'
        '<branch when="data.ok == true" to="b"/><next to="c"/></step>\n'
        '<step id="b"><ask-text name="why" required="false"><label>Why?</label></ask-text><next to="d"/>'
        "</step>\n"
        '<step id="c"><ask-number name="n"><label>How many?</label></ask-number><next to="d"/></step>\n'
        '<step id="d"><say>Noted.</say><schedule-callback queue="billing" agent="self" after="PT2H"/>'
        '<next to="e"/></step>\n'
        '<step id="e"><ask-yes-no name="again"><label>Anything else?</label></ask-yes-no><end/></step>'
    )
)


def test_a_run_starts_at_the_start_step_with_nothing_answered() -> None:
    run = agent_run(NAV)
    assert (run.step, run.path, run.answers, run.status) == ("a", ("a",), (), RunStatus.ACTIVE)


def test_forward_needs_the_required_answer_first_and_changes_nothing() -> None:
    run = agent_run(NAV)
    with pytest.raises(AnswerRequired, match="question 'ok' at step 'a' needs an answer first"):
        run.forward(by=A, now=NOW)
    assert (run.step, run.record().events) == ("a", ())


def test_an_optional_question_may_be_left_unanswered() -> None:
    run = agent_run(NAV)
    run.answer("a", "yes", by=A, now=NOW)
    run.forward(by=A, now=NOW)
    run.forward(by=A, now=NOW)
    assert run.step == "d"
    assert [a.question for a in run.answers] == ["ok"]


def test_an_answer_for_another_step_is_refused_as_stale() -> None:
    run = agent_run(NAV)
    with pytest.raises(StaleStep, match="the run is at step 'a', not 'c'"):
        run.answer("c", "3", by=A, now=NOW)


def test_a_step_without_a_question_takes_no_answer() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    run.submit("c", "3", by=A, now=NOW)
    with pytest.raises(NavigationError, match="step 'd' asks no question"):
        run.answer("d", "x", by=A, now=NOW)


def test_an_invalid_answer_is_not_stored() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    with pytest.raises(AnswerError, match=r"^Enter a number\.$"):
        run.answer("c", "three", by=A, now=NOW)
    view = run.view(NOW)
    assert view.question is not None and view.question.answer is None
    assert [e.kind for e in run.record().events] == [EventKind.ANSWERED, EventKind.FORWARD]


def test_a_required_answer_cannot_be_cleared_but_an_optional_one_can() -> None:
    run = agent_run(NAV)
    with pytest.raises(AnswerError, match=r"^An answer is required\.$"):
        run.answer("a", "  ", by=A, now=NOW)
    run.submit("a", "yes", by=A, now=NOW)
    run.answer("b", "because", by=A, now=NOW)
    run.answer("b", "", by=A, now=LATER)
    assert [a.question for a in run.answers] == ["ok"]
    assert run.record().events[-1].kind is EventKind.CLEARED


def test_going_back_keeps_answers_and_forward_again_finds_them() -> None:
    run = agent_run(NAV)
    run.submit("a", "yes", by=A, now=NOW)
    run.answer("b", "because", by=A, now=NOW)
    run.back(by=A, now=LATER)
    view = run.view(LATER)
    assert view.step == "a"
    assert view.question is not None and (view.question.answer, view.question.shown) == ("true", "yes")
    assert run.path == ("a",)
    run.forward(by=A, now=LATER)
    view = run.view(LATER)
    assert view.question is not None and view.question.answer == "because"
    assert [a.text for a in run.answers] == ["true", "because"]


def test_a_changed_answer_that_leads_elsewhere_drops_the_way_not_taken() -> None:
    run = agent_run(NAV)
    run.submit("a", "yes", by=A, now=NOW)
    run.answer("b", "because", by=A, now=NOW)
    run.back(by=A, now=NOW)
    run.answer("a", "no", by=A, now=NOW)
    run.forward(by=A, now=NOW)
    assert run.path == ("a", "c")
    assert [(a.question, a.text) for a in run.answers] == [("ok", "false")]
    run.back(by=A, now=NOW)
    run.answer("a", "yes", by=A, now=NOW)
    run.forward(by=A, now=NOW)
    view = run.view(NOW)
    assert view.step == "b" and view.question is not None and view.question.answer is None


def test_fields_are_set_again_with_the_new_value_after_going_back() -> None:
    run = agent_run(NAV)
    first = run.submit("a", "yes", by=A, now=NOW)
    run.back(by=A, now=NOW)
    run.answer("a", "no", by=A, now=NOW)
    second = run.forward(by=A, now=NOW)
    assert first == [SetCustomerField("run-1", 7, "payment_plan", "ok=true")]
    assert second == [SetCustomerField("run-1", 7, "payment_plan", "ok=false")]
    assert run.resolve("customer.payment_plan") == "ok=false"


def test_back_at_the_first_step_is_refused() -> None:
    run = agent_run(NAV)
    with pytest.raises(NavigationError, match="already at the first step"):
        run.back(by=A, now=NOW)


def test_back_past_a_callback_already_scheduled_is_refused() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    run.submit("c", "4", by=A, now=NOW)
    commands = run.forward(by=A, now=NOW)
    assert [type(c) for c in commands] == [ScheduleCallback]
    assert not run.view(NOW).can_back
    with pytest.raises(
        NavigationError, match="cannot go back: step 'd' made a callback, which cannot be undone"
    ):
        run.back(by=A, now=NOW)
    assert run.step == "e"


def test_jump_back_to_a_step_on_the_path() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    run.answer("c", "4", by=A, now=NOW)
    assert run.jump("a", by=A, now=NOW) == []
    assert (run.step, run.record().events[-1].kind) == ("a", EventKind.JUMP)


def test_jump_forward_completes_the_steps_passed_along_the_answers() -> None:
    run = agent_run(NAV)
    run.submit("a", "yes", by=A, now=NOW)
    run.back(by=A, now=NOW)
    commands = run.jump("d", by=A, now=NOW)
    assert run.path == ("a", "b", "d")
    assert commands == [SetCustomerField("run-1", 7, "payment_plan", "ok=true")]


def test_jump_past_an_unanswered_required_question_is_refused_and_changes_nothing() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    before = run.record()
    with pytest.raises(
        NavigationError, match="cannot jump to 'e': question 'n' at step 'c' needs an answer first"
    ):
        run.jump("e", by=A, now=NOW)
    assert run.record() == before


def test_jump_to_a_step_the_answers_do_not_lead_to_is_refused() -> None:
    script = load(
        xml(
            '<step id="a"><branch when="call.self_service" to="x"/><next to="b"/></step>\n'
            '<step id="b"><end/></step>\n<step id="x"><end/></step>'
        )
    )
    run = agent_run(script)
    with pytest.raises(NavigationError, match="cannot jump to 'x': the way ends at step 'b' before it"):
        run.jump("x", by=A, now=NOW)
    assert (run.step, run.status, run.record().events) == ("a", RunStatus.ACTIVE, ())
    with pytest.raises(NavigationError, match="there is no step 'zz'"):
        run.jump("zz", by=A, now=NOW)
    assert run.jump("a", by=A, now=NOW) == []
    assert run.jump("b", by=A, now=NOW) == []
    assert run.path == ("a", "b")


ACTIONS = load(
    xml(
        '<step id="a"><ask-date name="day" min="today+1"><label>Day?</label></ask-date>'
        '<set-field field="email" value="{customer.account}@example.org"/>'
        '<set-outcome code="follow-up"/>'
        '<set-outcome code="resolved" when="data.day == \'2026-03-09\'"/>'
        '<schedule-callback queue="billing" agent="self" date="data.day" number="{call.caller}">'
        "<note>Call {customer.name} about {customer.balance|currency}</note></schedule-callback>"
        '<schedule-callback agent="bruno" after="P1DT2H"/>'
        '<create-task title="Follow {customer.name}" queue="billing" require="billing &gt;= 3">'
        "<note>Day {data.day|date}</note></create-task>"
        '<next to="b"/></step>\n'
        '<step id="b"><transfer-to-queue queue="technical" when="call.queue == \'billing\'"/>'
        '<transfer-to-agent agent="bruno" when="call.queue != \'billing\'"/><end/></step>'
    )
)


def _actions_run(queue: str) -> ScriptRun:
    context = RunContext(
        "run-1", agent=A, customer=dict(JEANNE), call={"caller": "+33140000001", "queue": queue}
    )
    return ScriptRun(ACTIONS, context, NOW)


def test_every_action_becomes_its_command_with_values_filled_in() -> None:
    run = _actions_run("billing")
    commands = run.submit("a", "2026-03-05", by=A, now=NOW)
    set_field, outcome, callback, callback2, task = commands
    assert set_field == SetCustomerField("run-1", 7, "email", "100101@example.org")
    assert outcome == SetOutcome("run-1", "follow-up")
    assert isinstance(callback, ScheduleCallback)
    assert (callback.queue, callback.agent, callback.due, callback.not_before, callback.number) == (
        "billing",
        "alice",
        date(2026, 3, 5),
        None,
        "+33140000001",
    )
    assert callback.note == "Call Jeanne Dupont about €42.10"
    assert callback.handover.lines == (("Day?", "March 5, 2026"),)
    assert isinstance(callback2, ScheduleCallback)
    assert (callback2.queue, callback2.agent, callback2.due) == (None, "bruno", None)
    assert callback2.not_before == NOW + timedelta(days=1, hours=2)
    assert isinstance(task, CreateTask)
    assert (task.title, task.queue, task.require, task.note) == (
        "Follow Jeanne Dupont",
        "billing",
        "billing >= 3",
        "Day March 5, 2026",
    )
    assert (task.handover.script_id, task.handover.version, task.handover.run_id) == ("t", 1, "run-1")
    assert run.outcome == "follow-up"
    assert run.forward(by=A, now=NOW)[:1] == [TransferToQueue("run-1", "technical")]


def test_a_condition_on_an_action_decides_whether_it_runs() -> None:
    run = _actions_run("general")
    commands = run.submit("a", "2026-03-09", by=A, now=NOW)
    assert [c for c in commands if isinstance(c, SetOutcome)] == [
        SetOutcome("run-1", "follow-up"),
        SetOutcome("run-1", "resolved"),
    ]
    assert run.outcome == "resolved"
    transfer, end = run.forward(by=A, now=NOW)
    assert transfer == TransferToAgent("run-1", "bruno")
    assert isinstance(end, End) and end.status is RunStatus.FINISHED


def test_a_field_set_by_the_script_is_what_later_texts_and_branches_read() -> None:
    script = load(
        xml(
            '<step id="a"><set-field field="language" value="fr"/><next to="b"/></step>\n'
            '<step id="b"><say>Language {customer.language}</say><branch when="customer.language == \'fr\'" '
            'to="c"/><next to="d"/></step>\n'
            '<step id="c"><end/></step>\n<step id="d"><end/></step>'
        )
    )
    run = agent_run(script, {"id": 3, "language": "en"})
    run.forward(by=A, now=NOW)
    assert run.view(NOW).texts[0].text == "Language fr"
    run.forward(by=A, now=NOW)
    assert run.step == "c"


def test_branches_read_customer_and_call_data() -> None:
    script = load(
        xml(
            '<step id="a"><branch when="customer.vip and call.self_service == false" to="vip"/>'
            '<branch when="customer.balance &gt;= 100" to="big"/><next to="small"/></step>\n'
            '<step id="vip"><end/></step>\n<step id="big"><end/></step>\n<step id="small"><end/></step>'
        )
    )
    cases: list[tuple[dict[str, object], str]] = [
        ({"vip": True, "balance": 5}, "vip"),
        ({"balance": Decimal("310.00")}, "big"),
        ({"balance": 5}, "small"),
    ]
    for customer, expected in cases:
        run = agent_run(script, customer)
        run.forward(by=A, now=NOW)
        assert run.step == expected
    nobody = ScriptRun(script, RunContext("r", agent=A, customer=None), NOW)
    nobody.forward(by=A, now=NOW)
    assert nobody.step == "small"


def test_a_loop_through_a_question_keeps_one_answer_per_visit() -> None:
    script = load(
        xml(
            '<step id="a"><ask-number name="n"><label>N?</label></ask-number>'
            '<branch when="data.n &lt; 3" to="a"/><next to="b"/></step>\n'
            '<step id="b"><say>Last {data.n}</say><end/></step>'
        )
    )
    run = agent_run(script)
    for value in ("1", "2", "7"):
        run.submit(run.step, value, by=A, now=NOW)
    assert run.path == ("a", "a", "a", "b")
    assert [(a.position, a.text) for a in run.answers] == [(0, "1"), (1, "2"), (2, "7")]
    assert run.view(NOW).texts[0].text == "Last 7"


def test_reaching_the_end_finishes_the_run_with_its_record() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    run.submit("c", "4", by=A, now=NOW)
    run.forward(by=A, now=NOW)
    commands = run.submit("e", "no", by=A, now=LATER)
    assert len(commands) == 1 and isinstance(commands[0], End)
    record = commands[0].record
    assert (record.status, record.ended_at, record.path) == (RunStatus.FINISHED, LATER, ("a", "c", "d", "e"))
    assert [(a.question, a.text, a.by, a.at) for a in record.answers] == [
        ("ok", "false", A, NOW),
        ("n", "4", A, NOW),
        ("again", "false", A, LATER),
    ]
    with pytest.raises(RunStateError, match="script run run-1 is finished"):
        run.back(by=A, now=LATER)
    assert run.pending() == ()


def test_abandoning_ends_the_run_where_it_was() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    (end,) = run.abandon(now=LATER, reason="caller hung up")
    assert isinstance(end, End) and end.status is RunStatus.ABANDONED
    assert end.record.path == ("a", "c")
    assert (end.record.events[-1].kind, end.record.events[-1].detail) == (
        EventKind.ABANDONED,
        "caller hung up",
    )
    with pytest.raises(RunStateError):
        run.abandon(now=LATER)


def test_the_record_is_plain_json_with_who_and_when() -> None:
    run = agent_run(NAV)
    run.submit("a", "no", by=A, now=NOW)
    data = json.loads(json.dumps(run.record().as_dict()))
    assert data["script_id"] == "t" and data["version"] == 1 and data["status"] == "active"
    assert data["answers"] == [
        {
            "position": 0,
            "step": "a",
            "question": "ok",
            "kind": "yes-no",
            "label": "OK?",
            "value": "false",
            "shown": "no",
            "by": "alice",
            "at": "2026-03-02T09:30:00+00:00",
        }
    ]
    assert [e["kind"] for e in data["events"]] == ["answered", "forward"]


# ---- the web ----

WEB = load(
    xml(
        '<step id="a"><say>Hello</say><note>Agents only</note>'
        '<ask-amount name="amount" min="1" max="500"><label>How much?</label></ask-amount><next to="b"/>'
        "</step>\n"
        '<step id="b" audience="agent"><note>Take the card</note><end/></step>',
        attrs='web="true"',
        head='<handoff label="Call me">'
        '<create-task title="Help {customer.name}" require="billing"/></handoff>',
    )
)


def test_a_customer_sees_no_agent_notes_and_gets_the_handoff_button() -> None:
    view = web_run(WEB).view(NOW)
    assert [(t.kind, t.text) for t in view.texts] == [("say", "Hello")]
    assert view.handoff_label == "Call me"
    agent_view = agent_run(WEB).view(NOW)
    assert [t.kind for t in agent_view.texts] == ["say", "note"]
    assert agent_view.handoff_label is None


def test_talk_to_someone_hands_off_with_the_answers() -> None:
    run = web_run(WEB)
    run.answer("a", "25", by="customer", now=NOW)
    task, end = run.talk_to_someone(by="customer", now=LATER)
    assert isinstance(task, CreateTask)
    assert (task.title, task.require, task.queue) == ("Help Jeanne Dupont", "billing", None)
    assert task.handover.lines == (("How much?", "€25.00"),)
    assert task.handover.answers[0].by == "customer"
    assert isinstance(end, End) and end.status is RunStatus.HANDED_OFF
    assert end.record.self_service and end.record.agent is None


def test_a_web_run_reaching_a_step_for_agents_hands_off() -> None:
    run = web_run(WEB)
    task, end = run.submit("a", "25", by="customer", now=NOW)
    assert isinstance(task, CreateTask) and isinstance(end, End)
    assert end.status is RunStatus.HANDED_OFF
    assert end.record.path == ("a",)
    assert end.record.events[-1].detail == "step 'b' is for agents"


def test_an_agent_run_goes_into_steps_for_agents() -> None:
    run = agent_run(WEB)
    assert run.submit("a", "25", by=A, now=NOW) == []
    assert run.step == "b"
    with pytest.raises(RunStateError, match="an agent is already on this run"):
        run.talk_to_someone(by=A, now=NOW)


def test_who_may_move_a_run() -> None:
    with pytest.raises(ValueError, match="a web run is answered by 'customer', not 'alice'"):
        web_run(WEB).answer("a", "2", by=A, now=NOW)
    with pytest.raises(ValueError, match="an agent's run is answered by an agent id"):
        agent_run(WEB).answer("a", "2", by="customer", now=NOW)
    with pytest.raises(ValueError, match="'customer' cannot be an agent id"):
        agent_run(WEB, agent="customer")
    with pytest.raises(ValueError, match="has no time zone"):
        agent_run(WEB).forward(by=A, now=NOW.replace(tzinfo=None))


def test_scripts_not_for_the_web_do_not_run_there() -> None:
    with pytest.raises(RunStateError, match='script t is not for the web \\(web="false"\\)'):
        web_run(NAV)
    no_handoff = load(xml('<step id="a"><end/></step>', attrs='web="true"'))
    with pytest.raises(RunStateError, match="script t offers no handoff"):
        web_run(no_handoff).talk_to_someone(by="customer", now=NOW)
    unchecked = load(xml('<step id="a"><next to="b"/></step>\n<step id="b" audience="agent"><end/></step>'))
    unchecked = dataclasses.replace(unchecked, web=True)
    with pytest.raises(RunStateError, match="script t has steps for agents but no handoff for the web"):
        web_run(unchecked)


# ---- what the panel shows ----


def test_question_views_carry_bounds_for_the_input() -> None:
    script = load(
        xml(
            '<step id="a"><ask-date name="d" min="today+1" max="2026-12-31"><label>D</label></ask-date>'
            '<next to="b"/></step>\n'
            '<step id="b"><ask-amount name="m" min="0.5"><label>M</label><hint>in euros</hint></ask-amount>'
            '<next to="c"/></step>\n'
            '<step id="c"><ask-text name="t" max-length="20" pattern="[0-9]+" multiline="false"><label>'
            "T</label>"
            '</ask-text><next to="d"/></step>\n'
            '<step id="d"><ask-choice name="c" required="false"><label>C {customer.name}</label>'
            '<option value="x">Ex</option></ask-choice><end/></step>',
            attrs='currency="JPY"',
        )
    )
    run = agent_run(script)
    views = []
    for value in ("2026-03-03", "5", "42", None):
        views.append(run.view(NOW).question)
        if value is not None:
            run.submit(run.step, value, by=A, now=NOW)
    day, amount, text, choice = views
    assert day is not None and (day.kind, day.min, day.max) == ("date", "2026-03-03", "2026-12-31")
    assert amount is not None and (amount.min, amount.max, amount.decimals, amount.hint) == (
        "0.5",
        None,
        0,
        "in euros",
    )
    assert text is not None and (text.max_length, text.pattern, text.multiline) == (20, "[0-9]+", False)
    assert choice is not None and (choice.label, choice.required) == ("C Jeanne Dupont", False)
    assert [(o.value, o.label) for o in choice.options] == [("x", "Ex")]


def test_what_is_pending_before_wrap_up() -> None:
    script = load(
        xml(
            '<step id="a"><ask-yes-no name="ok"><label>OK?</label></ask-yes-no><end/></step>',
            attrs='complete-before-wrapup="true"',
        )
    )
    run = agent_run(script)
    assert [(p.kind, p.message) for p in run.pending()] == [
        ("answer", "Answer: OK?"),
        ("end", "Go on to the end of the script"),
    ]
    run.answer("a", "yes", by=A, now=NOW)
    assert [p.kind for p in run.pending()] == ["end"]
    run.forward(by=A, now=NOW)
    assert run.pending() == ()
    optional_end = agent_run(NAV)
    optional_end.submit("a", "yes", by=A, now=NOW)
    assert optional_end.pending() == ()


def test_status_table_allows_only_leaving_active() -> None:
    for old in RunStatus:
        for new in RunStatus:
            if new in ALLOWED[old]:
                check_transition("r", old, new)
            else:
                with pytest.raises(
                    RunStateError, match=f"script run r: cannot go from {old.value} to {new.value}"
                ):
                    check_transition("r", old, new)
    assert ALLOWED[RunStatus.ACTIVE] == {RunStatus.FINISHED, RunStatus.HANDED_OFF, RunStatus.ABANDONED}
