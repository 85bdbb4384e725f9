"""Lead ordering, retries per result, callbacks in local time, penetration and recycling."""

from __future__ import annotations

from datetime import datetime

import pytest

from callserver.campaigns.dnc import DncRegistry
from callserver.campaigns.leads import LeadBook, local_time_to_epoch
from callserver.campaigns.model import (
    Attempt,
    AttemptResult,
    Callback,
    Lead,
    LeadOrder,
    LeadState,
    OutcomeCode,
    RetryPolicy,
    RetryRule,
)

NY = "America/New_York"


def lead(ident: str, priority: int = 0, seq: int = 0, numbers: tuple[str, ...] = ("+12125550100",)) -> Lead:
    return Lead(id=ident, numbers=numbers, time_zones=(NY,), priority=priority, seq=seq)


def dial(
    book: LeadBook, ld: Lead, result: AttemptResult, now: float, outcome: OutcomeCode | None = None
) -> None:
    ld.move(LeadState.DIALING)
    attempt = Attempt(
        id=f"a-{now}", campaign="c", lead_id=ld.id, number=ld.numbers[ld.number_index], dialed_at=now
    )
    attempt.result = result
    book.settle(ld, attempt, outcome, now)


def order(book: LeadBook, now: float) -> list[str]:
    out = []
    while (ld := book.pop_next(now)) is not None:
        out.append(ld.id)
    return out


def test_new_leads_come_before_retries_then_by_priority() -> None:
    a, b, c = lead("a", seq=0), lead("b", priority=5, seq=1), lead("c", seq=2)
    book = LeadBook([a, b, c], retry=RetryPolicy(rules={AttemptResult.BUSY: RetryRule(0.0, 9)}))
    first = book.pop_next(0.0)
    assert first is not None and first.id == "b"
    dial(book, first, AttemptResult.BUSY, 1.0)
    assert order(book, 10.0) == ["a", "c", "b"]


def test_priority_order_puts_the_priority_field_first() -> None:
    a, b = lead("a", seq=0), lead("b", priority=1, seq=1)
    book = LeadBook(
        [a, b], order=LeadOrder.PRIORITY, retry=RetryPolicy(rules={AttemptResult.BUSY: RetryRule(0.0, 9)})
    )
    dial(book, book.pop_next(0.0) or a, AttemptResult.BUSY, 1.0)  # b dialled once
    assert order(book, 5.0) == ["b", "a"]


def test_oldest_attempt_first() -> None:
    leads = [lead(x, seq=i) for i, x in enumerate("abc")]
    policy = RetryPolicy(rules={AttemptResult.NO_ANSWER: RetryRule(0.0, 9)})
    book = LeadBook(leads, order=LeadOrder.OLDEST_ATTEMPT_FIRST, retry=policy)
    for t, ld in ((30.0, leads[0]), (10.0, leads[1]), (20.0, leads[2])):
        assert book.pop_next(t) is ld
        dial(book, ld, AttemptResult.NO_ANSWER, t)
    assert order(book, 100.0) == ["b", "c", "a"]


def test_retry_waits_the_rules_delay_and_stops_at_its_maximum() -> None:
    ld = lead("a")
    book = LeadBook([ld], retry=RetryPolicy(rules={AttemptResult.BUSY: RetryRule(600.0, 2)}))
    assert book.pop_next(0.0) is ld
    dial(book, ld, AttemptResult.BUSY, 0.0)
    assert ld.state is LeadState.QUEUED and ld.next_at == 600.0
    assert book.pop_next(599.0) is None
    assert book.pop_next(600.0) is ld
    dial(book, ld, AttemptResult.BUSY, 600.0)
    assert ld.state is LeadState.EXHAUSTED


def test_campaign_ceiling_of_attempts_per_period_pushes_the_retry_back() -> None:
    policy = RetryPolicy(rules={AttemptResult.NO_ANSWER: RetryRule(60.0, 99)}, max_attempts=2, period=3600.0)
    ld = lead("a")
    book = LeadBook([ld], retry=policy)
    dial(book, ld, AttemptResult.NO_ANSWER, 0.0)
    assert ld.next_at == 60.0
    dial(book, ld, AttemptResult.NO_ANSWER, 100.0)
    assert ld.next_at == 3600.0  # the first attempt leaves the hour then


