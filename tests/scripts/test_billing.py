"""The worked example, config/scripts/billing.xml: it validates against the shipped configuration and
runs to its intended ends, with an agent and with a customer on the web."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from callserver.config import load_settings
from callserver.scripts.commands import (
    Command,
    CreateTask,
    End,
    ScheduleCallback,
    SetCustomerField,
    SetOutcome,
)
from callserver.scripts.engine import ScriptRun
from callserver.scripts.model import Script, ScriptContext
from callserver.scripts.read import load_script
from callserver.scripts.record import RunStatus
from callserver.scripts.validate import check_script
from callserver.store.records import CustomerRecord
from tests.scripts.helpers import BILLING, JEANNE, NOW, ROOT, agent_run, web_run

A = "alice"
C = "customer"
CALLBACK_DAY = date(2026, 3, 5)


def shipped_context() -> ScriptContext:
    """What check-config will pass: the names of config/callcentre.yaml, and the customer record's fields
    with the extra fields the example uses (`balance` read, `payment_plan` written)."""
    settings = load_settings(ROOT / "config" / "callcentre.yaml", env={})
    fields = {f.name for f in dataclasses.fields(CustomerRecord)} | {"balance", "payment_plan"}
    return ScriptContext(
        customer_fields=frozenset(fields),
        writable_fields=frozenset({"payment_plan", "email", "notes"}),
        call_fields=frozenset({"caller", "dnis", "queue", "language"}),
        queues=frozenset(q.name for q in settings.queues),
        agents=frozenset(a.id for a in settings.agents),
        skills=frozenset(settings.skills),
        outcome_codes=frozenset(settings.web.outcome_codes),
    )


@pytest.fixture(scope="module")
def billing() -> Script:
    script, problems = load_script(BILLING)
    assert script is not None, [str(p) for p in problems]
    return script


def test_billing_example_validates_against_the_shipped_configuration(billing: Script) -> None:
    assert check_script(billing, shipped_context()) == []
    assert (billing.id, billing.version, billing.web, billing.complete_before_wrapup) == (
        "billing",
        1,
        True,
        True,
    )


def _plan(run: ScriptRun, by: str) -> list[Command]:
    """Balance read, payment plan wanted over 6 months, callback on 5 March: every command on the way."""
    commands = run.forward(by=by, now=NOW)
    assert run.step == "balance_due"
    assert run.view(NOW).texts[0].text == "The balance of account 100101 is €42.10."
    commands += run.submit("balance_due", "yes", by=by, now=NOW)
    commands += run.submit("plan_months", "6", by=by, now=NOW)
    commands += run.submit("plan_day", CALLBACK_DAY.isoformat(), by=by, now=NOW)
    assert run.view(NOW).texts[0].text == "Thank you. We will call you on 5 March 2026 to set up your plan."
    return commands + run.forward(by=by, now=NOW)


def test_agent_follows_the_plan_to_its_end(billing: Script) -> None:
    run = agent_run(billing)
    field, outcome, callback, end = _plan(run, A)
    assert field == SetCustomerField("run-1", 7, "payment_plan", "requested: 6 months")
    assert outcome == SetOutcome("run-1", "follow-up")
    assert isinstance(callback, ScheduleCallback)
    assert (callback.queue, callback.agent, callback.due) == ("billing", A, CALLBACK_DAY)
    assert callback.note == "Confirm a payment plan over 6 months for €42.10."
    assert isinstance(end, End) and end.status is RunStatus.FINISHED
    record = end.record
    assert record.path == ("greet", "balance_due", "plan_months", "plan_day", "plan_done")
    assert [(a.question, a.text, a.by) for a in record.answers] == [
        ("wants_plan", "true", A),
        ("months", "6", A),
        ("callback_day", "2026-03-05", A),
    ]
    assert (record.outcome, record.self_service) == ("follow-up", False)


def test_customer_on_the_web_runs_the_same_script_to_the_same_end(billing: Script) -> None:
    run = web_run(billing)
    field, outcome, callback, end = _plan(run, C)
    assert field == SetCustomerField("run-w", 7, "payment_plan", "requested: 6 months")
    assert outcome == SetOutcome("run-w", "follow-up")
    assert isinstance(callback, ScheduleCallback)
    assert (callback.queue, callback.agent, callback.due) == ("billing", None, CALLBACK_DAY)
    assert isinstance(end, End) and end.status is RunStatus.FINISHED
    assert end.record.path == ("greet", "balance_due", "plan_months", "plan_day", "plan_done")
    assert {a.by for a in end.record.answers} == {C}


def test_customer_who_asks_to_talk_to_someone_gets_a_callback_carrying_the_answers(billing: Script) -> None:
    run = web_run(billing)
    run.forward(by=C, now=NOW)
    run.submit("balance_due", "yes", by=C, now=NOW)
    run.answer("plan_months", "4", by=C, now=NOW)
    assert run.view(NOW).handoff_label == "Talk to someone"
    callback, end = run.talk_to_someone(by=C, now=NOW)
    assert isinstance(callback, ScheduleCallback)
    assert (callback.queue, callback.agent, callback.due) == ("billing", None, None)
    assert callback.note == "Web customer asked to talk to someone about their bill."
    assert callback.handover.lines == (
        ("Would you like to pay this amount in monthly instalments?", "yes"),
        ("Over how many months would you like to pay?", "4"),
    )
    assert (callback.handover.script_id, callback.handover.version) == ("billing", 1)
    assert isinstance(end, End) and end.status is RunStatus.HANDED_OFF
    assert end.record.path == ("greet", "balance_due", "plan_months")


def test_customer_who_wants_to_pay_by_card_is_handed_to_a_person(billing: Script) -> None:
    run = web_run(billing)
    run.forward(by=C, now=NOW)
    run.submit("balance_due", "no", by=C, now=NOW)
    callback, end = run.submit("pay_now", "yes", by=C, now=NOW)
    assert isinstance(callback, ScheduleCallback) and callback.queue == "billing"
    assert [line[1] for line in callback.handover.lines] == ["no", "yes"]
    assert isinstance(end, End) and end.status is RunStatus.HANDED_OFF


def test_agent_takes_a_card_payment(billing: Script) -> None:
    run = agent_run(billing)
    run.forward(by=A, now=NOW)
    run.submit("balance_due", "no", by=A, now=NOW)
    run.submit("pay_now", "yes", by=A, now=NOW)
    assert [(t.kind, t.text) for t in run.view(NOW).texts] == [
        ("note", "Take the card payment in the payment terminal, never on this screen.")
    ]
    assert run.submit("take_card", "yes", by=A, now=NOW) == [SetOutcome("run-1", "resolved")]
    (end,) = run.forward(by=A, now=NOW)
    assert isinstance(end, End) and end.record.path[-1] == "paid" and end.record.outcome == "resolved"


def test_agent_sends_bank_details_through_a_task_routed_by_skill(billing: Script) -> None:
    run = agent_run(billing)
    run.forward(by=A, now=NOW)
    run.submit("balance_due", "no", by=A, now=NOW)
    run.submit("pay_now", "no", by=A, now=NOW)
    outcome, task, end = run.forward(by=A, now=NOW)
    assert outcome == SetOutcome("run-1", "resolved")
    assert isinstance(task, CreateTask)
    assert (task.title, task.queue, task.require) == (
        "Send bank details to Jeanne Dupont",
        "billing",
        "billing >= 3",
    )
    assert task.note == "Account 100101, balance €42.10."
    assert isinstance(end, End) and end.status is RunStatus.FINISHED


def test_nothing_due_ends_at_once(billing: Script) -> None:
    run = agent_run(billing, {**JEANNE, "balance": Decimal("-12.50")})
    assert run.forward(by=A, now=NOW) == []
    assert run.view(NOW).texts[0].text == "There is nothing to pay on your account at the moment."
    outcome, end = run.forward(by=A, now=NOW)
    assert outcome == SetOutcome("run-1", "resolved")
    assert isinstance(end, End) and end.record.path == ("greet", "nothing_due")


def test_the_agent_must_reach_the_end_before_wrap_up(billing: Script) -> None:
    run = agent_run(billing)
    run.forward(by=A, now=NOW)
    assert [p.kind for p in run.pending()] == ["answer", "end"]


def test_the_customer_never_sees_the_agents_note(billing: Script) -> None:
    view = web_run(billing).view(NOW)
    assert [t.text for t in view.texts] == [
        "Hello Jeanne Dupont, thank you for getting in touch about your bill."
    ]
    assert view.title == "Welcome"
