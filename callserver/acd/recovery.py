"""Recovery after a restart: what the PBX still has is turned into adoption steps, and what the
database still shows in progress but nobody has any more is closed with an outcome that says so.

Pure functions over plain data. The resynchronisation (resync.py) lists the PBX's channels, reads
the `CS_*` variables of the ones that may be callers or agent legs, and asks `plan` what to adopt:
a caller waiting (perhaps with an agent leg ringing for it), talking to an agent leg, on hold with
its agent's leg parked (perhaps with a colleague consulted), a callback being dialled; an agent leg
no call can be found for keeps its agent busy until it is gone. `close_open_calls` then writes off
the rows the database still had open at start-up that nothing live matched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..facts.model import CallEndedWithReason, Fact, OfferEnded, OfferResult, Outcome
from ..pbx.dialplan import AGENT_LEG_CONTEXTS, CALLER_CONTEXTS, Context
from ..pbx.events import ChannelSnapshot
from .model import CallKind

STOPPED_REASON = "ended while callserver was stopped"
# an originated leg that has not been answered yet has no context of ours: it is Ringing (or Down)
RINGING_STATES = frozenset({"Ringing", "Down"})
# an answered offer leg about to bridge (the agent accepted): the bridge follows by itself
BRIDGING_CONTEXTS = frozenset({Context.AGENT_BRIDGE, Context.REJOIN})


@dataclass(frozen=True, slots=True)
class OpenCall:
    """A call the database still showed in progress at start-up (times in Unix seconds)."""

    id: str
    queue: str
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    arrived_at: float
    answered_at: float | None
    agent_id: str | None
    last_seen: float  # when its last recorded fact happened
    open_offers: tuple[tuple[str, str], ...] = ()  # (agent id, leg id) of offers never ended


@dataclass(frozen=True, slots=True)
class ChannelVars:
    """The `CS_*` variables read on a channel (empty when unset)."""

    agent: str = ""  # CS_AGENT: an agent leg's agent
    call: str = ""  # CS_CALL: the call an agent leg serves
    queue: str = ""  # CS_QUEUE: a caller's queue


@dataclass(frozen=True, slots=True)
class AdoptWaiting:
    call_id: str
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    queue: str
    arrived_at: float
    kind: CallKind = CallKind.CALL


@dataclass(frozen=True, slots=True)
class AdoptConnected:
    call_id: str
    channel: str
    caller_num: str
    caller_name: str
    queue: str
    agent_id: str
    leg_id: str
    arrived_at: float
    answered_at: float
    on_hold: bool = False
    kind: CallKind = CallKind.CALL


@dataclass(frozen=True, slots=True)
class AdoptOffer:
    call_id: str
    agent_id: str
    leg_id: str
    picked_up: bool
    claimed: bool


@dataclass(frozen=True, slots=True)
class AdoptConsult:
    call_id: str
    agent_id: str
    leg_id: str
    answered: bool


@dataclass(frozen=True, slots=True)
class AdoptStrayLeg:
    leg_id: str
    agent_id: str
    hang_up: bool


Step = AdoptWaiting | AdoptConnected | AdoptOffer | AdoptConsult | AdoptStrayLeg


def is_caller(snap: ChannelSnapshot) -> bool:
    """A channel in one of the contexts where callserver keeps callers."""
    return snap.context in CALLER_CONTEXTS


def may_be_agent_leg(snap: ChannelSnapshot, agent_endpoints: Iterable[str]) -> bool:
    """Worth reading CS_AGENT on: in an agent-leg context, still ringing, or on an agent's phone."""
    if snap.context in AGENT_LEG_CONTEXTS or snap.state in RINGING_STATES:
        return True
    return any(snap.channel.startswith(endpoint + "-") for endpoint in agent_endpoints)


@dataclass(slots=True)
class _Leg:
    snap: ChannelSnapshot
    agent: str
    call: str


def plan(
    snapshots: Iterable[ChannelSnapshot],
    variables: Mapping[str, ChannelVars],
    open_calls: Mapping[str, OpenCall],
    *,
    known: Callable[[str], bool],
    now: float,
) -> list[Step]:
    """The adoption steps for every channel the engine does not know, in the order to apply them:
    calls first (waiting or connected), then offers and consultations on them, then stray legs."""
    callers: list[ChannelSnapshot] = []
    legs_of: dict[str, list[_Leg]] = {}
    consults: list[_Leg] = []
    for snap in snapshots:
        if known(snap.uniqueid):
            continue
        found = variables.get(snap.uniqueid, ChannelVars())
        if found.agent:
            leg = _Leg(snap, found.agent, found.call)
            if snap.context == Context.CONSULT:
                consults.append(leg)
            else:
                legs_of.setdefault(found.call, []).append(leg)
        elif is_caller(snap):
            callers.append(snap)
    calls: list[Step] = []
    later: list[Step] = []
    connected: set[str] = set()
    for caller in callers:
        row = open_calls.get(caller.uniqueid)
        queue = (
            row.queue
            if row is not None and row.queue
            else variables.get(caller.uniqueid, ChannelVars()).queue
        )
        legs = legs_of.pop(caller.uniqueid, [])
        if not queue:
            later += [AdoptStrayLeg(leg.snap.uniqueid, leg.agent, hang_up=True) for leg in legs]
            continue
        arrived_at = row.arrived_at if row is not None else now - caller.duration
        steps, spare = _caller_steps(caller, queue, arrived_at, row, legs, now)
        calls += steps
        if steps and isinstance(steps[0], AdoptConnected):
            connected.add(caller.uniqueid)
        later += spare
    for call_id, legs in legs_of.items():
        # agent legs whose caller is not there: a callback being dialled, or left-overs
        row = open_calls.get(call_id)
        dialling = [leg for leg in legs if leg.snap.context == Context.AGENT_DIAL]
        if row is not None and row.queue and dialling:
            leg = dialling[0]
            calls += _callback_steps(row, leg, now)
            connected.add(call_id)
            legs = [other for other in legs if other is not leg]
        later += [_stray(leg) for leg in legs]
    for leg in consults:
        if leg.call in connected:
            later.append(
                AdoptConsult(leg.call, leg.agent, leg.snap.uniqueid, answered=bool(leg.snap.bridge_id))
            )
        else:
            later.append(_stray(leg))
    # consultations and offers need their calls; stray legs last so a leg adopted above is not one
    return calls + sorted(later, key=lambda step: isinstance(step, AdoptStrayLeg))


