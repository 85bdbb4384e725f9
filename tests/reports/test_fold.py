"""The report fold counts exactly what the live book counts, per 15-minute bucket, and hands the
counts out as increments that add up to the same rows however often they are asked for."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from callserver.acd.metrics import live_book
from callserver.facts.campaign import AttemptCoded, AttemptEnded, AttemptStarted
from callserver.facts.model import (
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallQueued,
    CallRequeued,
    CallTransferred,
    CallWrappedUp,
    Fact,
    IvrLeft,
    IvrNodeEntered,
    Outcome,
)
from callserver.figures import call_stats, campaign_abandon_rate, ivr_containment, occupancy
from callserver.reports.counters import Counters
from callserver.reports.fold import ReportFold, RowChange
from tests.reports.scenario import AGENTS, START, morning

RowKey = tuple[str, str, int]


def _fold() -> ReportFold:
    return ReportFold(["sales", "support"], agent_queues=AGENTS, service_time=20.0, keep=10 * 86_400)


def _sum(fold: ReportFold, facts: list[Fact], every: int, now: float) -> dict[RowKey, Counters]:
    rows: dict[RowKey, Counters] = defaultdict(Counters)
    for i, fact in enumerate(facts, 1):
        fold.apply(fact)
        if every and i % every == 0:
            for change in fold.changes(fact.at):
                rows[(change.kind, change.key, change.start)].add(change.delta)
    for change in fold.changes(now):
        rows[(change.kind, change.key, change.start)].add(change.delta)
    return dict(rows)


def test_queue_rows_give_the_live_books_figures_for_every_interval() -> None:
    facts = morning()
    end = facts[-1].at + 1
    book = live_book(["sales", "support"], agent_queues=AGENTS, service_time=20.0)
    for fact in facts:
        book.apply(fact)
    rows = _sum(_fold(), facts, every=0, now=end)
    snapshot = book.snapshot(end, since=START)
    compared = 0
    for queue in snapshot.queues:
        for interval in queue.intervals:
            row = rows[("queue", queue.queue, int(interval.start))]
            assert call_stats(row.calls(), busy=row.busy, staffed=row.staffed) == interval.stats
            compared += 1
    assert compared >= 2 * 10  # both queues over three hours of quarter hours
    # the morning had every kind of ending, so the comparison covered each counter
    totals = Counters()
    for (kind, _, _), row in rows.items():
        if kind == "queue":
            totals.add(row)
    assert min(totals.answered, totals.abandoned, totals.short_abandoned, totals.timed_out) > 0
    assert min(totals.overflowed_in, totals.transferred, totals.callbacks) > 0


def test_agent_rows_give_the_live_books_agent_time() -> None:
    facts = morning()
    end = facts[-1].at + 1
    book = live_book(["sales", "support"], agent_queues=AGENTS, service_time=20.0)
    for fact in facts:
        book.apply(fact)
    rows = _sum(_fold(), facts, every=0, now=end)
    for agent in book.snapshot(end).agents:
        mine = [r for (kind, key, _), r in rows.items() if kind == "agent" and key == agent.agent_id]
        busy, staffed = sum(r.busy for r in mine), sum(r.staffed for r in mine)
        assert busy == pytest.approx(agent.busy)
        assert staffed == pytest.approx(agent.staffed)
        assert occupancy(busy, staffed) == pytest.approx(agent.occupancy)
        assert sum(r.handled for r in mine) == agent.calls_handled > 0


def test_increments_asked_for_often_add_up_to_the_same_rows() -> None:
    facts = morning()
    end = facts[-1].at + 1
    once = _sum(_fold(), facts, every=0, now=end)
    often = _sum(_fold(), facts, every=7, now=end)
    assert once.keys() == often.keys()
    for key, row in once.items():
        other = often[key]
        for name in ("offered", "answered", "abandoned", "handled", "wrapups", "transferred"):
            assert getattr(other, name) == getattr(row, name), (key, name)
        for name in ("busy", "staffed", "logged_in", "paused", "handle_time", "wait_answered"):
            assert getattr(other, name) == pytest.approx(getattr(row, name)), (key, name)
        assert other.longest_wait == row.longest_wait


def test_dialled_numbers_count_as_their_queue_when_one_number_leads_to_one_queue() -> None:
    everything = morning()
    moved = {f.call_id for f in everything if isinstance(f, CallRequeued)}
    facts = [f for f in everything if getattr(f, "call_id", None) not in moved]  # one number, one queue
    rows = _sum(_fold(), facts, every=0, now=facts[-1].at + 1)
    for (kind, key, start), row in rows.items():
        if kind == "dnis":
            queue = {"500": "sales", "600": "support"}[key]
            q = rows[("queue", queue, start)]
            assert (row.offered, row.answered, row.abandoned, row.short_abandoned) == (
                q.offered,
                q.answered,
                q.abandoned,
                q.short_abandoned,
            )


def test_outcome_codes_and_pause_reasons_are_counted_apart() -> None:
    facts = morning()
    rows = _sum(_fold(), facts, every=0, now=facts[-1].at + 1)
    codes: dict[str, int] = defaultdict(int)
    for (kind, key, _), row in rows.items():
        if kind == "outcome":
            codes[key] += row.wrapups
    expected: dict[str, int] = defaultdict(int)
    for fact in facts:
        if isinstance(fact, CallWrappedUp):
            expected[fact.code] += 1
    assert codes == expected
    reasons = {kk: 0.0 for (k, kk, _) in rows if k == "reason"}
    for (kind, key, _), row in rows.items():
        if kind == "reason":
            reasons[key] += row.paused
    # the scenario pauses a1 for 600 s (lunch), a2 for 700 s (break), a3 for 800 s (training)
    assert reasons == pytest.approx({"lunch": 600.0, "break": 700.0, "training": 800.0})
    agent_paused = sum(r.paused for (k, _, _), r in rows.items() if k == "agent")
    assert agent_paused == pytest.approx(2100.0)


def test_a_pause_still_going_is_counted_up_to_now_and_not_twice() -> None:
    fold = _fold()
    fold.apply(AgentStatusChanged("a1", START, "available", ""))
    fold.apply(AgentStatusChanged("a1", START + 100, "paused", "lunch"))
    first = {(c.kind, c.key): c.delta.paused for c in fold.changes(START + 400)}
    fold.apply(AgentStatusChanged("a1", START + 1000, "available", ""))
    later = [c for c in fold.changes(START + 1000) if c.kind == "reason"]
    assert first[("reason", "lunch")] == pytest.approx(300.0)
    # 800 s in bucket 08:00 (500 there so far) and 100 s in 08:15
    assert sorted((c.start - int(START), round(c.delta.paused, 3)) for c in later) == [
        (0, 500.0),
        (900, 100.0),
    ]


def test_voicemail_messages_are_received_closed_and_timed_per_mailbox_not_answered_calls() -> None:
    fold = _fold()
    box = "support"
    fold.apply(CallQueued("vm-1", START + 10, box, "", "+33140000001", "", "", kind="voicemail"))
    fold.apply(CallQueued("vm-2", START + 20, box, "", "+33140000002", "", "", kind="voicemail"))
    fold.apply(CallAnswered("vm-1", START + 100, box, "a1", 90.0))
    fold.apply(CallEnded("vm-1", START + 400, box, Outcome.ANSWERED, "a1", 90.0))
    rows = {(c.kind, c.key): c.delta for c in fold.changes(START + 500)}
    message = rows[("voicemail", box)]
    assert (message.offered, message.handled, message.handle_time) == (2, 1, 390.0)  # vm-2 still open
    assert ("queue", box) not in rows  # tasks are not calls
    assert ("agent", "a1") not in rows or rows[("agent", "a1")].answered == 0


def _dial(n: int, at: float, *, person: bool, connected: bool) -> list[Fact]:
    attempt = f"t{n}"
    ended = AttemptEnded(
        attempt_id=attempt,
        campaign="winter",
        at=at + 60,
        lead_id=f"l{n}",
        number="+14155550100",
        result="answered" if person else "no_answer",
        dialed_at=at,
        ringing_at=at + 1,
        answered_at=at + 8 if person else None,
        amd=None,
        amd_duration=None,
        person_at=at + 8 if person else None,
        connected_at=at + 9 if connected else None,
        agent_id="a1" if connected else None,
        abandoned=person and not connected,
        info_message=person and not connected,
        hangup_by="customer",
    )
    facts: list[Fact] = [AttemptStarted(attempt, "winter", at, f"l{n}", "+14155550100", None), ended]
    if connected:
        facts.append(AttemptCoded(attempt, "winter", at + 90, "a1", "sale" if n % 2 else "not_interested"))
    return facts


def test_campaign_attempts_contacts_abandons_and_outcomes_per_dial_bucket() -> None:
    fold = _fold()
    # ten dials from 08:10: seven people reached, five connected, two abandoned; the last at 08:16
    for n in range(10):
        for fact in _dial(n, START + 600 + 40 * n, person=n < 7, connected=n < 5):
            fold.apply(fact)
    rows = {(c.kind, c.key, c.start - int(START)): c.delta for c in fold.changes(START + 3600)}
    first, second = rows[("campaign", "winter", 0)], rows[("campaign", "winter", 900)]
    assert (first.offered + second.offered, first.answered + second.answered) == (10, 7)
    assert (first.handled + second.handled, first.abandoned + second.abandoned) == (5, 2)
    assert second.offered == 2  # dialled at 08:15:20 and 08:16:00
    coded = {k[1]: r.wrapups for k, r in rows.items() if k[0] == "campaign_outcome"}
    assert coded == {"winter/sale": 2, "winter/not_interested": 3}
    assert campaign_abandon_rate(2, 7) == pytest.approx(2 / 7)
    assert campaign_abandon_rate(0, 0) is None


def _ivr(call: str, at: float, flow: str, nodes: list[str], outcome: str | None) -> list[Fact]:
    """A caller through `nodes` of `flow`, 10 s per node, leaving with `outcome` (None: still in)."""
    facts: list[Fact] = [IvrNodeEntered(call, at + 10 * i, flow, node) for i, node in enumerate(nodes)]
    if outcome is not None:
        facts.append(IvrLeft(call, at + 10 * len(nodes), flow, nodes[-1] if nodes else "", outcome))
    return facts


def test_ivr_flows_count_entries_once_per_caller_and_containment_over_the_entries() -> None:
    t = START + 60
    facts = [
        *_ivr("c1", t, "main", ["welcome", "menu", "balance"], "ended"),
        *_ivr("c2", t + 1, "main", ["welcome", "menu", "menu", "menu"], "hangup"),  # menu repeated
        *_ivr("c3", t + 2, "main", ["welcome", "menu"], "queue"),
        *_ivr("c4", t + 3, "main", ["welcome", "menu", "balance"], "ended"),
        *_ivr("c5", t + 4, "main", ["welcome"], None),  # still in the IVR: entered, not contained
        *_ivr("c6", t + 5, "sales", ["hello"], "voicemail"),
    ]
    facts.sort(key=lambda f: f.at)
    rows = _sum(_fold(), facts, every=3, now=t + 100)
    bucket = int(START)
    main = rows[("ivr_flow", "main", bucket)]
    assert (main.ivr_entered, main.ivr_ended, main.ivr_hangup, main.ivr_queue) == (5, 2, 1, 1)
    assert ivr_containment(main.ivr_ended, main.ivr_entered) == pytest.approx(2 / 5)
    sales = rows[("ivr_flow", "sales", bucket)]
    assert (sales.ivr_entered, sales.ivr_voicemail, sales.ivr_ended) == (1, 1, 0)
    assert ivr_containment(sales.ivr_ended, sales.ivr_entered) == 0.0
    nodes = {k[1]: r for k, r in rows.items() if k[0] == "ivr_node"}
    assert {k: r.ivr_entered for k, r in nodes.items()} == {
        "main/welcome": 5,
        "main/menu": 6,  # every visit: c2 heard the menu three times
        "main/balance": 2,
        "sales/hello": 1,
    }
    assert (nodes["main/balance"].ivr_ended, nodes["main/menu"].ivr_hangup, nodes["main/menu"].ivr_queue) == (
        2,
        1,
        1,
    )
    assert nodes["main/welcome"].ivr_ended + nodes["main/welcome"].ivr_hangup == 0


def test_ivr_exits_go_to_the_bucket_the_caller_entered_in() -> None:
    t = START + 15 * 60 - 5  # enters 5 s before a quarter hour ends, leaves in the next one
    rows = _sum(_fold(), _ivr("c1", t, "main", ["welcome", "menu"], "ended"), every=1, now=t + 60)
    first, second = int(START), int(START) + 900
    assert rows[("ivr_flow", "main", first)].ivr_entered == 1
    assert rows[("ivr_flow", "main", first)].ivr_ended == 1
    assert ("ivr_flow", "main", second) not in rows
    assert rows[("ivr_node", "main/menu", second)].ivr_ended == 1  # reached the menu after the turn


def test_ivr_left_before_any_node_still_counts_the_caller_in_the_flow() -> None:
    rows = _sum(_fold(), [IvrLeft("c1", START + 5, "main", "", "failed")], every=0, now=START + 10)
    flow = rows[("ivr_flow", "main", int(START))]
    assert (flow.ivr_entered, flow.ivr_failed) == (1, 1)
    assert not [k for k in rows if k[0] == "ivr_node"]


class _Recomputed(ReportFold):
    """The fold computing every row again at every call: the increments' reference."""

    def changes(self, now: float) -> list[RowChange]:
        self._last_now = None
        return super().changes(now)


