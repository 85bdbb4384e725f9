"""Turning facts into rows: the fact log plus the current picture of each call and offer (and,
through `store/scripts.py`, of each dialogue-script run and the customer fields scripts set, and of
each agent's state intervals).

This is the only code that writes call rows. A batch of facts is applied in memory to the rows it
touches, which are read first with one query per table, and then written back with bulk
statements (one INSERT or UPDATE per table: executemany, or COPY for the INSERTs on PostgreSQL,
see `store/bulk.py`) inside the caller's transaction: a handful of round trips per batch, however
many facts it holds. Every handler tolerates repeats and gaps (a call re-adopted after a reconnect
is queued again; a fact may arrive for a call the store never saw), because a failed batch would
otherwise block the writer for good.

Two exceptions to "read first": the calls rows earlier batches committed are held in memory
(`CallRows`), and an agent's state change ends the row left open by an earlier batch with a
conditional UPDATE instead of reading it (only a status change, which may open a login row, reads
the agent's open rows).

Agent state intervals are batched the same way (several facts per call change them). Facts about
the other tables (script runs, customer fields, campaigns) are applied through the session after
the bulk statements, in the order they came: they are few per call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import partial
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from callserver.facts.campaign import LeadsImported
from callserver.facts.model import (
    AgentPhoneChanged,
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallEndedWithReason,
    CallHeld,
    CallLinkedToCustomer,
    CallOffered,
    CallQueued,
    CallRejected,
    CallRequeued,
    CallResumed,
    CallTransferred,
    CallWrappedUp,
    CustomerFieldSet,
    Fact,
    IvrLeft,
    IvrNodeEntered,
    OfferEnded,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)
from callserver.store import scripts
from callserver.store.bulk import execute_many, insert_meanwhile, insert_rows
from callserver.store.campaign_facts import apply_campaign_fact, summary_of
from callserver.store.customers import customer_ids_for_number
from callserver.store.models import AgentStateRow, Call, CallEvent, CallOffer, Customer, utc
from callserver.store.records import CUSTOMER_MATCHES

log = logging.getLogger("callserver.store.facts")

ANSWERED = "answered"
CALLS = cast(Table, Call.__table__)
OFFERS = cast(Table, CallOffer.__table__)
EVENTS = cast(Table, CallEvent.__table__)
STATES = cast(Table, AgentStateRow.__table__)
CALL_COLUMNS = tuple(c.name for c in CALLS.columns)
# what a new calls row holds before any fact fills it: the columns' scalar defaults (a bulk INSERT
# does not apply the ORM's), else NULL
_CALL_DEFAULTS = {
    c.name: c.default.arg if isinstance(c.default, ScalarElementColumnDefault) else None
    for c in CALLS.columns
}
# bound parameters of a bulk UPDATE must not share a column's name
_KEY = "row_key"
# facts applied between two turns of the event loop while the log's rows are being sent
_YIELD_EVERY = 256
# IN lists are split so that no statement exceeds SQLite's bound-parameter limit
_CHUNK = 500

# the rows of an agent's kind of interval still open end at `_END`, or at their start if that is
# later (a fact older than the row's start, after a lost fact)
_AGENT, _KIND, _END = "row_agent", "row_kind", "row_end"
_END_OPEN_ROWS = (
    update(STATES)
    .where(
        STATES.c.agent_id == bindparam(_AGENT),
        STATES.c.kind == bindparam(_KIND),
        STATES.c.ended_at.is_(None),
    )
    .values(
        ended_at=case(
            (STATES.c.started_at > bindparam(_END, type_=STATES.c.started_at.type), STATES.c.started_at),
            else_=bindparam(_END, type_=STATES.c.started_at.type),
        )
    )
)

# UPDATEs of rows by id (the SET clause comes from the keys of the rows), and the column whose type
# converts each bound parameter
_UPDATE_CALLS = update(CALLS).where(CALLS.c.id == bindparam(_KEY))
_UPDATE_OFFERS = update(OFFERS).where(OFFERS.c.id == bindparam(_KEY))
_UPDATE_STATES = update(STATES).where(STATES.c.id == bindparam(_KEY))
_CALL_PARAMETERS = {**CALLS.c, _KEY: CALLS.c.id}
_OFFER_PARAMETERS = {**OFFERS.c, _KEY: OFFERS.c.id}
_STATE_PARAMETERS = {**STATES.c, _KEY: STATES.c.id}
_END_PARAMETERS = {_AGENT: STATES.c.agent_id, _KIND: STATES.c.kind, _END: STATES.c.started_at}

# the facts that change a calls row (the batch reads those rows first)
_CALL_ROW_FACTS = (
    CallQueued,
    CallOffered,
    OfferEnded,
    CallAnswered,
    CallRequeued,
    CallEnded,
    CallRejected,
    CallWrappedUp,
    CallLinkedToCustomer,
)

_SHAPES: dict[type[Any], tuple[tuple[str, ...], attrgetter[Any]]] = {}
_SCALARS = frozenset({str, int, float, bool, type(None)})  # JSON as they are (most fields)


class CallRows:
    """The calls rows as the last committed batches left them, so the next batch need not read
    them back (a call's facts span several batches: queued, offered and answered in one, ended in
    a later one). Reading them back was the largest part of a batch's reads: a query plus a
    mapping of two dozen columns per row, datetimes parsed.

    Sound only because nothing but this module writes calls rows (`tests/store/test_write_path.py`)
    and a Store keeps one of these for all its batches: `keep` is called after the batch's
    transaction committed, never for one that failed, so a held row is what the database holds.
    Bounded, least recently used first out; a row no longer held is read again. A row is about
    1.1 KB, so a full 20,000 (the calls of 100 s at 200 calls/s) hold about 23 MB."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._rows: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, call_id: str) -> dict[str, Any] | None:
        """The row as committed; the caller must not change it (a batch works on a copy)."""
        row = self._rows.get(call_id)
        if row is not None:
            self._rows.move_to_end(call_id)
        return row

    def keep(self, rows: dict[str, dict[str, Any]]) -> None:
        """The rows a committed batch left (they are no longer changed by it)."""
        self._rows.update(rows)
        for call_id in rows:
            self._rows.move_to_end(call_id)
        while len(self._rows) > self._size:
            self._rows.popitem(last=False)

    def clear(self) -> None:
        self._rows.clear()