def _caller_steps(
    caller: ChannelSnapshot,
    queue: str,
    arrived_at: float,
    row: OpenCall | None,
    legs: list[_Leg],
    now: float,
) -> tuple[list[Step], list[Step]]:
    """(steps for the call, steps for legs of it that are not part of it any more)."""
    bridged = [leg for leg in legs if caller.bridge_id and leg.snap.bridge_id == caller.bridge_id]
    parked = [leg for leg in legs if leg.snap.context == Context.PARKED]
    talking = bridged or (parked if caller.context == Context.ONHOLD else [])
    if talking:
        leg = talking[0]
        answered_at = row.answered_at if row is not None and row.answered_at is not None else None
        if answered_at is None:
            answered_at = now - leg.snap.duration
        step = AdoptConnected(
            caller.uniqueid,
            caller.channel,
            caller.caller_num,
            caller.caller_name,
            queue,
            leg.agent,
            leg.snap.uniqueid,
            arrived_at,
            answered_at,
            on_hold=not bridged,
        )
        return [step], [_stray(other) for other in legs if other is not leg]
    steps: list[Step] = [
        AdoptWaiting(
            caller.uniqueid,
            caller.channel,
            caller.caller_num,
            caller.caller_name,
            caller.exten if row is None else row.dnis,
            queue,
            arrived_at,
        )
    ]
    spare: list[Step] = []
    for leg in legs:
        snap = leg.snap
        if snap.state in RINGING_STATES:
            steps.append(
                AdoptOffer(caller.uniqueid, leg.agent, snap.uniqueid, picked_up=False, claimed=False)
            )
        elif snap.context in BRIDGING_CONTEXTS and not snap.bridge_id:
            steps.append(AdoptOffer(caller.uniqueid, leg.agent, snap.uniqueid, picked_up=True, claimed=True))
        else:
            # answered, but the agent's accept was asked by the callserver that stopped: lost
            spare.append(AdoptStrayLeg(snap.uniqueid, leg.agent, hang_up=True))
    return steps, spare


def _callback_steps(row: OpenCall, leg: _Leg, now: float) -> list[Step]:
    """An agent leg dialling a customer back (the caller hung up long ago and kept their place)."""
    snap = leg.snap
    if snap.bridge_id:
        answered_at = row.answered_at if row.answered_at is not None else now - snap.duration
        return [
            AdoptConnected(
                row.id,
                row.channel,
                row.caller_num,
                row.caller_name,
                row.queue,
                leg.agent,
                snap.uniqueid,
                row.arrived_at,
                answered_at,
                kind=CallKind.CALLBACK,
            )
        ]
    return [
        AdoptWaiting(
            row.id,
            row.channel,
            row.caller_num,
            row.caller_name,
            row.dnis,
            row.queue,
            row.arrived_at,
            kind=CallKind.CALLBACK,
        ),
        AdoptOffer(row.id, leg.agent, snap.uniqueid, picked_up=True, claimed=True),
    ]


def _stray(leg: _Leg) -> AdoptStrayLeg:
    # a leg in a conversation callserver cannot place is left to end by itself; others are hung up
    return AdoptStrayLeg(leg.snap.uniqueid, leg.agent, hang_up=not leg.snap.bridge_id)


def close_open_calls(
    open_calls: Iterable[OpenCall], *, live: Callable[[str], bool], pbx_restarted_since: float | None
) -> list[Fact]:
    """Facts closing every call the database had open that is not live now.

    An answered call stays answered; any other ends `unknown`. Either way it is recorded at the last
    moment it was seen (an estimate) with the reason; its offers still open end `unknown` then too.
    `pbx_restarted_since`: the PBX came up at that time, so a call seen before it cannot be up.
    """
    facts: list[Fact] = []
    for row in open_calls:
        if live(row.id):
            continue
        reason = STOPPED_REASON
        if pbx_restarted_since is not None and row.last_seen < pbx_restarted_since:
            reason += " (the PBX restarted meanwhile)"
        at = max(row.last_seen, row.arrived_at)
        for agent_id, leg_id in row.open_offers:
            facts.append(OfferEnded(row.id, at, agent_id, leg_id, OfferResult.UNKNOWN))
        answered = row.answered_at is not None
        outcome = Outcome.ANSWERED if answered else Outcome.UNKNOWN
        end = row.answered_at if row.answered_at is not None else at
        wait = max(0.0, end - row.arrived_at)
        facts.append(
            CallEndedWithReason(row.id, at, row.queue, outcome, row.agent_id, wait, reason, estimated=True)
        )
    return facts
