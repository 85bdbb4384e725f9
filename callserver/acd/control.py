"""Call control on the PBX side: hold, transfers, consultation, hangup and supervisor spy, with AMI only.

The engine keeps the call's state (hold time, who owns it, wrap-up); this adapter moves channels
through the contexts appended to `extensions_callserver.conf`. The rule that keeps calls alive:
only the caller or a *parked* agent leg is ever redirected, because redirecting an agent leg that is
inside `Bridge(${CS_CALLER},x)` hangs the caller up. When an engine input releases an agent leg
(transfers), the engine is told first and its commands run after the caller has moved, so the old
leg's hangup never reads as "the agent ended the call".
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from ..facts.model import TransferState
from ..pbx.actions import PbxActions, PbxError
from ..pbx.dialplan import Context, Var
from ..pbx.events import ChannelHungUp, OriginateResult
from ..pbx.hub import Subscriptions
from .handling import NotAllowed
from .model import CallState
from .service import AcdService, Deferred
from .views import CallView

log = logging.getLogger("callserver.acd.control")
T = TypeVar("T")

SPY_OPTIONS = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}
CONSULT_RING = 30.0  # seconds an outside number rings for a consultation


class ControlError(Exception):
    """A control request that cannot be done; `status` is the HTTP status that says why."""

    status = 409


class UnknownCall(ControlError):
    status = 404


class PbxFailed(ControlError):
    status = 502


@dataclass(slots=True)
class SpySession:
    """A supervisor's monitoring call: one leg to their phone, moved between agents and modes
    (listen, whisper, barge) without a new call, until they hang up or stop it."""

    supervisor: str
    leg_id: str
    agent_id: str
    mode: str
    phone: str
    answered: bool = False
    ended: bool = False


SpyListener = Callable[[SpySession], None]


@dataclass(slots=True)
class OutsideConsult:
    """A consultation with an outside number: the PBX alone knows it, the engine does not."""

    leg_id: str
    number: str
    agent_id: str | None  # the agent who consults
    answered: bool = False


class CallControl:
    """Built by the composition root with the ACD service and the AMI actions; fed every PBX event."""

    def __init__(
        self,
        service: AcdService,
        pbx: PbxActions,
        *,
        trunk_dial: str = "PJSIP/{number}@trunk",
    ) -> None:
        self.service = service
        self.pbx = pbx
        self.trunk_dial = trunk_dial
        self.outside: dict[str, OutsideConsult] = {}  # call id -> consultation with a number
        self._busy: set[str] = set()
        self._ids = itertools.count(1)
        self.spies: dict[str, SpySession] = {}  # supervisor -> their monitoring call
        self.spy_listeners: list[SpyListener] = []  # told of every change (the monitor's live view)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- PBX events ------------------------------------------------------------------------

    def subscriptions(self) -> Subscriptions:
        """Call control follows its consultations with outside numbers (the engine has no leg for
        them) and the supervisors' monitoring calls."""
        return (
            Subscriptions("call-control")
            .on(ChannelHungUp, self._on_hangup)
            .on(OriginateResult, self._on_originate_result)
        )

    def _on_hangup(self, event: ChannelHungUp) -> None:
        for call_id, consult in list(self.outside.items()):
            if consult.leg_id == event.uniqueid:
                del self.outside[call_id]
                self._progress(call_id, consult, TransferState.GONE)
        for supervisor, spy in list(self.spies.items()):
            if spy.leg_id == event.uniqueid:
                self._spy_over(supervisor, spy)

    def _on_originate_result(self, event: OriginateResult) -> None:
        for call_id, consult in list(self.outside.items()):
            if consult.leg_id == event.uniqueid:
                consult.answered = event.success
                if event.success:
                    self._progress(call_id, consult, TransferState.ANSWERED)
                else:  # rang out or refused: the channel is gone, no hangup will name it for us
                    del self.outside[call_id]
                    self._progress(call_id, consult, TransferState.GONE)
        for supervisor, spy in list(self.spies.items()):
            if spy.leg_id != event.uniqueid:
                continue
            if not event.success:
                self._spy_over(supervisor, spy)
            elif self.current_call_of(spy.agent_id) is None:
                # the call ended while the phone rang: ChanSpy would wait in silence for ever
                spy.answered = True
                self._spawn(self._quietly(self.pbx.hangup(spy.leg_id)))
            else:
                spy.answered = True
                self._spy_changed(spy)

    def _progress(self, call_id: str, consult: OutsideConsult, state: TransferState) -> None:
        self.service.consult_number_progress(call_id, consult.agent_id, consult.number, state)

    def channel_name(self, uniqueid: str) -> str:
        """The channel's name when seen, else its uniqueid (AMI actions accept either)."""
        return self.service.channels.name(uniqueid)

    # -- lookups ---------------------------------------------------------------------------

    def call(self, call_id: str) -> CallView:
        call = self.service.call(call_id)
        if call is None:
            raise UnknownCall(f"call {call_id} is not in progress")
        return call

    def connected(self, call_id: str) -> tuple[CallView, str]:
        """The connected call and its agent leg's channel."""
        call = self.call(call_id)
        if call.state is not CallState.CONNECTED or call.leg_id is None:
            raise ControlError(f"call {call_id} is {call.state.value}, not connected to an agent")
        return call, self.channel_name(call.leg_id)

    def current_call_of(self, agent_id: str) -> str | None:
        """The call the agent is connected to now (None when idle, ringing or in wrap-up)."""
        for call in self.service.calls():
            if call.agent_id == agent_id and call.state is CallState.CONNECTED:
                return call.id
        return None

    # -- the operations --------------------------------------------------------------------

    async def hangup(self, call_id: str) -> None:
        """End the call: hang up the caller; the engine learns it from the Hangup event."""
        call = self.call(call_id)
        self.service.agent_ends(call_id)
        try:
            await self._do(self.pbx.hangup(call.channel), "hang up")
        except PbxFailed:
            self.service.agent_ends(call_id, asked=False)
            raise

    async def hold(self, call_id: str) -> None:
        """Caller to music, agent leg parked in silence; hold time counts in handle time."""
        async with self._exclusive(call_id):
            call, leg = self.connected(call_id)
            if call.on_hold:
                raise ControlError(f"call {call_id} is already on hold")
            await self._park(call, leg)
            self._decide(lambda: self.service.hold(call_id))

    async def resume(self, call_id: str) -> None:
        """The parked agent leg bridges to the caller again (same leg, same agent)."""
        async with self._exclusive(call_id):
            call, leg = self.connected(call_id)
            if not call.on_hold:
                raise ControlError(f"call {call_id} is not on hold")
            if call.consult_leg is not None or call_id in self.outside:
                raise ControlError("complete or cancel the consultation first")
            await self._rejoin(call, leg)
            self._decide(lambda: self.service.resume(call_id))

    async def transfer(self, call_id: str, kind: str, target: str) -> None:
        """Blind transfer: to a queue or an agent (the call waits again), or out to a number."""
        async with self._exclusive(call_id):
            call, leg = self.connected(call_id)
            if call.consult_leg is not None or call_id in self.outside:
                raise ControlError("complete or cancel the consultation first")
            parked = call.on_hold
            if kind == "queue":
                later = self._decide(lambda: self.service.transfer_to_queue(call_id, target))
                await self._do(self.pbx.redirect(call.channel, Context.HOLD, "s", 1), "transfer")
            elif kind == "agent":
                later = self._decide(lambda: self.service.transfer_to_agent(call_id, target))
                await self._do(self.pbx.redirect(call.channel, Context.HOLD, "s", 1), "transfer")
            else:
                later = self._decide(lambda: self.service.transfer_out(call_id, target))
                await self._do(self.pbx.setvar(call.channel, Var.DIAL, target), "transfer")
                await self._do(self.pbx.redirect(call.channel, Context.DIAL, "s", 1), "transfer")
            self.service.carry_out(later)
            if parked:  # a bridged leg ends by itself when the caller leaves; a parked one does not
                await self._quietly(self.pbx.hangup(leg))

    async def consult(self, call_id: str, kind: str, target: str) -> str:
        """Put the caller on hold and ring a colleague (or a number) who talks with the agent first.

        Returns the consultation leg's id."""
        async with self._exclusive(call_id):
            call, leg = self.connected(call_id)
            if call.consult_leg is not None or call_id in self.outside:
                raise ControlError(f"call {call_id} already has a consultation")
            colleague = (
                self._decide(lambda: self.service.consult_agent(call_id, target)) if kind == "agent" else None
            )
            if not call.on_hold:
                await self._park(call, leg)
                self._decide(lambda: self.service.hold(call_id))
            if colleague is not None:
                return await self._ring_colleague(colleague)
            leg_id = f"cs-consult-{call_id}-{next(self._ids)}"
            consult = self.outside[call_id] = OutsideConsult(leg_id, target, call.agent_id)
            self._progress(call_id, consult, TransferState.RINGING)
            try:
                await self._do(
                    self.pbx.originate(
                        channel=self.trunk_dial.format(number=target),
                        context=Context.CONSULT,
                        exten="s",
                        channel_id=leg_id,
                        timeout=CONSULT_RING,
                        caller_id=call.caller_num,
                        variables={Var.CALL: call_id, Var.PEER_LEG: leg},
                    ),
                    "consult",
                )
            except PbxFailed:
                self.outside.pop(call_id, None)
                self._progress(call_id, consult, TransferState.GONE)
                raise
            return leg_id

    async def consult_complete(self, call_id: str) -> None:
        """The consulted party takes the caller; the first agent goes to wrap-up."""
        async with self._exclusive(call_id):
            call, _leg = self.connected(call_id)
            outside = self.outside.get(call_id)
            if outside is not None:
                if not outside.answered:
                    raise ControlError(f"{outside.number} has not answered")
                # the outside leg takes the caller once the agent leg is gone (see [callserver-consult])
                await self._do(self.pbx.setvar(outside.leg_id, Var.CALLER, call.channel), "complete")
                del self.outside[call_id]
                self._progress(call_id, outside, TransferState.COMPLETED)
                later = self._decide(lambda: self.service.transfer_out(call_id, outside.number))
            else:
                consult_leg = call.consult_leg
                if consult_leg is None:
                    raise ControlError(f"call {call_id} has no consultation")
                consulted = self.service.leg(consult_leg)
                if consulted is None or not consulted.answered:
                    raise ControlError("the consulted agent has not answered")
                await self._do(
                    self.pbx.setvar(self.channel_name(consult_leg), Var.CALLER, call.channel), "complete"
                )
                later = self._decide(lambda: self.service.consult_complete(call_id))
            self.service.carry_out(later)  # hangs up the first agent's leg: the consulted leg moves on

    async def consult_cancel(self, call_id: str) -> None:
        """Drop the consulted party and give the caller back to the agent."""
        async with self._exclusive(call_id):
            call, leg = self.connected(call_id)
            outside = self.outside.pop(call_id, None)
            if outside is not None:
                self._progress(call_id, outside, TransferState.CANCELLED)
                await self._quietly(self.pbx.hangup(outside.leg_id))
            elif call.consult_leg is not None:
                self._decide(lambda: self.service.consult_cancel(call_id))
            else:
                raise ControlError(f"call {call_id} has no consultation")
            await self._rejoin(call, leg)
            self._decide(lambda: self.service.resume(call_id))

    def wrapup_done(self, agent_id: str) -> None:
        """End the agent's wrap-up now (no-op when they are not in wrap-up)."""
        self.service.wrapup_done(agent_id)

    async def spy(self, agent_id: str, mode: str, phone: str, supervisor: str = "") -> str:
        """Monitor the agent's current call from the supervisor's `phone`; returns the spy leg's id.

        A supervisor has one monitoring call: asking again for the same agent and mode changes
        nothing (a second click is not a second call); another agent or mode moves the answered leg
        there (ChanSpy restarts on the same call). While the phone still rings, only the same
        request is accepted.
        """
        key = supervisor or f"phone:{phone}"
        current = self.spies.get(key)
        if current is not None:
            if current.agent_id == agent_id and current.mode == mode:
                return current.leg_id
            if not current.answered:
                raise ControlError("your phone is ringing for the monitoring call: answer it first")
            await self._move_spy(current, agent_id, mode)
            return current.leg_id
        leg = self._spied_leg(agent_id)
        spy_id = f"cs-spy-{agent_id}-{next(self._ids)}"
        session = SpySession(key, spy_id, agent_id, mode, phone)
        self.spies[key] = session  # before any await: a concurrent click finds it
        try:
            await self._do(
                self.pbx.originate(
                    channel=phone,
                    context=Context.SPY,
                    exten="s",
                    channel_id=spy_id,
                    timeout=CONSULT_RING,
                    caller_id=f'"{mode} {agent_id}" <{agent_id}>',
                    variables={Var.SPY: leg, Var.SPY_OPTS: SPY_OPTIONS[mode]},
                ),
                "spy",
            )
        except ControlError:
            self.spies.pop(key, None)
            raise
        self._spy_changed(session)
        return spy_id

    async def stop_spy(self, supervisor: str) -> SpySession:
        """Hang up the supervisor's monitoring call."""
        session = self.spies.get(supervisor)
        if session is None:
            raise UnknownCall("you are not monitoring anyone")
        await self._quietly(self.pbx.hangup(session.leg_id))
        self._spy_over(supervisor, session)
        return session

    def spy_of(self, supervisor: str) -> SpySession | None:
        return self.spies.get(supervisor)

    async def _move_spy(self, session: SpySession, agent_id: str, mode: str) -> None:
        leg = self._spied_leg(agent_id)
        spy_channel = self.channel_name(session.leg_id)
        await self._do(self.pbx.setvar(spy_channel, Var.SPY, leg), "spy")
        await self._do(self.pbx.setvar(spy_channel, Var.SPY_OPTS, SPY_OPTIONS[mode]), "spy")
        # ChanSpy ends on the redirect and starts again with the new variables: same call
        await self._do(self.pbx.redirect(spy_channel, Context.SPY, "s", 1), "spy")
        session.agent_id, session.mode = agent_id, mode
        self._spy_changed(session)

    def _spied_leg(self, agent_id: str) -> str:
        """The channel name of the agent leg on the agent's current call."""
        call_id = self.current_call_of(agent_id)
        if call_id is None:
            raise ControlError(f"agent {agent_id} is not on a call")
        _call, leg = self.connected(call_id)
        if not self.service.channels.is_live_name(leg):
            raise ControlError(f"the channel of agent {agent_id} is not known yet")
        return leg

    def _spy_over(self, supervisor: str, session: SpySession) -> None:
        if self.spies.get(supervisor) is session:
            del self.spies[supervisor]
        if not session.ended:
            session.ended = True
            self._spy_changed(session)

    def _spy_changed(self, session: SpySession) -> None:
        for listener in self.spy_listeners:
            listener(session)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- mechanics -------------------------------------------------------------------------

    async def _park(self, call: CallView, leg: str) -> None:
        """CS_PARK first, then move the caller: the agent leg leaves Bridge() and parks itself."""
        await self._do(self.pbx.setvar(leg, Var.PARK, "1"), "hold")
        await self._do(self.pbx.redirect(call.channel, Context.ONHOLD, "s", 1), "hold")

    async def _rejoin(self, call: CallView, leg: str) -> None:
        """A parked leg may be redirected: it runs Bridge(${CS_CALLER},x) again."""
        await self._do(self.pbx.setvar(leg, Var.CALLER, call.channel), "resume")
        await self._do(self.pbx.redirect(leg, Context.REJOIN, "s", 1), "resume")

    async def _ring_colleague(self, colleague: Deferred) -> str:
        """Place the colleague's leg into [callserver-consult], bridged to the parked agent leg."""
        try:
            return await self.service.ring_consult(colleague)
        except PbxError as err:
            raise PbxFailed(f"the PBX did not place the consultation call: {err}") from err

    @staticmethod
    def _decide(verb: Callable[[], T]) -> T:
        """One ACD verb; a refusal (the call is not in a state for it) becomes a 409."""
        try:
            return verb()
        except NotAllowed as err:
            raise ControlError(str(err)) from err

    async def _do(self, action: Awaitable[object], what: str) -> None:
        try:
            await action
        except PbxError as err:
            log.warning("%s: AMI action failed: %s", what, err)
            raise PbxFailed(f"{what}: the PBX refused or is unreachable: {err}") from err

    async def _quietly(self, action: Awaitable[object]) -> None:
        try:
            await action
        except PbxError as err:  # "No such channel": it ended on its own meanwhile
            log.debug("ignored: %s", err)

    def _exclusive(self, call_id: str) -> _Exclusive:
        return _Exclusive(self._busy, call_id)


class _Exclusive:
    """One control operation per call at a time: a second click gets a clear 409, not a race."""

    def __init__(self, busy: set[str], call_id: str) -> None:
        self.busy, self.call_id = busy, call_id

    async def __aenter__(self) -> None:
        if self.call_id in self.busy:
            raise ControlError(f"another action on call {self.call_id} is in progress")
        self.busy.add(self.call_id)

    async def __aexit__(self, *exc: object) -> None:
        self.busy.discard(self.call_id)
