"""Dialogue-script runs and customer fields in the store, on SQLite and PostgreSQL: written only from
facts, tolerant of repeats and gaps, the end of a run putting its final answers in place; extra
customer fields loaded from the seed file and set by scripts."""

from __future__ import annotations

from pathlib import Path

from callserver.facts.model import (
    CustomerFieldSet,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
)
from callserver.store import CustomerFields, Store

T0 = 1_790_000_000.0
FIELDS = {"balance": "amount", "payment_plan": "text", "birth_date": "date"}
SEED = """name,phones,account,balance,birth_date,postcode
Jeanne Dupont,+33140000001,100101,42.10,1980-02-29,75011
Marc Lambert,+33140000002,100102,lots,,75015
Sophie Bernard,+33140000003,100103,,1979-13-01,69002
"""


def answer(position: int, step: str, value: str | None, at: float, by: str = "alice") -> ScriptAnswered:
    return ScriptAnswered(
        "c1", at, "r1", "alice", position, step, step + "_q", "yes-no", "Label?", value, "yes", by
    )


def ended_record(answers: list[dict[str, object]]) -> dict[str, object]:
    return {"path": ["greet", "balance_due", "pay_now"], "answers": answers, "events": []}


async def test_a_run_is_stored_from_its_facts_and_its_end_keeps_only_the_final_answers(store: Store) -> None:
    customer = await store.create_customer(
        CustomerFields("Ann", ("+33140000001",), "A1", None, None, False, "")
    )
    await store.apply(
        [
            ScriptRunStarted("c1", T0, "r1", "billing", 3, "alice", customer.id),
            ScriptStepReached("c1", T0, "r1", "billing", "alice", "greet", "Welcome", 0),
            ScriptStepReached("c1", T0 + 1, "r1", "billing", "alice", "balance_due", "Balance", 1),
            answer(1, "balance_due", "true", T0 + 2),
            ScriptStepReached("c1", T0 + 3, "r1", "billing", "alice", "plan_months", "Payment plan", 2),
            answer(2, "plan_months", "6", T0 + 4),
            answer(1, "balance_due", "false", T0 + 5),  # back, and a different answer: a new way
        ]
    )
    (during,) = await store.script_runs(customer_id=customer.id)
    assert (during.status, during.step, during.path) == (
        "active",
        "plan_months",
        ("greet", "balance_due", "plan_months"),
    )
    assert [(a.position, a.value) for a in during.answers] == [(1, "false"), (2, "6")]

    final = {
        "position": 1,
        "step": "balance_due",
        "question": "wants_plan",
        "kind": "yes-no",
        "label": "Would you like to pay this amount in monthly instalments?",
        "value": "false",
        "shown": "no",
        "by": "alice",
        "at": "2026-09-21T12:00:05+00:00",
    }
    ended = ScriptRunEnded(
        "c1", T0 + 9, "r1", "billing", "alice", "finished", "resolved", ended_record([final])
    )
    await store.apply([ended, ended])  # a repeat changes nothing
    (run,) = await store.script_runs(script_id="billing")
    assert (run.status, run.outcome, run.channel, run.version) == ("finished", "resolved", "agent", 3)
    assert run.path == ("greet", "balance_due", "pay_now") and run.step == "pay_now"
    assert [(a.position, a.question, a.shown, a.by) for a in run.answers] == [
        (1, "wants_plan", "no", "alice")
    ]
    assert run.ended_at is not None and run.ended_at.timestamp() == T0 + 9
    # a late answer after the end does not come back
    await store.apply([answer(2, "plan_months", "6", T0 + 10)])
    (again,) = await store.script_runs(call_id="c1")
    assert len(again.answers) == 1