def payload_of(fact: Fact) -> dict[str, Any]:
    """The whole fact as JSON-ready data (enums as their values); a list import as its figures.

    Flat facts (most of them) are read through a getter made once per type; a fact holding
    collections or records goes through `dataclasses.asdict`."""
    if isinstance(fact, LeadsImported):
        return summary_of(fact)
    shape = _SHAPES.get(type(fact))
    if shape is None:
        names = tuple(f.name for f in dataclasses.fields(fact))
        shape = _SHAPES[type(fact)] = (names, attrgetter(*names))
    names, values = shape
    payload = dict(zip(names, values(fact) if len(names) > 1 else (values(fact),), strict=True))
    for name, value in payload.items():
        if type(value) in _SCALARS:
            continue
        if isinstance(value, Enum):
            payload[name] = value.value
        elif isinstance(value, tuple | list | dict) or dataclasses.is_dataclass(value):
            payload[name] = _plain(value)
    return payload


def _plain(value: Any) -> Any:
    """A field's value as JSON-ready data: containers copied (the fact keeps its own), records as
    mappings, enums as their values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def event_row(fact: Fact) -> dict[str, Any]:
    """The fact's row in the log. The payload is the fact itself: the store's JSON encoder
    (`callserver/jsontext.py`, orjson) writes a record as `payload_of` would make it, fields in
    order and enums as their values, without the mapping made in Python first (2.5 µs a fact).
    `tests/store/test_every_fact.py` reads every type back and compares it with `payload_of`."""
    return {
        "at": utc(fact.at),
        "call_id": getattr(fact, "call_id", None),
        "agent_id": getattr(fact, "agent_id", None),
        "kind": type(fact).__name__,
        "payload": summary_of(fact) if isinstance(fact, LeadsImported) else fact,
    }


@dataclass(slots=True)
class _Offer:
    """A call_offers row; `id` None until inserted, `rank` orders rows as their ids would."""

    values: dict[str, Any]
    rank: int
    id: int | None = None
    dirty: bool = False


@dataclass(slots=True)
class _Interval:
    """An agent_states row; `id` None until inserted."""

    values: dict[str, Any]
    id: int | None = None
    dirty: bool = False


@dataclass(slots=True)
class Batch:
    """The rows a batch of facts touches, read once, changed in memory, then written in bulk."""

    session: AsyncSession
    held: CallRows | None = None  # rows earlier batches committed (read instead of the table)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # calls as read, to diff
    new_calls: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    offers: dict[str, list[_Offer]] = field(default_factory=dict)
    known_customers: set[int] = field(default_factory=set)
    # customers owning each caller number whose call data did not bring the lookup's result
    numbers: dict[str, list[int]] = field(default_factory=dict)
    # (agent, kind) -> its open intervals (more than one only after a lost fact); every interval
    # read or made by the batch, in order
    open_intervals: dict[tuple[str, str], list[_Interval]] = field(default_factory=dict)
    intervals: list[_Interval] = field(default_factory=list)
    # agents whose open intervals were read (those with a status fact in the batch: opening a
    # login interval depends on whether one is open); for the others, the intervals still open in
    # the table are ended by a conditional UPDATE, `(agent, kind) -> end`, the first end of each
    ended_in_table: dict[tuple[str, str], datetime] = field(default_factory=dict)
    read_agents: set[str] = field(default_factory=set)
    # session work for other tables, run in order after the bulk statements
    later: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _rank: int = 1 << 62  # new offers rank after every stored one, in the order they are made

    async def load(self, facts: Sequence[Fact]) -> None:
        """Read the call and offer rows and the customers the batch refers to."""
        call_ids = {f.call_id for f in facts if isinstance(f, _CALL_ROW_FACTS)}
        with_offers = {f.call_id for f in facts if isinstance(f, CallOffered | OfferEnded | CallAnswered)}
        linked = {f.customer_id for f in facts if isinstance(f, CallLinkedToCustomer) and f.customer_id}
        # State changes (three a call) only end the open row of their kind and open another: that
        # needs no read (see ended_in_table). A status change may open a login row, if none is.
        agents = {f.agent_id for f in facts if isinstance(f, AgentStatusChanged)}
        self.read_agents = agents
        if self.held is not None:
            for call_id in list(call_ids):
                if (kept := self.held.get(call_id)) is not None:
                    self.stored[call_id] = kept
                    self.calls[call_id] = dict(kept)
                    call_ids.discard(call_id)
        for chunk in _chunks(call_ids):
            for row in await self.session.execute(select(CALLS).where(CALLS.c.id.in_(chunk))):
                self.stored[row.id] = dict(row._mapping)
                self.calls[row.id] = dict(row._mapping)
        for chunk in _chunks(with_offers):
            query = select(OFFERS).where(OFFERS.c.call_id.in_(chunk)).order_by(OFFERS.c.id)
            for row in await self.session.execute(query):
                values = dict(row._mapping)
                offer = _Offer(values, rank=values["id"], id=values.pop("id"))
                self.offers.setdefault(row.call_id, []).append(offer)
        for chunk in _chunks(linked):
            found = await self.session.scalars(select(Customer.id).where(Customer.id.in_(chunk)))
            self.known_customers.update(found)
        for f in facts:
            # new calls whose inbound script did not send the lookup's result (see _queued)
            if (
                isinstance(f, CallQueued)
                and f.caller_num
                and f.caller_num not in self.numbers
                and f.call_id not in self.calls
                and not isinstance((f.data or {}).get(CUSTOMER_MATCHES), list)
            ):
                self.numbers[f.caller_num] = await customer_ids_for_number(self.session, f.caller_num)
        for chunk in _chunks(agents):
            query = (
                select(STATES)
                .where(STATES.c.agent_id.in_(chunk), STATES.c.ended_at.is_(None))
                .order_by(STATES.c.id)
            )
            for row in await self.session.execute(query):
                values = dict(row._mapping)
                interval = _Interval(values, id=values.pop("id"))
                self.intervals.append(interval)
                self.open_intervals.setdefault((row.agent_id, row.kind), []).append(interval)

    def close_interval(self, agent_id: str, kind: str, at: float) -> None:
        """End the agent's open intervals of this kind at `at`."""
        end = utc(at)
        if agent_id not in self.read_agents:
            # rows left open by earlier batches end at the first end this batch gives them
            self.ended_in_table.setdefault((agent_id, kind), end)
        for interval in self.open_intervals.pop((agent_id, kind), ()):
            interval.values["ended_at"] = max(end, interval.values["started_at"])
            interval.dirty = True

    def open_interval(
        self, agent_id: str, kind: str, state: str, at: float, *, reason: str = "", call: str | None
    ) -> None:
        values = {
            "agent_id": agent_id,
            "kind": kind,
            "state": state,
            "reason": reason,
            "call_id": call,
            "started_at": utc(at),
            "ended_at": None,
        }
        interval = _Interval(values)
        self.intervals.append(interval)
        self.open_intervals.setdefault((agent_id, kind), []).append(interval)

    def is_open(self, agent_id: str, kind: str) -> bool:
        return bool(self.open_intervals.get((agent_id, kind)))

    def call(self, call_id: str, at: float, queue: str = "") -> dict[str, Any]:
        """The call's row, made on the spot if this is the first fact the store sees for it."""
        row = self.calls.get(call_id)
        if row is None:
            row = dict(_CALL_DEFAULTS)
            row.update(
                id=call_id,
                channel="",
                caller_num="",
                caller_name="",
                dnis="",
                queue=queue,
                first_queue=queue,
                arrived_at=utc(at),
                offers=0,
            )
            self.calls[call_id] = row
            self.new_calls[call_id] = None
        return row

    def offer(self, call_id: str, leg_id: str) -> _Offer | None:
        return next((o for o in self.offers.get(call_id, ()) if o.values["leg_id"] == leg_id), None)

    def add_offer(self, call_id: str, values: dict[str, Any]) -> _Offer:
        self._rank += 1
        offer = _Offer({"call_id": call_id, "ended_at": None, "result": None, **values}, self._rank)
        self.offers.setdefault(call_id, []).append(offer)
        return offer

    async def write(self) -> None:
        """Everything the batch changed, a statement per table (the caller commits)."""
        s = self.session
        if self.new_calls:
            await insert_rows(s, CALLS, [self.calls[c] for c in self.new_calls])
        # stored calls: only the columns that changed, one executemany per set of columns (the
        # SET clause comes from the keys of the rows)
        changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for call_id, before in self.stored.items():
            after = self.calls[call_id]
            columns = tuple(k for k in CALL_COLUMNS if after[k] != before[k])
            if columns:
                changes.setdefault(columns, []).append({_KEY: call_id, **{k: after[k] for k in columns}})
        for rows in changes.values():
            await execute_many(s, _UPDATE_CALLS, rows, _CALL_PARAMETERS)
        offers = [o for found in self.offers.values() for o in found]
        added = [o.values for o in offers if o.id is None]
        await insert_rows(s, OFFERS, added)
        changed = [o for o in offers if o.id is not None and o.dirty]
        if changed:
            rows = [
                {_KEY: o.id, "ended_at": o.values["ended_at"], "result": o.values["result"]} for o in changed
            ]
            await execute_many(s, _UPDATE_OFFERS, rows, _OFFER_PARAMETERS)
        if self.ended_in_table:  # before the INSERT: the rows it adds are open too
            rows = [{_AGENT: a, _KIND: k, _END: end} for (a, k), end in self.ended_in_table.items()]
            await execute_many(s, _END_OPEN_ROWS, rows, _END_PARAMETERS)
        added_intervals = [i.values for i in self.intervals if i.id is None]
        await insert_rows(s, STATES, added_intervals)
        ended = [{_KEY: i.id, "ended_at": i.values["ended_at"]} for i in self.intervals if i.id and i.dirty]
        if ended:
            await execute_many(s, _UPDATE_STATES, ended, _STATE_PARAMETERS)
        for work in self.later:
            await work()
        if self.later:
            await s.flush()


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    items = sorted(values)
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _queued(b: Batch, f: CallQueued) -> None:
    existing = f.call_id in b.calls
    call = b.call(f.call_id, f.at, f.queue)
    call.update(channel=f.channel, caller_num=f.caller_num, caller_name=f.caller_name, dnis=f.dnis)
    call["queue"] = f.queue
    call["first_queue"] = call["first_queue"] or f.queue
    if call["queued_at"] is None:
        call["queued_at"] = utc(f.at)
    if not existing and f.caller_num and call["customer_id"] is None:
        # the inbound script looked the number up once and the result travels in the call data
        found = (f.data or {}).get(CUSTOMER_MATCHES)
        ids = found if isinstance(found, list) else b.numbers.get(f.caller_num, [])
        # A number shared by several customers identifies none of them.
        if len(ids) == 1:
            call["customer_id"] = ids[0]


