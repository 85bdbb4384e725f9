"""The call search on SQLite and PostgreSQL: every filter, numbers compared in E.164 whatever form
the caller ID came in, keyset pages that neither skip nor repeat a call, and one call's history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from callserver.facts.model import CallEnded, CallWrappedUp, Fact, Outcome
from callserver.store import Store
from callserver.store.call_search import BadCursor, CallQuery, Cursor
from callserver.voicemail.model import Mailbox, voicemail_id_of
from callserver.voicemail.store import VoicemailStore
from tests.store.facts import T0, abandoned_call, answered_call, queued, timed_out_call


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


def _seed(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(
        "name,phones,account\nAlice Martin,+33 1 40 00 00 01,A-100\nBob Stone,+44 20 7946 0958,B-200\n",
        encoding="utf-8",
    )
    return path


async def _ids(store: Store, region: str | None = "FR", **filters: object) -> list[str]:
    page = await store.search_calls(CallQuery(**filters), region=region)  # type: ignore[arg-type]
    return [f.call.id for f in page.calls]


async def _day(store: Store, tmp_path: Path) -> None:
    """Five calls a minute apart: Alice four times (once in national form), Bob once."""
    await store.load_customers(_seed(tmp_path))
    facts: list[Fact] = [
        *answered_call("c1", T0),  # +33140000001, a1 rang, a2 answered, sales
        *abandoned_call("c2", T0 + 60),  # +33140000001, sales
        queued("c3", T0 + 120, caller="0140000001", queue="support"),  # Alice, national form
        CallEnded("c3", T0 + 130, "support", Outcome.ABANDONED, None, 10.0),
        queued("c4", T0 + 180, caller="+442079460958", queue="support"),  # Bob
        CallEnded("c4", T0 + 190, "support", Outcome.ABANDONED, None, 10.0),
        *timed_out_call("c5", T0 + 240),  # +33140000001, sales -> support
    ]
    await store.apply(facts)
    await store.apply([CallWrappedUp("c1", T0 + 95, "a2", "refund", "money back", "agent2")])


async def test_no_filter_lists_every_call_newest_first(store: Store, tmp_path: Path) -> None:
    await _day(store, tmp_path)
    assert await _ids(store) == ["c5", "c4", "c3", "c2", "c1"]


async def test_a_number_in_any_form_finds_national_and_international_caller_ids(
    store: Store, tmp_path: Path
) -> None:
    await _day(store, tmp_path)
    for typed in ("+33 1 40 00 00 01", "0140000001", "0033140000001", "01 40 00 00 01"):
        assert await _ids(store, number=typed) == ["c5", "c3", "c2", "c1"], typed
    assert await _ids(store, number="+44 20 7946 0958") == ["c4"]
    assert await _ids(store, number="+33140000009") == []


async def test_without_a_region_a_national_number_is_compared_by_its_digits(
    store: Store, tmp_path: Path
) -> None:
    await _day(store, tmp_path)
    # the caller ID 0140000001 cannot be read without a region: the international search still finds it
    assert await _ids(store, region=None, number="+33140000001") == ["c5", "c3", "c2", "c1"]
    assert await _ids(store, region=None, number="0140000001") == ["c3"]


async def test_customer_by_account_name_or_id(store: Store, tmp_path: Path) -> None:
    await _day(store, tmp_path)
    alice = await store.find_customer_by_account("A-100")
    assert alice is not None
    assert await _ids(store, customer="A-100") == ["c5", "c3", "c2", "c1"]
    assert await _ids(store, customer="martin") == ["c5", "c3", "c2", "c1"]
    assert await _ids(store, customer=str(alice.id)) == ["c5", "c3", "c2", "c1"]
    assert await _ids(store, customer="stone") == ["c4"]
    assert await _ids(store, customer="nobody") == []
    assert await _ids(store, customer="\u00b2") == []  # a digit to Unicode, not to int()


async def test_agent_queue_outcome_and_time_filters(store: Store, tmp_path: Path) -> None:
    await _day(store, tmp_path)
    # a1 was rung for c1 (no answer), c2 (cancelled) and c5: offered counts, not only answered
    assert await _ids(store, agent="a1") == ["c5", "c2", "c1"]
    assert await _ids(store, agent="a2") == ["c1"]
    assert await _ids(store, queue="support") == ["c5", "c4", "c3"]  # c5 overflowed into support
    assert await _ids(store, outcome="abandoned") == ["c4", "c3", "c2"]
    assert await _ids(store, outcome="refund") == ["c1"]  # the wrap-up code
    assert await _ids(store, since=at(60), until=at(180)) == ["c3", "c2"]
    assert await _ids(store, queue="sales", outcome="timed_out") == ["c5"]


async def test_pages_follow_the_cursor_without_skipping_or_repeating(store: Store, tmp_path: Path) -> None:
    await _day(store, tmp_path)
    # two calls arriving in the same instant are ordered by id
    await store.apply([queued("c0", T0 + 240, queue="sales")])
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await store.search_calls(CallQuery(limit=2, after=after), region="FR")
        seen += [f.call.id for f in page.calls]
        pages += 1
        if page.next is None:
            break
        after = Cursor.decode(page.next.encode())
    assert seen == ["c5", "c0", "c4", "c3", "c2", "c1"]
    assert pages == 3


async def test_a_number_search_fills_its_pages_past_other_callers_with_the_same_last_digits(
    store: Store, tmp_path: Path
) -> None:
    await _day(store, tmp_path)
    # same 8 last digits, another country: found by the SQL prefilter, left out by the comparison
    await store.apply([queued(f"x{i}", T0 + 300 + i, caller="+4940000001") for i in range(5)])
    page = await store.search_calls(CallQuery(number="+33140000001", limit=2), region="FR")
    assert [f.call.id for f in page.calls] == ["c5", "c3"]
    assert page.next is not None
    rest = await store.search_calls(CallQuery(number="+33140000001", limit=2, after=page.next), region="FR")
    assert [f.call.id for f in rest.calls] == ["c2", "c1"] and rest.next is None


def test_a_cursor_not_made_here_is_refused() -> None:
    for text in ("not-base64!", "aGVsbG8", ""):
        with pytest.raises(BadCursor):
            Cursor.decode(text)


async def test_history_holds_the_row_facts_customer_and_voicemail(store: Store, tmp_path: Path) -> None:
    await _day(store, tmp_path)
    vms = VoicemailStore(store)
    vm = await vms.add(
        call_id="c2",
        caller_num="+33140000001",
        caller_name="",
        customer_id=None,
        box=Mailbox("queue", "sales"),
        queue="sales",
        recorded_at=at(75),
        duration=5.0,
        path=None,
        data={},
    )
    history = await store.call_history("c2", task_voicemail=voicemail_id_of)
    assert history is not None
    assert history.customer_name == "Alice Martin"
    assert [e.kind for e in history.events] == ["CallQueued", "CallOffered", "OfferEnded", "CallEnded"]
    assert [(v.id, v.has_audio) for v in history.voicemails] == [(vm.id, False)]
    page = await store.search_calls(CallQuery(), region="FR", task_voicemail=voicemail_id_of)
    assert {f.call.id: f.voicemail_id for f in page.calls}["c2"] == vm.id
    assert await store.call_history("nope") is None
