"""Queue and agent figures computed from facts, fed by hand so every number can be checked."""

from __future__ import annotations

import dataclasses

import pytest

from callserver.acd.metrics import MetricsBook
from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallQueued,
    CallRequeued,
    Outcome,
)


def queued(book: MetricsBook, call: str, at: float, queue: str = "q") -> None:
    book.apply(CallQueued(call, at, queue, f"PJSIP/{call}", "100", "", "200"))


def answered(book: MetricsBook, call: str, arrived: float, wait: float, queue: str = "q") -> None:
    queued(book, call, arrived, queue)
    book.apply(CallAnswered(call, arrived + wait, queue, "a1", wait))


def abandoned(book: MetricsBook, call: str, arrived: float, wait: float, queue: str = "q") -> None:
    queued(book, call, arrived, queue)
    book.apply(CallEnded(call, arrived + wait, queue, Outcome.ABANDONED, None, wait))


def state(
    book: MetricsBook, at: float, old: str, new: str, call: str | None = None, agent: str = "a1"
) -> None:
    book.apply(AgentStateChanged(agent, at, old, new, call))


def status(book: MetricsBook, at: float, new: str, agent: str = "a1") -> None:
    book.apply(AgentStatusChanged(agent, at, new, ""))


def test_short_abandons_are_counted_apart() -> None:
    book = MetricsBook(["q"], short_abandon=5.0)
    abandoned(book, "c1", 0, 3.0)
    abandoned(book, "c2", 0, 30.0)
    abandoned(book, "c3", 0, 5.0)  # at the threshold: a real abandon
    total = book.queue_stats("q", 100)
    assert (total.short_abandoned, total.abandoned) == (1, 2)
    assert total.abandon_rate == pytest.approx(2 / 2)


def test_service_level_with_and_without_abandons() -> None:
    book = MetricsBook(["q"], service_time=20.0)
    answered(book, "c1", 0, 5.0)
    answered(book, "c2", 0, 20.0)
    answered(book, "c3", 0, 40.0)
    abandoned(book, "c4", 0, 30.0)
    abandoned(book, "c5", 0, 2.0)  # short: in neither base
    total = book.queue_stats("q", 100)
    assert total.service_level == pytest.approx(2 / 3)
    assert total.service_level_with_abandons == pytest.approx(2 / 4)
    assert total.asa == pytest.approx(65 / 3)
    assert total.offered == 5


def test_handle_time_runs_from_answer_to_the_end_of_wrap_up() -> None:
    book = MetricsBook(["q"])
    answered(book, "c1", 0, 10.0)
    state(book, 5, "idle", "ringing", "c1")
    state(book, 10, "ringing", "on_call", "c1")
    book.apply(CallEnded("c1", 100, "q", Outcome.ANSWERED, "a1", 10))
    state(book, 100, "on_call", "wrapup", "c1")
    state(book, 130, "wrapup", "idle")
    answered(book, "c2", 200, 0.0)
    state(book, 200, "idle", "ringing", "c2")
    state(book, 200, "ringing", "on_call", "c2")
    state(book, 260, "on_call", "idle")  # no wrap-up on this one
    total = book.queue_stats("q", 300)
    assert total.aht == pytest.approx((120 + 60) / 2)
    assert book.snapshot(300).agents[0].calls_handled == 2


def test_waiting_count_and_longest_wait_follow_overflow() -> None:
    book = MetricsBook(["a", "b"])
    queued(book, "c1", 10, "a")
    queued(book, "c2", 20, "a")
    assert book.queues["a"].waiting_count() == 2
    assert book.queues["a"].longest_wait(50) == 40
    book.apply(CallRequeued("c1", 40, "a", "b"))
    snap = {q.queue: q for q in book.snapshot(50).queues}
    assert (snap["a"].waiting, snap["b"].waiting) == (1, 1)
    assert snap["b"].longest_wait == 40  # the wait counts from the first arrival
    assert (snap["a"].total.overflowed_out, snap["b"].total.overflowed_in) == (1, 1)
    book.apply(CallAnswered("c1", 60, "b", "a1", 50))
    snap = {q.queue: q for q in book.snapshot(60).queues}
    assert snap["b"].waiting == 0 and snap["b"].total.answered == 1


def test_timed_out_calls_are_neither_answered_nor_abandoned() -> None:
    book = MetricsBook(["q"])
    queued(book, "c1", 0)
    book.apply(CallEnded("c1", 300, "q", Outcome.TIMED_OUT, None, 300))
    total = book.queue_stats("q", 300)
    assert (total.timed_out, total.answered, total.abandoned) == (1, 0, 0)
    assert total.service_level is None


