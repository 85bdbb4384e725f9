"""What a report is: a dimension, figures from `callserver.figures`, an interval and filters.

The standard set ships here; a centre adds its own under `reports.definitions` in the configuration
(checked by `definition_problems`). Each figure is a function of one aggregated row (`Counters`),
so a report never computes a figure differently from the live tiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .. import figures as f
from ..config import ReportDefinitionConfig
from .counters import Counters


class Dimension(StrEnum):
    """What the rows of a report are about. `kind` is the aggregated rows each one reads."""

    QUEUE = "queue"
    SKILL = "skill"  # the queues that require the skill, summed
    AGENT = "agent"
    DNIS = "dnis"
    OUTCOME = "outcome"  # wrap-up outcome codes
    REASON = "reason"  # pause reasons
    VOICEMAIL = "voicemail"  # a queue's mailbox: messages received, closed, time to close
    CAMPAIGN = "campaign"  # outbound: attempts, contacts, connected, abandoned
    CAMPAIGN_OUTCOME = "campaign_outcome"  # "campaign/code": the agents' outcome codes
    IVR_FLOW = "ivr_flow"  # an IVR flow: callers who entered, contained, hung up, containment
    IVR_NODE = "ivr_node"  # "flow/node": visits of an IVR node and how callers left from it

    @property
    def kind(self) -> str:
        """The aggregated rows behind the dimension (skills read the queues' rows)."""
        return Dimension.QUEUE.value if self is Dimension.SKILL else self.value


class Interval(StrEnum):
    M15 = "15m"
    M30 = "30m"
    M60 = "60m"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def minutes(self) -> int | None:
        """Length of a sub-day interval; None for day, week and month (local calendar)."""
        return {"15m": 15, "30m": 30, "60m": 60}.get(self.value)


Value = int | float | None


@dataclass(frozen=True, slots=True)
class Basis:
    """One row's counters, with the call counts and agent time the figures take, built once."""

    counters: Counters
    calls: f.CallCounts
    time: f.AgentTime
    variant: f.ServiceLevelVariant

    @classmethod
    def of(cls, counters: Counters, variant: f.ServiceLevelVariant) -> Basis:
        return cls(counters, counters.calls(), counters.time(), variant)


Compute = Callable[[Basis], Value]


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    label: str
    unit: str  # count, seconds, ratio
    dimensions: frozenset[Dimension]
    compute: Compute
    counter: str | None = None  # a plain count: the value is this counter as it is


CALLS = frozenset({Dimension.QUEUE, Dimension.SKILL, Dimension.DNIS})
AGENTS = frozenset({Dimension.AGENT})
IVR_FLOWS = frozenset({Dimension.IVR_FLOW})
IVR_NODES = frozenset({Dimension.IVR_NODE})
IVRS = IVR_FLOWS | IVR_NODES


def _count(name: str) -> Compute:
    return lambda b: int(getattr(b.counters, name))


def _counted(key: str, label: str, dimensions: frozenset[Dimension], name: str | None = None) -> Figure:
    """A figure that is one counter as it stands (reports read these in one go)."""
    return Figure(key, label, "count", dimensions, _count(name or key), name or key)


def _seconds(name: str) -> Compute:
    return lambda b: round(float(getattr(b.counters, name)), 3)


def _occupancy(b: Basis) -> Value:
    return f.occupancy(b.counters.busy, b.counters.staffed)


FIGURES: tuple[Figure, ...] = (
    _counted("offered", "Offered", CALLS),
    _counted("overflowed_in", "Overflowed in", CALLS),
    _counted("overflowed_out", "Overflowed out", CALLS),
    _counted("answered", "Answered", CALLS | AGENTS),
    _counted("answered_in_time", "Answered within T", CALLS),
    _counted("abandoned", "Abandoned", CALLS),
    _counted("short_abandoned", "Short abandons", CALLS),
    _counted("timed_out", "Timed out", CALLS),
    _counted("transferred", "Transferred", CALLS),
    _counted("callbacks", "Callbacks asked", CALLS),
    Figure(
        "service_level", "Service level", "ratio", CALLS, lambda b: f.service_level_as(b.variant, b.calls)
    ),
    Figure(
        "service_level_answered",
        "SL (over answered)",
        "ratio",
        CALLS,
        lambda b: f.service_level(b.calls),
    ),
    Figure(
        "service_level_with_abandons",
        "SL (with abandons)",
        "ratio",
        CALLS,
        lambda b: f.service_level_with_abandons(b.calls),
    ),
    Figure(
        "service_level_offered",
        "SL (over offered)",
        "ratio",
        CALLS,
        lambda b: f.service_level_over_offered(b.calls),
    ),
    Figure(
        "service_level_offered_minus_short",
        "SL (over offered minus short abandons)",
        "ratio",
        CALLS,
        lambda b: f.service_level_over_offered_minus_short(b.calls),
    ),
    Figure("abandon_rate", "Abandon rate", "ratio", CALLS, lambda b: f.abandon_rate(b.calls)),
    Figure("asa", "ASA", "seconds", CALLS, lambda b: f.average_speed_of_answer(b.calls)),
    _counted("handled", "Handled", CALLS | AGENTS),
    Figure("aht", "AHT", "seconds", CALLS | AGENTS, lambda b: f.average_handle_time(b.calls)),
    Figure("longest_wait", "Longest wait", "seconds", CALLS, _seconds("longest_wait")),
    Figure("logged_in", "Logged in", "seconds", AGENTS, _seconds("logged_in")),
    Figure("ready", "Ready", "seconds", AGENTS, _seconds("ready")),
    Figure("paused", "Paused", "seconds", AGENTS | {Dimension.REASON}, _seconds("paused")),
    Figure("staffed", "Staffed", "seconds", AGENTS | {Dimension.QUEUE}, _seconds("staffed")),
    Figure("busy", "Busy", "seconds", AGENTS | {Dimension.QUEUE}, _seconds("busy")),
    Figure("occupancy", "Occupancy", "ratio", AGENTS | {Dimension.QUEUE}, _occupancy),
    Figure("utilisation", "Utilisation", "ratio", AGENTS, lambda b: f.utilisation(b.time)),
    Figure("availability", "Availability", "ratio", AGENTS, lambda b: f.availability(b.time)),
    _counted("wrapups", "Wrap-ups", frozenset({Dimension.OUTCOME})),
    # campaign rows: `offered` holds the attempts, `answered` the contacts, `handled` the
    # connected calls, `abandoned` the people reached and not connected in time
    _counted("attempts", "Attempts", frozenset({Dimension.CAMPAIGN}), "offered"),
    _counted("contacts", "Contacts (a person reached)", frozenset({Dimension.CAMPAIGN}), "answered"),
    _counted("connected", "Connected to an agent", frozenset({Dimension.CAMPAIGN}), "handled"),
    _counted("campaign_abandoned", "Abandoned", frozenset({Dimension.CAMPAIGN}), "abandoned"),
    Figure(
        "campaign_abandon_rate",
        "Abandon rate",
        "ratio",
        frozenset({Dimension.CAMPAIGN}),
        lambda b: f.campaign_abandon_rate(b.counters.abandoned, b.counters.answered),
    ),
    _counted("coded", "Coded", frozenset({Dimension.CAMPAIGN_OUTCOME}), "wrapups"),
    # voicemail rows: `offered` holds the messages received, `handled` those closed and
    # `handle_time` their seconds from arrival to close
    _counted("received", "Messages received", frozenset({Dimension.VOICEMAIL}), "offered"),
    _counted("closed", "Messages closed", frozenset({Dimension.VOICEMAIL}), "handled"),
    Figure(
        "time_to_close",
        "Mean time to close",
        "seconds",
        frozenset({Dimension.VOICEMAIL}),
        lambda b: f.time_to_close(b.counters.handle_time, b.counters.handled),
    ),
    # IVR rows: `ivr_entered` counts a flow's callers once per run and a node's every visit; the
    # ivr_<outcome> counters how callers left (per node: from that node)
    _counted("ivr_entered", "Entered", IVRS),
    _counted("contained", "Contained (self-service)", IVR_FLOWS, "ivr_ended"),
    _counted("ivr_abandoned", "Hung up in the IVR", IVR_FLOWS, "ivr_hangup"),
    _counted("ivr_to_queue", "To a queue", IVRS, "ivr_queue"),
    _counted("ivr_to_voicemail", "To voicemail", IVRS, "ivr_voicemail"),
    _counted("ivr_to_transfer", "Transferred out", IVRS, "ivr_transfer"),
    _counted("ivr_ended", "Ended in self-service", IVR_NODES),
    _counted("ivr_hangup", "Hung up", IVR_NODES),
    _counted("ivr_failed", "Flow failed", IVRS),
    Figure(
        "containment",
        "Containment",
        "ratio",
        IVR_FLOWS,
        lambda b: f.ivr_containment(b.counters.ivr_ended, b.counters.ivr_entered),
    ),
)
FIGURE = {fig.key: fig for fig in FIGURES}


@dataclass(frozen=True, slots=True)
class ReportDefinition:
    name: str
    title: str
    dimension: Dimension
    figures: tuple[Figure, ...]
    interval: Interval = Interval.M30
    filters: Mapping[str, tuple[str, ...]] | None = None  # dimension -> ids always applied


def _standard(name: str, title: str, dimension: Dimension, keys: Sequence[str]) -> ReportDefinition:
    return ReportDefinition(name, title, dimension, tuple(FIGURE[k] for k in keys))


_QUEUE_CALLS = (
    "offered",
    "overflowed_in",
    "overflowed_out",
    "answered",
    "answered_in_time",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "transferred",
    "callbacks",
    "service_level",
    "service_level_with_abandons",
    "asa",
    "handled",
    "aht",
    "longest_wait",
    "abandon_rate",
)
STANDARD: tuple[ReportDefinition, ...] = (
    _standard("queue_intervals", "Queues per interval", Dimension.QUEUE, (*_QUEUE_CALLS, "occupancy")),
    _standard("skill_intervals", "Skills per interval", Dimension.SKILL, _QUEUE_CALLS),
    _standard(
        "agent_intervals",
        "Agents per interval",
        Dimension.AGENT,
        (
            "answered",
            "handled",
            "aht",
            "logged_in",
            "ready",
            "paused",
            "staffed",
            "busy",
            "occupancy",
            "utilisation",
            "availability",
        ),
    ),
    _standard(
        "dnis_intervals",
        "Dialled numbers per interval",
        Dimension.DNIS,
        (
            "offered",
            "answered",
            "answered_in_time",
            "abandoned",
            "short_abandoned",
            "timed_out",
            "service_level",
            "asa",
            "abandon_rate",
        ),
    ),
    _standard("outcome_codes", "Outcome codes", Dimension.OUTCOME, ("wrapups",)),
    _standard("pause_reasons", "Pause reasons", Dimension.REASON, ("paused",)),
    _standard(
        "campaign_intervals",
        "Campaigns per interval",
        Dimension.CAMPAIGN,
        ("attempts", "contacts", "connected", "campaign_abandoned", "campaign_abandon_rate"),
    ),
    _standard("campaign_outcomes", "Campaign outcome codes", Dimension.CAMPAIGN_OUTCOME, ("coded",)),
    _standard(
        "voicemail_boxes",
        "Voicemail per mailbox",
        Dimension.VOICEMAIL,
        ("received", "closed", "time_to_close"),
    ),
    _standard(
        "ivr_flows",
        "IVR flows",
        Dimension.IVR_FLOW,
        (
            "ivr_entered",
            "contained",
            "ivr_abandoned",
            "ivr_to_queue",
            "ivr_to_voicemail",
            "ivr_to_transfer",
            "ivr_failed",
            "containment",
        ),
    ),
    _standard(
        "ivr_nodes",
        "IVR nodes",
        Dimension.IVR_NODE,
        (
            "ivr_entered",
            "ivr_to_queue",
            "ivr_to_voicemail",
            "ivr_to_transfer",
            "ivr_ended",
            "ivr_hangup",
            "ivr_failed",
        ),
    ),
)


def definition_problems(
    index: int, conf: ReportDefinitionConfig, known: Mapping[Dimension, frozenset[str]] | None = None
) -> list[str]:
    """What is wrong with the centre's report `index`, each naming its key.

    `known`: the configured ids per dimension (queues, agents, skills...) filters may name."""
    path = f"reports.definitions[{index}]"
    try:
        dimension = Dimension(conf.dimension)
    except ValueError:
        return [f"{path}.dimension: '{conf.dimension}' is not one of {', '.join(d.value for d in Dimension)}"]
    problems: list[str] = []
    for j, key in enumerate(conf.figures):
        figure = FIGURE.get(key)
        if figure is None:
            problems.append(f"{path}.figures[{j}]: '{key}' is not a figure (known: {', '.join(FIGURE)})")
        elif dimension not in figure.dimensions:
            problems.append(f"{path}.figures[{j}]: '{key}' is not a figure of dimension {dimension.value}")
    if conf.interval not in {i.value for i in Interval}:
        problems.append(
            f"{path}.interval: '{conf.interval}' is not one of {', '.join(i.value for i in Interval)}"
        )
    for name, ids in conf.filters.items():
        if name != dimension.value:
            problems.append(
                f"{path}.filters.{name}: a report on {dimension.value} filters on {dimension.value} only"
            )
            continue
        allowed = (known or {}).get(dimension)
        for j, value in enumerate(ids):
            if allowed is not None and value not in allowed:
                problems.append(
                    f"{path}.filters.{name}[{j}]: '{value}' is not a configured {dimension.value}"
                )
    return problems


def definition_of(conf: ReportDefinitionConfig) -> ReportDefinition:
    """A checked configuration entry as a report definition."""
    dimension = Dimension(conf.dimension)
    return ReportDefinition(
        name=conf.name,
        title=conf.title,
        dimension=dimension,
        figures=tuple(FIGURE[k] for k in conf.figures),
        interval=Interval(conf.interval),
        filters={k: tuple(v) for k, v in conf.filters.items()} or None,
    )


def catalogue(custom: Sequence[ReportDefinitionConfig]) -> dict[str, ReportDefinition]:
    """The standard reports, then the centre's own (one of the same name replaces the standard one)."""
    reports = {r.name: r for r in STANDARD}
    reports.update((c.name, definition_of(c)) for c in custom)
    return reports