def _offered(b: Batch, f: CallOffered) -> None:
    call = b.call(f.call_id, f.at, f.queue)
    if b.offer(f.call_id, f.leg_id) is not None:
        return
    b.add_offer(
        f.call_id,
        {"attempt": f.attempt, "agent_id": f.agent_id, "leg_id": f.leg_id, "offered_at": utc(f.at)},
    )
    call["offers"] = (call["offers"] or 0) + 1
    if call["first_offered_at"] is None:
        call["first_offered_at"] = utc(f.at)


def _offer_ended(b: Batch, f: OfferEnded) -> None:
    b.call(f.call_id, f.at)
    offer = b.offer(f.call_id, f.leg_id)
    if offer is None:
        offer = b.add_offer(
            f.call_id, {"attempt": 0, "agent_id": f.agent_id, "leg_id": f.leg_id, "offered_at": utc(f.at)}
        )
    offer.values["ended_at"] = utc(f.at)
    offer.values["result"] = str(f.result.value)
    offer.dirty = True


def _answered(b: Batch, f: CallAnswered) -> None:
    call = b.call(f.call_id, f.at, f.queue)
    call.update(answered_at=utc(f.at), agent_id=f.agent_id, wait=f.wait)
    mine = [o for o in b.offers.get(f.call_id, ()) if o.values["agent_id"] == f.agent_id]
    if mine:
        # the agent's open offer first, then the latest one
        offer = min(mine, key=_answer_order)
        offer.values["result"] = ANSWERED
        offer.values["ended_at"] = offer.values["ended_at"] or utc(f.at)
        offer.dirty = True