def test_occupancy_is_busy_time_over_staffed_time_per_interval() -> None:
    book = MetricsBook(["q"], agent_queues={"a1": ["q"]}, interval=900)
    status(book, 0, "available")
    state(book, 450, "idle", "ringing", "c1")
    state(book, 450, "ringing", "on_call", "c1")
    state(book, 1350, "on_call", "idle")  # busy 450..1350: half of each of the first two intervals
    status(book, 1800, "paused")  # paused while idle: not staffed
    status(book, 2250, "available")
    snap = book.snapshot(2700).queues[0]
    occupancy = [i.stats.occupancy for i in snap.intervals]
    assert occupancy == [pytest.approx(0.5), pytest.approx(0.5), pytest.approx(0.0)]
    agent = book.snapshot(2700).agents[0]
    assert agent.staffed == pytest.approx(2250)
    assert agent.busy == pytest.approx(900)
    assert snap.total.occupancy == pytest.approx(900 / 2250)


def test_an_agent_paused_during_a_call_stays_staffed_until_it_ends() -> None:
    book = MetricsBook(["q"], agent_queues={"a1": ["q"]})
    status(book, 0, "available")
    state(book, 0, "idle", "ringing", "c1")
    state(book, 0, "ringing", "on_call", "c1")
    status(book, 100, "paused")
    state(book, 200, "on_call", "idle")
    status(book, 200, "logged_out")
    agent = book.snapshot(1000).agents[0]
    assert (agent.staffed, agent.busy, agent.occupancy) == (200, 200, 1.0)


def test_calls_count_in_the_interval_they_arrived_in() -> None:
    book = MetricsBook(["q"], interval=1800)
    answered(book, "c1", 1700, 200.0)  # answered in the second interval, counted in the first
    answered(book, "c2", 1900, 0.0)
    intervals = book.snapshot(3600).queues[0].intervals
    assert [(i.start, i.stats.offered, i.stats.answered) for i in intervals] == [(0, 1, 1), (1800, 1, 1)]


def test_snapshots_are_frozen_and_queries_do_not_move_the_clock() -> None:
    book = MetricsBook(["q"], agent_queues={"a1": ["q"]})
    status(book, 0, "available")
    first = book.snapshot(100)
    second = book.snapshot(100)
    assert first == second
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.queues[0].total.answered = 3  # type: ignore[misc]


def test_facts_for_a_queue_not_configured_are_still_counted() -> None:
    book = MetricsBook(["q"])
    abandoned(book, "c1", 0, 30.0, queue="new")
    assert book.queue_stats("new", 30).abandoned == 1


def test_figures_since_a_time_count_the_calls_that_arrived_from_its_interval_on() -> None:
    book = MetricsBook(["q"], agent_queues={"a1": ["q"]}, interval=900)
    status(book, 0, "available")
    answered(book, "c1", 800, 200.0)  # arrived before: not counted, though answered after 900
    answered(book, "c2", 1000, 10.0)
    abandoned(book, "c3", 1900, 30.0)
    since = book.call_stats("q", since=900)
    assert (since.offered, since.answered, since.abandoned, since.service_level) == (1 + 1, 1, 1, 1.0)
    snap = book.snapshot(2700, since=900)
    assert [i.start for i in snap.queues[0].intervals] == [900, 1800]
    assert snap.queues[0].total == book.queue_stats("q", 2700, since=900)
    assert snap.agents[0].staffed == pytest.approx(1800)  # the time before 900 is left out
    assert book.call_stats("q").offered == 3


def test_a_book_that_keeps_two_intervals_forgets_older_ones() -> None:
    book = MetricsBook(["q"], agent_queues={"a1": ["q"]}, interval=900, keep=1800)
    status(book, 0, "available")
    for k in range(10):
        answered(book, f"c{k}", k * 900 + 1, 1.0)
    status(book, 9000, "paused")
    assert [i.start for i in book.snapshot(9000).queues[0].intervals] == [7 * 900, 8 * 900, 9 * 900]
    assert book.call_stats("q").answered == 10  # the run's total is kept whole


def test_figures_since_a_time_need_intervals() -> None:
    with pytest.raises(ValueError, match="per interval"):
        MetricsBook(["q"]).call_stats("q", since=0)