@pytest.mark.parametrize("seed", range(8))
def test_increments_are_those_of_every_row_computed_again(seed: int) -> None:
    """Computing only the rows that can have changed gives exactly the increments of computing
    them all, with writes at any moment: facts arriving after a write that is later than them,
    agents idle or paused across many intervals, a write long after the last fact."""
    rng = random.Random(seed)
    facts = morning(calls=150, seed=seed, hours=3.0)
    late = [f for f in facts if isinstance(f, CallAnswered)][:5]
    facts += [CallTransferred(f.call_id, f.at + 1, f.agent_id, "blind", "+33199999999") for f in late]
    mine, everything = _fold(), _fold()
    everything.__class__ = _Recomputed
    now = START
    compared = 0
    for i, fact in enumerate(facts):
        mine.apply(fact)
        everything.apply(fact)
        if rng.random() < 0.15 or i == len(facts) - 1:
            # the writer's clock: never before the last write, often ahead of facts still to come
            now = max(now, fact.at + rng.choice([0.0, 0.5, 30.0, 400.0, 1800.0]))
            changes = mine.changes(now)
            assert changes == everything.changes(now), (i, now)
            compared += len(changes)
    for later in (now + 5.0, now + 4 * 3600.0):
        changes = mine.changes(later)
        assert changes == everything.changes(later)
        compared += len(changes)
    assert compared > 500


def test_intervals_older_than_kept_are_forgotten_without_taking_back_what_was_written() -> None:
    """Past `keep` the books drop an agent's interval while the fold still holds its calls
    there: what was written for it stays (no increment takes its time away)."""
    facts = morning(calls=150, hours=3.0)
    fold = ReportFold(["sales", "support"], agent_queues=AGENTS, service_time=20.0, keep=3600.0)
    for i, fact in enumerate(facts, 1):
        fold.apply(fact)
        if i % 5 == 0:  # written as the facts come, so agent time only ever grows
            for change in fold.changes(fact.at):
                d = change.delta
                assert min(d.logged_in, d.ready, d.paused, d.staffed, d.busy) >= 0.0, change
