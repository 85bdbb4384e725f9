"""Database schema: agents and queues mirrored from config, customers and their extra fields,
calls, the fact log, voicemails, dialogue-script runs and scheduled callbacks.

The ORM classes stay inside `callserver.store`; the public API hands out frozen records instead,
so no caller can trigger lazy loading (which fails under asyncio) or hold a session open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names so later migrations (batch mode on SQLite) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Always hand back timezone-aware UTC, even from SQLite, which forgets the offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite, the text SQLAlchemy's DATETIME writes (`2026-09-21 14:13:20.000000`, UTC, no
        offset) made by `isoformat` in one C call: the generic path (this decorator's conversion,
        then DATETIME's formatting of seven fields) was over a microsecond a value, and a fact
        writes three to four of them. `tests/store/test_datetimes.py` checks the texts agree."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def sqlite_text(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:
                if value.tzinfo is None:
                    raise ValueError("naive datetime given to a UTC column")
                value = value.astimezone(UTC)
            # the text of an aware UTC time ends in "+00:00": cut rather than copy the datetime
            return value.isoformat(" ", "microseconds")[:26]

        return sqlite_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, the text `sqlite_text` (and SQLAlchemy's DATETIME) writes read back by
        `datetime.fromisoformat` in one C call, made aware as UTC by the offset appended: the
        generic path (DATETIME's parsing, then this decorator's `process_result_value`) was 1.5 µs
        a value, six times as long, and a screen-pop's history reads thirty of them. Any other
        shape of text (no microseconds, a date alone, an offset) takes the generic path, which
        `tests/store/test_datetimes.py` checks gives the same values."""
        generic = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or generic is None:
            return generic

        def sqlite_datetime(value: Any) -> Any:
            if type(value) is str and len(value) == 26 and value[10] == " ":
                try:
                    return datetime.fromisoformat(value + "+00:00")
                except ValueError:
                    pass  # not a time after all: the generic path says what is wrong
            return generic(value)

        return sqlite_datetime

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    login: Mapped[str] = mapped_column(String(64), unique=True)
    interface: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(32))
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Agents dropped from config stay (their calls refer to them) but are marked inactive.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Queue(Base):
    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    dnis: Mapped[list[str]] = mapped_column(default=list)
    skills: Mapped[list[str]] = mapped_column(default=list)
    max_wait: Mapped[float] = mapped_column(Float)
    ring_timeout: Mapped[float] = mapped_column(Float)
    wrapup: Mapped[float] = mapped_column(Float)
    on_timeout_queue: Mapped[str | None] = mapped_column(String(64))
    on_timeout_message: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    account: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(16))
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CustomerPhone(Base):
    """One normalised number per row; `tail` (last digits) finds national/international variants."""

    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(24), index=True)
    tail: Mapped[str] = mapped_column(String(8), index=True)
    raw: Mapped[str] = mapped_column(String(64))


class Call(Base):
    """One row per call, keyed by the caller channel's uniqueid; the current picture of the call."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_queue_arrived_at", "queue", "arrived_at"),
        Index("ix_calls_customer_arrived_at", "customer_id", "arrived_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(200), default="")
    caller_num: Mapped[str] = mapped_column(String(64), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    dnis: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    first_queue: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    arrived_at: Mapped[datetime] = mapped_column(index=True)
    queued_at: Mapped[datetime | None]
    first_offered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # No foreign key: facts may name an agent that config no longer (or not yet) lists.
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16), index=True)
    wait: Mapped[float | None] = mapped_column(Float)
    # what the agent recorded in wrap-up (a configured outcome code and a free note)
    wrapup_outcome: Mapped[str | None] = mapped_column(String(32))
    wrapup_note: Mapped[str | None] = mapped_column(Text)
    wrapup_at: Mapped[datetime | None]
    # the wrap-up time ran out: what was chosen or typed then was saved by the server
    wrapup_timed_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # set when callserver did not see the call end (cut by the PBX, ended while the link or the
    # server was down): why, and whether ended_at is only the last moment it was known to be up
    end_reason: Mapped[str | None] = mapped_column(String(200))
    end_estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CallOffer(Base):
    __tablename__ = "call_offers"
    __table_args__ = (UniqueConstraint("call_id", "leg_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    leg_id: Mapped[str] = mapped_column(String(64))
    offered_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(16))


class CallEvent(Base):
    """Append-only log of every fact, whole, in the order it was applied."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]