def _answer_order(o: _Offer) -> tuple[bool, float, int]:
    offered: datetime = o.values["offered_at"]
    return (o.values["result"] is not None, -offered.timestamp(), -o.rank)


def _requeued(b: Batch, f: CallRequeued) -> None:
    call = b.call(f.call_id, f.at, f.from_queue)
    call["queue"] = f.to_queue


def _ended(b: Batch, f: CallEnded) -> None:
    call = b.call(f.call_id, f.at, f.queue)
    call.update(ended_at=utc(f.at), outcome=str(f.outcome.value), wait=f.wait)
    call["queue"] = f.queue or call["queue"]
    if isinstance(f, CallEndedWithReason):
        call.update(end_reason=f.reason, end_estimated=f.estimated)
    if f.agent_id is not None:
        call["agent_id"] = f.agent_id


def _rejected(b: Batch, f: CallRejected) -> None:
    call = b.call(f.call_id, f.at)
    call.update(channel=f.channel, caller_num=f.caller_num, caller_name=f.caller_name, dnis=f.dnis)
    call.update(ended_at=utc(f.at), outcome="failed", wait=0.0)


def _wrapped_up(b: Batch, f: CallWrappedUp) -> None:
    call = b.call(f.call_id, f.at)
    # nothing chosen when the time ran out: no code on the row, and the row says it timed out
    call.update(wrapup_outcome=f.code or None, wrapup_note=f.note, wrapup_at=utc(f.at))
    call["wrapup_timed_out"] = f.timed_out