async def test_a_web_run_for_an_unknown_customer_is_kept_without_one(store: Store) -> None:
    await store.apply(
        [
            ScriptAnswered(
                "web-1", T0, "r9", None, 0, "greet", "q", "text", "Q?", "hello", "hello", "customer"
            ),
            ScriptRunStarted("web-1", T0 - 1, "r9", "billing", 1, None, 999),
        ]
    )
    (run,) = await store.script_runs(call_id="web-1")
    assert (run.channel, run.customer_id, run.script_id, run.agent_id) == ("web", None, "billing", None)
    assert run.started_at.timestamp() == T0 - 1
    assert [a.by for a in run.answers] == ["customer"]


async def test_seed_loads_configured_extra_fields_and_reports_values_of_the_wrong_type(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(SEED, encoding="utf-8")
    report = await store.load_customers(path, FIELDS)
    assert report.errors == (
        f"{path}:3:4: balance: 'lots' is not a number",  # line, column
        f"{path}:4:5: birth_date: '1979-13-01' is not a date (YYYY-MM-DD)",
    )
    jeanne = await store.find_customer_by_account("100101")
    assert jeanne is not None
    # postcode is not configured: its column is ignored
    assert await store.customer_fields(jeanne.id) == {"balance": "42.10", "birth_date": "1980-02-29"}


async def test_scripts_set_extra_and_record_fields_through_facts(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(SEED, encoding="utf-8")
    await store.load_customers(path, FIELDS)
    jeanne = await store.find_customer_by_account("100101")
    assert jeanne is not None
    await store.apply(
        [
            CustomerFieldSet("c1", T0, jeanne.id, "payment_plan", "requested: 6 months", "alice"),
            CustomerFieldSet("c1", T0, jeanne.id, "email", "jeanne@example.org", "alice"),
            CustomerFieldSet("c1", T0, 424242, "payment_plan", "lost", "alice"),  # no such customer
        ]
    )
    assert (await store.customer_fields(jeanne.id))["payment_plan"] == "requested: 6 months"
    again = await store.customer(jeanne.id)
    assert again is not None and again.email == "jeanne@example.org"
    # reloading the seed keeps what scripts set in fields the file does not give
    await store.load_customers(path, FIELDS)
    assert (await store.customer_fields(jeanne.id))["payment_plan"] == "requested: 6 months"


async def test_the_screen_pop_history_is_the_same_read_as_the_contact_history_and_the_runs(
    store: Store,
) -> None:
    """The pop's one-connection read gives what the two separate reads give: calls before the
    arrival time without the excluded ones, newest first and limited, and the runs with answers."""
    from datetime import UTC, datetime

    from tests.store.facts import answered_call

    ann = await store.create_customer(CustomerFields("Ann", ("+33140000001",), "A1", None, None, False, ""))
    bob = await store.create_customer(CustomerFields("Bob", ("+33140000002",), "B1", None, None, False, ""))
    for i in range(4):
        await store.apply(answered_call(f"k{i}", T0 + 100 * i))
    await store.apply(
        [
            ScriptRunStarted("k1", T0 + 110, "r1", "billing", 3, "alice", ann.id),
            answer(1, "balance_due", "true", T0 + 111),
            ScriptRunStarted("k2", T0 + 210, "r2", "billing", 3, "alice", ann.id),
        ]
    )
    until = datetime.fromtimestamp(T0 + 300, UTC)  # k3 arrived then: not before it
    found = await store.contact_histories([ann.id, bob.id], limit=2, until=until, exclude=["k2"])
    assert [c.id for c in found[ann.id].calls] == ["k1", "k0"]
    assert found[ann.id].calls == (await store.contact_history(ann.id, 2, until=until, exclude=["k2"]))
    assert found[ann.id].runs == await store.script_runs(customer_id=ann.id, limit=2)
    assert [(r.run_id, [a.value for a in r.answers]) for r in found[ann.id].runs] == [
        ("r2", []),
        ("r1", ["true"]),
    ]
    assert (found[bob.id].calls, found[bob.id].runs) == ([], [])
    everything = await store.contact_histories([ann.id], limit=10, until=until)
    assert [c.id for c in everything[ann.id].calls] == ["k2", "k1", "k0"]
    assert await store.contact_histories([], limit=10, until=until) == {}
