"""Finding calls for supervisors: by time, caller number, customer, agent, queue and outcome, a page
at a time, newest first; and everything the store holds about one call, for its timeline.

Pages are cut by keyset (the last call's arrival time and id, carried in an opaque cursor), so the
hundredth page costs what the first does and a call arriving meanwhile never shifts a page. Caller
numbers are compared as E.164, as customers' phones are: a search for `+33 1 40 00 00 01` finds a
call whose caller ID came in national form (`0140000001`), and the other way round.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callserver.store.customers import normalise_number, same_number, tail_of
from callserver.store.models import (
    AgentStateRow,
    Call,
    CallEvent,
    CallOffer,
    Customer,
    ScriptRunRow,
    VoicemailRow,
)
from callserver.store.phones import e164_or_none
from callserver.store.records import AgentInterval, CallRecord, EventRecord
from callserver.store.rows import call_record, event_record

TaskVoicemail = Callable[[str], int | None]
"""The voicemail a call id stands for when the call is a voicemail task (`voicemail.model`)."""


def no_tasks(_call_id: str) -> int | None:
    return None


# a number search filters on the subscriber's last digits in SQL, then compares whole numbers here:
# rows are read in chunks until a page is full
_CHUNK = 200


class BadCursor(ValueError):
    """A cursor this server did not hand out (or a damaged one)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after the call that arrived at `arrived_at` with id `call_id`."""

    arrived_at: datetime
    call_id: str

    def encode(self) -> str:
        raw = f"{self.arrived_at.astimezone(UTC).isoformat()}|{self.call_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            when, sep, call_id = raw.partition("|")
            arrived_at = datetime.fromisoformat(when)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadCursor("not a cursor from this server") from None
        if not sep or not call_id or arrived_at.tzinfo is None:
            raise BadCursor("not a cursor from this server")
        return cls(arrived_at, call_id)


@dataclass(frozen=True, slots=True)
class CallQuery:
    """What a supervisor searches for; every field left None matches every call.

    `since` is inclusive and `until` exclusive (arrival times). `number` is a caller number as typed
    (spaces, national or international form); `customer` a customer id, an account, or part of a
    name; `agent` an agent who was offered or took the call; `queue` the queue the call was in, first
    or last; `outcome` how the call ended (answered, abandoned...) or the agent's wrap-up code.
    """

    since: datetime | None = None
    until: datetime | None = None
    number: str | None = None
    customer: str | None = None
    agent: str | None = None
    queue: str | None = None
    outcome: str | None = None
    limit: int = 50
    after: Cursor | None = None


@dataclass(frozen=True, slots=True)
class FoundCall:
    call: CallRecord
    customer_name: str | None
    voicemail_id: int | None  # a message left in the call, or the message this task is


@dataclass(frozen=True, slots=True)
class CallPage:
    calls: tuple[FoundCall, ...]
    next: Cursor | None  # None on the last page


@dataclass(frozen=True, slots=True)
class VoicemailOfCall:
    id: int
    box: str
    recorded_at: datetime
    duration: float | None
    has_audio: bool
    status: str
    agent_id: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class ScriptRunOfCall:
    run_id: str
    script_id: str
    title: str
    status: str
    outcome: str | None
    agent_id: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class CallHistory:
    """One call as the store knows it: its row, every fact logged for it in order, the voicemail
    left in it (or that it is, for a voicemail task), and the dialogue scripts run on it."""

    call: CallRecord
    customer_name: str | None
    events: tuple[EventRecord, ...]
    voicemails: tuple[VoicemailOfCall, ...]
    script_runs: tuple[ScriptRunOfCall, ...]
    wrapups: tuple[AgentInterval, ...]  # the agents' wrap-up intervals for this call


def _number_condition(number: str, region: str | None) -> tuple[ColumnElement[bool], str | None]:
    """The SQL prefilter for a caller number, and the E.164 form to compare whole numbers with
    (None: the text is not a dialable number, e.g. an internal extension: compared as digits)."""
    wanted = e164_or_none(number, region)
    if wanted is None:
        digits = normalise_number(number) or number.strip()
        return Call.caller_num == digits, None
    return Call.caller_num.endswith(tail_of(wanted), autoescape=True), wanted


def same_caller(wanted: str, caller_num: str, region: str | None) -> bool:
    """Whether a call's caller ID is the E.164 number `wanted` (caller IDs come as the PBX gives them)."""
    known = e164_or_none(caller_num, region)
    if known is not None:
        return known == wanted
    plain = normalise_number(caller_num)
    return plain is not None and same_number(wanted, plain)


def _customer_condition(text: str) -> ColumnElement[bool]:
    words = text.strip()
    options: list[ColumnElement[bool]] = [
        Customer.account == words,
        func.lower(Customer.name).contains(words.lower(), autoescape=True),
    ]
    if re.fullmatch(r"[0-9]{1,18}", words):
        options.append(Customer.id == int(words))
    return Call.customer_id.in_(select(Customer.id).where(or_(*options)))