# -- agent state intervals --------------------------------------------------------------------
# kinds of interval (see models.AgentStateRow); an agent has at most one open row of each kind

LOGIN, STATUS, STATE = "login", "status", "state"


def _status_interval(b: Batch, f: AgentStatusChanged) -> None:
    b.close_interval(f.agent_id, STATUS, f.at)
    if f.status == "logged_out":
        b.close_interval(f.agent_id, LOGIN, f.at)
        return
    b.open_interval(f.agent_id, STATUS, f.status, f.at, reason=f.reason, call=None)
    if not b.is_open(f.agent_id, LOGIN):
        b.open_interval(f.agent_id, LOGIN, "logged_in", f.at, call=None)


def _state_interval(b: Batch, agent_id: str, state: str, at: float, call: str | None) -> None:
    b.close_interval(agent_id, STATE, at)
    b.open_interval(agent_id, STATE, state, at, call=call)


def _linked(b: Batch, f: CallLinkedToCustomer) -> None:
    call = b.call(f.call_id, f.at)
    if f.customer_id is not None and f.customer_id not in b.known_customers:
        # the fact stays in the log; the row keeps its customer rather than failing the batch
        log.warning("call %s: link by %s to unknown customer %s ignored", f.call_id, f.by, f.customer_id)
        return
    call["customer_id"] = f.customer_id