class AgentStateRow(Base):
    """One interval of an agent's day, from `started_at` to `ended_at` (None while it lasts).

    Three kinds overlap: `login` (state `logged_in`: from leaving `logged_out` until going back to
    it), `status` (`available`, or `paused` with its `reason`) and `state` (`idle`, `ringing`,
    `on_call`, `on_hold`, `wrapup`, with the call). Written from agent and hold facts only.
    """

    __tablename__ = "agent_states"
    __table_args__ = (
        Index("ix_agent_states_agent_kind_ended", "agent_id", "kind", "ended_at"),
        Index("ix_agent_states_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    call_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class VoicemailRow(Base):
    """A message left in a mailbox; `callserver.voicemail.store` is its repository."""

    __tablename__ = "voicemails"
    __table_args__ = (
        Index("ix_voicemails_status_box", "status", "box"),
        Index("ix_voicemails_agent_status", "agent_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    caller_num: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    # No foreign key: the IVR may carry a customer id the store does not know, and the message
    # must be kept all the same.
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    box: Mapped[str] = mapped_column(String(140))  # queue:<name> or agent:<id>
    queue: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime]
    duration: Mapped[float | None] = mapped_column(Float)
    path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # a VoicemailStatus value
    agent_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    callback_call_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class CustomerFieldRow(Base):
    """One extra customer field (configured under `customers.fields`), kept as canonical text."""

    __tablename__ = "customer_fields"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ScriptRunRow(Base):
    """One use of a dialogue script: by an agent on a call, or by a customer on the web (`call_id`
    is then the web contact's id). Written only from the script facts (`store/scripts.py`)."""

    __tablename__ = "script_runs"
    __table_args__ = (
        Index("ix_script_runs_customer_started_at", "customer_id", "started_at"),
        Index("ix_script_runs_script_started_at", "script_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    script_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))  # "agent" or "web"
    agent_id: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))  # a scripts.record.RunStatus value
    step: Mapped[str] = mapped_column(String(64), default="")  # where the run is, or ended
    title: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str | None] = mapped_column(String(32))
    path: Mapped[list[str]] = mapped_column(default=list)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # the engine's whole record once the run has ended (events included), as plain JSON
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ScriptAnswerRow(Base):
    """An answer given during a run: its place in the path, the question as shown, who and when."""

    __tablename__ = "script_answers"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("script_runs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)  # canonical: true, 42.10, 2026-03-05
    shown: Mapped[str] = mapped_column(Text)  # as the person saw it
    answered_by: Mapped[str] = mapped_column(String(64))  # an agent id, or "customer"
    at: Mapped[datetime]


class ScheduledCallbackRow(Base):
    """A callback request or a task made by a script, routed to agents by the ACD when it is due;
    `callserver.store.callbacks` is its repository."""

    __tablename__ = "scheduled_callbacks"
    __table_args__ = (Index("ix_scheduled_callbacks_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "callback" or "task"
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(64))  # the call or web contact it came from
    # no foreign key: the request must survive whatever happens to the customer's record
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    queue: Mapped[str] = mapped_column(String(64))
    reserved_for: Mapped[str | None] = mapped_column(String(64))  # only this agent may take it
    requirement: Mapped[str | None] = mapped_column(String(500))  # instead of the queue's steps
    number: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    handover: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # a callbacks.model.CallbackStatus value
    agent_id: Mapped[str | None] = mapped_column(String(64))  # who has it
    outcome: Mapped[str | None] = mapped_column(String(64))
    dial_id: Mapped[str | None] = mapped_column(String(64))  # the call placed to the customer
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


def utc(at: float) -> datetime:
    """Fact timestamps are float seconds since the Unix epoch."""
    return datetime.fromtimestamp(at, UTC)


def _counter_columns() -> dict[str, Any]:
    """The counters of `callserver.reports.counters.Counters`, one column each (all NOT NULL, 0).

    Made from the dataclass so the two cannot drift apart; the migration spells them out and
    `tests/store/test_migrations.py` checks both agree."""
    from callserver.reports.counters import INTEGERS, NAMES

    return {
        name: mapped_column(BigInteger if name in INTEGERS else Float, nullable=False, default=0)
        for name in NAMES
    }


class ReportBucket(Base):
    """One 15-minute bucket (`start`, Unix seconds) of one report dimension value, e.g. a queue.

    Maintained from the facts as they arrive (`reports/writer.py`): counters only grow, by the
    increments the report fold hands out; `reports.timezone` plays no part here."""

    __tablename__ = "report_buckets"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    locals().update(_counter_columns())


class ReportDay(Base):
    """The buckets of one local day (`reports.timezone`) added up: what day, week and month
    reports read, so a month of 200 agents is thousands of rows, not hundreds of thousands."""

    __tablename__ = "report_days"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, local
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    locals().update(_counter_columns())


# -- outbound campaigns ------------------------------------------------------------------------
# Written only by `store/campaign_facts.py` from campaign facts; read by `store/campaigns.py`.


class CampaignRow(Base):
    """A campaign's definition (as the API shows it), its run state and how it dials now."""

    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="stopped")
    mode: Mapped[str] = mapped_column(String(24), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class CampaignListRow(Base):
    """One imported list: how many rows it had and what became of them."""

    __tablename__ = "campaign_lists"
    __table_args__ = (UniqueConstraint("campaign", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    rows: Mapped[int] = mapped_column(Integer)
    leads: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    dnc_hits: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(64), default="")


class CampaignLeadRow(Base):
    """A lead and where it stands; its past is the attempts table (read back at start-up)."""

    __tablename__ = "campaign_leads"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    list_name: Mapped[str] = mapped_column(String(64), default="")
    numbers: Mapped[list[str]] = mapped_column(default=list)
    time_zones: Mapped[list[str]] = mapped_column(default=list)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="new")
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_result: Mapped[str | None] = mapped_column(String(24))
    callback_at: Mapped[float | None] = mapped_column(Float)
    callback_agent: Mapped[str | None] = mapped_column(String(64))


class CampaignAttemptRow(Base):
    """One dial and its whole record: a row of the compliance report."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (Index("ix_campaign_attempts_campaign_dialed_at", "campaign", "dialed_at"),)

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[str] = mapped_column(String(128), default="")
    number: Mapped[str] = mapped_column(String(32), default="")
    reserved_for: Mapped[str | None] = mapped_column(String(64))
    dialed_at: Mapped[datetime]
    ringing_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    amd: Mapped[str | None] = mapped_column(String(16))
    amd_duration: Mapped[float | None] = mapped_column(Float)
    person_at: Mapped[datetime | None]
    connected_at: Mapped[datetime | None]
    connect_wait: Mapped[float | None] = mapped_column(Float)
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ended_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(64))
    coded_at: Mapped[datetime | None]
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    info_message: Mapped[bool] = mapped_column(Boolean, default=False)
    hangup_by: Mapped[str | None] = mapped_column(String(16))


class CampaignCallbackRow(Base):
    __tablename__ = "campaign_callbacks"
    __table_args__ = (Index("ix_campaign_callbacks_campaign_lead", "campaign", "lead_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[str] = mapped_column(String(128))
    callback_at: Mapped[datetime]
    agent_id: Mapped[str | None] = mapped_column(String(64))
    booked_at: Mapped[datetime]


class CampaignRefusalRow(Base):
    """A dial the rules refused at that moment (the compliance report lists them)."""

    __tablename__ = "campaign_refusals"
    __table_args__ = (Index("ix_campaign_refusals_campaign_at", "campaign", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    lead_id: Mapped[str] = mapped_column(String(128))
    number: Mapped[str] = mapped_column(String(32))
    rules: Mapped[list[str]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    next_at: Mapped[datetime | None]


class DncRow(Base):
    """A do-not-call entry: `scope` "" is the global list, else a campaign's own."""

    __tablename__ = "dnc_numbers"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(80), default="")