def test_agent_outcomes_decide_final_retry_and_dnc() -> None:
    book = LeadBook([lead("a"), lead("b"), lead("c")], retry=RetryPolicy())
    a, b, c = (book.get(x) for x in "abc")
    dial(book, a, AttemptResult.CONNECTED, 0.0, OutcomeCode("sale", final=True))
    dial(book, b, AttemptResult.CONNECTED, 0.0, OutcomeCode("later", retry_after=7200.0))
    dial(book, c, AttemptResult.CONNECTED, 0.0, OutcomeCode("stop", dnc=True))
    assert (a.state, b.state, b.next_at, c.state) == (LeadState.DONE, LeadState.QUEUED, 7200.0, LeadState.DNC)
    assert a.history[-1].refusal is False


def test_invalid_number_is_dropped_and_the_next_number_used() -> None:
    ld = lead("a", numbers=("+12125550100", "+12125550101"))
    book = LeadBook([ld], retry=RetryPolicy())
    dial(book, ld, AttemptResult.INVALID, 0.0)
    assert ld.numbers == ("+12125550101",) and ld.state is LeadState.QUEUED
    dial(book, ld, AttemptResult.INVALID, 10.0)
    assert ld.state is LeadState.INVALID


def test_no_answer_rotates_through_the_leads_numbers() -> None:
    ld = lead("a", numbers=("+12125550100", "+12125550101"))
    book = LeadBook([ld], retry=RetryPolicy())
    dial(book, ld, AttemptResult.NO_ANSWER, 0.0)
    assert ld.numbers[ld.number_index] == "+12125550101"


def test_callback_is_due_at_the_leads_local_time_across_dst() -> None:
    # booked on Saturday 8 March 2025 for Monday 10 March 09:30 in New York (DST began in between)
    at = local_time_to_epoch(datetime(2025, 3, 10, 9, 30), NY)
    assert at == datetime.fromisoformat("2025-03-10T13:30+00:00").timestamp()
    ld = lead("a")
    book = LeadBook([ld], retry=RetryPolicy())
    book.book_callback(ld, Callback(at, agent_id="agent-7"))
    assert book.pop_next(at + 1) is None  # a callback is not an ordinary retry
    assert book.pop_due_callbacks(at - 1) == []
    assert book.pop_due_callbacks(at) == [ld]
    assert ld.callback is not None and ld.callback.agent_id == "agent-7"


def test_penetration_and_recycling() -> None:
    leads = [lead(x, seq=i) for i, x in enumerate("abcd")]
    book = LeadBook(leads, retry=RetryPolicy(rules={AttemptResult.NO_ANSWER: RetryRule(60.0, 1)}))
    dial(book, leads[0], AttemptResult.NO_ANSWER, 0.0)
    dial(book, leads[1], AttemptResult.CONNECTED, 0.0, OutcomeCode("sale", final=True))
    stats = book.stats(10.0)
    assert stats.penetration == pytest.approx(0.5)
    assert (stats.exhausted, stats.done, stats.contacted, stats.left) == (1, 1, 1, 2)
    assert book.recycle([AttemptResult.BUSY], 20.0) == 0
    assert book.recycle([AttemptResult.NO_ANSWER], 20.0) == 1
    assert leads[0].state is LeadState.QUEUED and leads[0].rounds == 1
    assert book.pop_next(20.0) is leads[2]  # new leads still first
    assert order(book, 20.0) == ["d", "a"]


def test_a_lead_cannot_be_added_twice() -> None:
    book = LeadBook([lead("a")], retry=RetryPolicy())
    with pytest.raises(ValueError, match="lead a"):
        book.add([lead("a")])


def test_dnc_lists_are_global_or_per_campaign() -> None:
    dnc = DncRegistry()
    dnc.add("+12125550100", now=0.0, source="agent:a1", campaign="spring")
    dnc.add("+12125550101", now=0.0, source="import")
    assert dnc.blocked("+12125550100", "spring") is not None
    assert dnc.blocked("+12125550100", "autumn") is None
    entry = dnc.blocked("+12125550101", "autumn")
    assert entry is not None and entry.scope == ""
    assert dnc.remove("+12125550101")
    assert dnc.blocked("+12125550101", "autumn") is None