def apply_fact(b: Batch, fact: Fact) -> None:
    """Update, in the batch, the rows the fact changes (its row in the log is made apart, by
    `event_row`)."""
    if not isinstance(fact, Fact):  # untyped callers: refuse before anything is written
        raise TypeError(f"the store does not know the fact {type(fact).__name__}")
    s = b.session
    match fact:
        case CallQueued():
            _queued(b, fact)
        case CallOffered():
            _offered(b, fact)
        case OfferEnded():
            _offer_ended(b, fact)
        case CallAnswered():
            _answered(b, fact)
        case CallRequeued():
            _requeued(b, fact)
        case CallEnded():
            _ended(b, fact)
        case CallRejected():
            _rejected(b, fact)
        case CallWrappedUp():
            _wrapped_up(b, fact)
        case CallLinkedToCustomer():
            _linked(b, fact)
        case CustomerFieldSet():
            b.later.append(partial(scripts.field_set, s, fact))
        case ScriptRunStarted():
            b.later.append(partial(scripts.run_started, s, fact))
        case ScriptStepReached():
            b.later.append(partial(scripts.step_reached, s, fact))
        case ScriptAnswered():
            b.later.append(partial(scripts.answered, s, fact))
        case ScriptRunEnded():
            b.later.append(partial(scripts.run_ended, s, fact))
        case CallHeld():
            if (agent := fact.agent_id) is not None:
                _state_interval(b, agent, "on_hold", fact.at, fact.call_id)
        case CallResumed():
            if (agent := fact.agent_id) is not None:
                _state_interval(b, agent, "on_call", fact.at, fact.call_id)
        case CallTransferred() | CallbackRequested() | TransferProgress():
            pass  # only in the log; the facts that follow them (requeued, answered, ended) update the row
        case AgentStatusChanged():
            _status_interval(b, fact)
        case AgentStateChanged():
            _state_interval(b, fact.agent_id, fact.new, fact.at, fact.call_id)
        case WrapupExtended():
            pass  # the wrap-up interval ends when the state changes
        case AgentPhoneChanged():
            pass  # only in the log: the agent's status and state intervals are unchanged
        case IvrNodeEntered() | IvrLeft():
            pass  # only in the log: the reports fold them, the call's timeline reads them back
        case _:
            b.later.append(partial(apply_campaign_fact, s, fact))


async def apply_facts(session: AsyncSession, facts: Sequence[Fact], held: CallRows | None = None) -> Batch:
    """Log `facts` and update the call rows they concern, inside the caller's transaction.

    `held`: calls rows earlier batches committed; the caller hands it the batch's `calls` once this
    transaction has committed (`CallRows.keep`)."""
    for fact in facts:
        if not isinstance(fact, Fact):
            raise TypeError(f"the store does not know the fact {type(fact).__name__}")
    batch = Batch(session, held)
    await batch.load(facts)
    # The log's rows depend on nothing the batch reads or changes: on PostgreSQL the server
    # inserts them while the facts are applied here (`store/bulk.py`).
    log_rows = await insert_meanwhile(session, EVENTS, [event_row(fact) for fact in facts])
    try:
        for n, fact in enumerate(facts, 1):
            apply_fact(batch, fact)
            if n % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # the loop sends what is left of the log's rows
        await log_rows.finish()
    except BaseException:
        await log_rows.abandon()
        raise
    await batch.write()
    return batch