def _filtered(query: CallQuery, region: str | None) -> tuple[Select[Call], str | None]:
    stmt = select(Call)
    wanted: str | None = None
    if query.since is not None:
        stmt = stmt.where(Call.arrived_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(Call.arrived_at < query.until)
    if query.number is not None:
        condition, wanted = _number_condition(query.number, region)
        stmt = stmt.where(condition)
    if query.customer is not None:
        stmt = stmt.where(_customer_condition(query.customer))
    if query.agent is not None:
        offered = select(CallOffer.call_id).where(CallOffer.agent_id == query.agent)
        stmt = stmt.where(or_(Call.agent_id == query.agent, Call.id.in_(offered)))
    if query.queue is not None:
        stmt = stmt.where(or_(Call.queue == query.queue, Call.first_queue == query.queue))
    if query.outcome is not None:
        stmt = stmt.where(or_(Call.outcome == query.outcome, Call.wrapup_outcome == query.outcome))
    return stmt, wanted


def _after(cursor: Cursor) -> ColumnElement[bool]:
    return or_(
        Call.arrived_at < cursor.arrived_at,
        and_(Call.arrived_at == cursor.arrived_at, Call.id < cursor.call_id),
    )


async def search_calls(
    session: AsyncSession, query: CallQuery, region: str | None, task_voicemail: TaskVoicemail = no_tasks
) -> CallPage:
    """One page of the calls matching `query`, newest first, with the cursor of the next page."""
    stmt, wanted = _filtered(query, region)
    stmt = stmt.order_by(Call.arrived_at.desc(), Call.id.desc())
    found: list[Call] = []
    after = query.after
    more = False
    while True:
        chunk_stmt = stmt if after is None else stmt.where(_after(after))
        size = query.limit + 1 if wanted is None else max(_CHUNK, query.limit + 1)
        rows = list((await session.scalars(chunk_stmt.limit(size))).all())
        for row in rows:
            if wanted is None or same_caller(wanted, row.caller_num, region):
                found.append(row)
        if len(found) > query.limit:
            more = True
            break
        if len(rows) < size:
            break
        after = Cursor(rows[-1].arrived_at, rows[-1].id)
    page = found[: query.limit]
    names = await _customer_names(session, [c.customer_id for c in page if c.customer_id is not None])
    voicemails = await _voicemail_ids(session, [c.id for c in page], task_voicemail)
    calls = tuple(
        FoundCall(
            call_record(c),
            names.get(c.customer_id) if c.customer_id is not None else None,
            voicemails.get(c.id),
        )
        for c in page
    )
    next_cursor = Cursor(page[-1].arrived_at, page[-1].id) if more and page else None
    return CallPage(calls, next_cursor)


async def _customer_names(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(set(ids))))
    return {int(i): str(name) for i, name in rows}


def _task_ids(call_ids: Sequence[str], task_voicemail: TaskVoicemail) -> dict[int, str]:
    """Voicemail tasks among `call_ids`, by voicemail id."""
    found: dict[int, str] = {}
    for call_id in call_ids:
        voicemail_id = task_voicemail(call_id)
        if voicemail_id is not None:
            found[voicemail_id] = call_id
    return found


async def _voicemail_ids(
    session: AsyncSession, call_ids: Sequence[str], task_voicemail: TaskVoicemail
) -> dict[str, int]:
    """The voicemail of each call that has one: left during it, or the message a task is."""
    if not call_ids:
        return {}
    tasks = _task_ids(call_ids, task_voicemail)
    condition: ColumnElement[bool] = VoicemailRow.call_id.in_(call_ids)
    if tasks:
        condition = or_(condition, VoicemailRow.id.in_(tasks))
    found: dict[str, int] = {}
    for voicemail_id, call_id in await session.execute(
        select(VoicemailRow.id, VoicemailRow.call_id).where(condition).order_by(VoicemailRow.id)
    ):
        found.setdefault(tasks.get(voicemail_id, call_id), voicemail_id)
    return found


async def call_history(
    session: AsyncSession, call_id: str, task_voicemail: TaskVoicemail = no_tasks
) -> CallHistory | None:
    """Everything about one call for its timeline; None when the store has no such call."""
    row = await session.get(Call, call_id)
    if row is None:
        return None
    names = await _customer_names(session, [row.customer_id] if row.customer_id is not None else [])
    events = (
        await session.scalars(select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id))
    ).all()
    tasks = _task_ids([call_id], task_voicemail)
    condition: ColumnElement[bool] = VoicemailRow.call_id == call_id
    if tasks:
        condition = or_(condition, VoicemailRow.id.in_(tasks))
    left = select(VoicemailRow).where(condition).order_by(VoicemailRow.id)
    voicemails = (await session.scalars(left)).all()
    runs = (
        await session.scalars(
            select(ScriptRunRow).where(ScriptRunRow.call_id == call_id).order_by(ScriptRunRow.started_at)
        )
    ).all()
    wrapups = (
        await session.scalars(
            select(AgentStateRow)
            .where(AgentStateRow.call_id == call_id, AgentStateRow.state == "wrapup")
            .order_by(AgentStateRow.started_at, AgentStateRow.id)
        )
    ).all()
    return CallHistory(
        call=call_record(row),
        customer_name=names.get(row.customer_id) if row.customer_id is not None else None,
        events=tuple(event_record(e) for e in events),
        voicemails=tuple(
            VoicemailOfCall(
                v.id, v.box, v.recorded_at, v.duration, v.path is not None, v.status, v.agent_id, v.outcome
            )
            for v in voicemails
        ),
        script_runs=tuple(
            ScriptRunOfCall(
                r.id, r.script_id, r.title, r.status, r.outcome, r.agent_id, r.started_at, r.ended_at
            )
            for r in runs
        ),
        wrapups=tuple(
            AgentInterval(w.agent_id, w.kind, w.state, w.reason, w.call_id, w.started_at, w.ended_at)
            for w in wrapups
        ),
    )
