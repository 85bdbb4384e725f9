"""The server's metrics, in a `CollectorRegistry` of its own.

Counters and histograms are fed as things happen (facts from the bus, AMI link events, routing
decisions, event-loop lag probes); gauges of live state (queues, agents, the AMI link, the fact
writer's backlog) are read from the running components at scrape time by a custom collector, which
costs nothing between scrapes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from callserver.acd.views import AgentView, QueueLoad
from callserver.facts.campaign import CampaignFact
from callserver.facts.model import (
    AgentPhoneChanged,
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
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
    OfferResult,
    Outcome,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)
from callserver.pbx.events import PbxConnected, PbxDisconnected
from callserver.pbx.hub import Subscriptions

from .model import ACTIVITIES, activity

TRANSFER_KINDS = ("queue", "agent", "number", "consult")  # `CallTransferred.kind`
WAIT_BUCKETS = (1.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
DECISION_BUCKETS = (0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True)
class LiveState:
    """Where the scrape-time collector reads the running server (the composition root wires these)."""

    queues: Callable[[], Sequence[str]]
    queue_load: Callable[[str], QueueLoad]
    agents: Callable[[], Sequence[AgentView]]
    ami_connected: Callable[[], bool]
    writer_backlog: Callable[[], int]
    clock: Callable[[], float] = time.time


class LiveCollector(Collector):
    def __init__(self, live: LiveState, lag: Callable[[], float]) -> None:
        self.live = live
        self.lag = lag

    def collect(self) -> Iterator[Metric]:
        live, now = self.live, self.live.clock()
        waiting = GaugeMetricFamily(
            "callserver_queue_waiting", "Calls waiting or being offered, per queue", labels=["queue"]
        )
        longest = GaugeMetricFamily(
            "callserver_queue_longest_wait_seconds",
            "How long the longest-waiting call of the queue has waited (0: none waits)",
            labels=["queue"],
        )
        queue_agents = GaugeMetricFamily(
            "callserver_queue_agents", "Agents serving the queue, by activity", labels=["queue", "state"]
        )
        agents = live.agents()
        for queue in live.queues():
            load = live.queue_load(queue)
            waiting.add_metric([queue], load.waiting)
            oldest = load.oldest_arrival
            longest.add_metric([queue], max(0.0, now - oldest) if oldest is not None else 0.0)
            counts = dict.fromkeys(ACTIVITIES, 0)
            for agent in agents:
                if queue in agent.queues:
                    counts[activity(agent)] += 1
            for state, count in counts.items():
                queue_agents.add_metric([queue, state], count)
        by_state = GaugeMetricFamily("callserver_agents", "Agents by activity", labels=["state"])
        totals = dict.fromkeys(ACTIVITIES, 0)
        paused: dict[str, int] = {}
        for agent in agents:
            totals[activity(agent)] += 1
            if agent.status.value == "paused":
                paused[agent.reason or ""] = paused.get(agent.reason or "", 0) + 1
        for state, count in totals.items():
            by_state.add_metric([state], count)
        reasons = GaugeMetricFamily(
            "callserver_agents_paused", "Paused agents by pause reason", labels=["reason"]
        )
        for reason, count in sorted(paused.items()):
            reasons.add_metric([reason], count)
        yield from (waiting, longest, queue_agents, by_state, reasons)
        yield GaugeMetricFamily(
            "callserver_ami_up", "1 while the AMI link is up", value=int(live.ami_connected())
        )
        yield GaugeMetricFamily(
            "callserver_fact_writer_backlog",
            "Facts published and not yet written to the database",
            value=live.writer_backlog(),
        )
        yield GaugeMetricFamily(
            "callserver_event_loop_lag_last_seconds", "The latest event-loop lag probe", value=self.lag()
        )


class CallServerMetrics:
    """The registry and what feeds it: `on_fact` (bus), `pbx_subscriptions()` (PBX events),
    `decision` (routing decisions), `loop_lag` (the lag probe)."""

    def __init__(self, queues: Sequence[str] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.queued = Counter("callserver_calls_queued", "Calls that entered a queue", ["queue"], registry=r)
        self.ended = Counter(
            "callserver_calls_ended",
            "Calls that ended, by queue and outcome",
            ["queue", "outcome"],
            registry=r,
        )
        self.offers = Counter(
            "callserver_offers_unanswered",
            "Offers to agents that ended unanswered, by result",
            ["result"],
            registry=r,
        )
        self.ivr_exits = Counter(
            "callserver_ivr_exits",
            "Callers who left an IVR flow, by how (queue, voicemail, transfer, ended, hangup, failed)",
            ["flow", "outcome"],
            registry=r,
        )
        self.transfers = Counter(
            "callserver_transfers", "Calls agents transferred, by kind", ["kind"], registry=r
        )
        self.wait = Histogram(
            "callserver_wait_seconds",
            "Seconds callers waited: until answered (result=answered) or until the call ended unanswered",
            ["queue", "result"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.decisions = Histogram(
            "callserver_routing_decision_seconds",
            "Time the ACD took to match waiting calls and free agents, per pass",
            buckets=DECISION_BUCKETS,
            registry=r,
        )
        self.reconnects = Counter("callserver_ami_reconnects", "AMI logins after the first one", registry=r)
        self.disconnects = Counter("callserver_ami_disconnects", "AMI links lost", registry=r)
        self.lag = Histogram(
            "callserver_event_loop_lag_seconds",
            "How late the event loop ran a callback that was due",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.last_lag = 0.0
        # every series exists from the start at 0, so rates and dashboards see them before the first call
        for queue in queues:
            self.queued.labels(queue)
            for outcome in Outcome:
                self.ended.labels(queue, outcome.value)
            for result in ("answered", Outcome.ABANDONED.value, Outcome.TIMED_OUT.value):
                self.wait.labels(queue, result)
        for result in OfferResult:
            self.offers.labels(result.value)
        for kind in TRANSFER_KINDS:
            self.transfers.labels(kind)
        self._tasks: set[str] = set()  # voicemail and callback tasks: work, not callers

    def watch(self, live: LiveState) -> None:
        """Add the scrape-time gauges of this running server."""
        self.registry.register(LiveCollector(live, lambda: self.last_lag))

    def decision(self, seconds: float) -> None:
        self.decisions.observe(seconds)

    def loop_lag(self, seconds: float) -> None:
        self.last_lag = seconds
        self.lag.observe(seconds)

    def pbx_subscriptions(self) -> Subscriptions:
        return (
            Subscriptions("prometheus")
            .on(PbxConnected, self._connected)
            .on(PbxDisconnected, lambda _e: self.disconnects.inc())
        )

    def _connected(self, event: PbxConnected) -> None:
        if event.reconnect:
            self.reconnects.inc()

    def on_fact(self, fact: Fact) -> None:
        match fact:
            case CallQueued():
                if fact.kind != "call":
                    self._tasks.add(fact.call_id)
                else:
                    self.queued.labels(fact.queue).inc()
            case CallRequeued():
                self.queued.labels(fact.to_queue).inc()
            case CallAnswered():
                if fact.call_id not in self._tasks:
                    self.wait.labels(fact.queue, "answered").observe(fact.wait)
            case CallEnded():
                if fact.call_id in self._tasks:
                    self._tasks.discard(fact.call_id)
                    return
                self.ended.labels(fact.queue, fact.outcome.value).inc()
                if fact.outcome is not Outcome.ANSWERED and fact.outcome is not Outcome.TRANSFERRED:
                    self.wait.labels(fact.queue, fact.outcome.value).observe(fact.wait)
            case OfferEnded():
                self.offers.labels(fact.result.value).inc()
            case CallTransferred():
                self.transfers.labels(fact.kind).inc()
            case IvrLeft():
                self.ivr_exits.labels(fact.flow, fact.outcome).inc()
            case IvrNodeEntered():
                pass  # one series per node would grow with every flow edit: the reports count them
            case (
                CallOffered()
                | CallHeld()
                | CallResumed()
                | CallbackRequested()
                | CallRejected()
                | CallWrappedUp()
                | CallLinkedToCustomer()
                | CustomerFieldSet()
                | ScriptRunStarted()
                | ScriptStepReached()
                | ScriptAnswered()
                | ScriptRunEnded()
                | AgentStatusChanged()  # agents by state are read live at scrape time
                | AgentStateChanged()
                | WrapupExtended()
                | TransferProgress()
                | AgentPhoneChanged()
            ):
                pass
            case _:
                _outbound(fact)


def _outbound(fact: CampaignFact) -> None:
    """Campaign calls are not queue calls: their figures are on the campaign tiles."""
