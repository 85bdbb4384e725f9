"""The `inbound` FastAGI script: a caller's first contact with callserver.

A number an IVR flow answers runs that flow first; the flow's ending decides what happens next: a
queue (with the call data gathered on the way), a mailbox, a transfer, or the end of the call. A
number without a flow goes straight to the queue that owns it, as before. The script tells the
dialplan where the caller goes next through `CS_NEXT` (hold, dial, unavailable).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from ..acd.service import AcdService
from ..agi.session import AgiHangup, AgiSession, inbound_call
from ..config import Settings
from ..facts.model import CallLinkedToCustomer, Fact
from ..ivr.actions import ToQueue, ToVoicemail, Transfer
from ..ivr.model import FlowConfig, IvrConfig, VoicemailNode
from ..ivr.progress import IvrPresence
from ..ivr.runner import CustomerLookup, IvrResult, PromptResolver, run_flow
from ..ivr.summary import IVR_KEY, summarise
from ..pbx.dialplan import Context, Var
from ..pbx.events import InboundCall
from ..store.records import CUSTOMER_MATCHES, CustomerRecord
from ..voicemail.failures import RecordingFailures
from ..voicemail.service import VoicemailService
from .matches import CallerMatches

log = logging.getLogger("callserver.inbound.script")

# customer fields handed to the ACD (requirements, priority, screen-pop) when the IVR found one
CUSTOMER_DATA = ("vip", "language", "name", "account")
LinkCustomer = Callable[[str, int], None]


def fact_linker(publish: Callable[[Fact], None], clock: Callable[[], float]) -> LinkCustomer:
    """`link_customer` for IvrDeps: the link is a fact on the bus, behind the call's CallQueued."""

    def link(call_id: str, customer_id: int) -> None:
        publish(CallLinkedToCustomer(call_id, clock(), customer_id, by="ivr"))

    return link


@dataclass(frozen=True)
class IvrDeps:
    """What running flows needs, built by the composition root."""

    config: IvrConfig
    lookup: CustomerLookup
    prompts: PromptResolver
    presence: IvrPresence
    link_customer: LinkCustomer
    clock: Callable[[], float]
    voicemail: VoicemailService | None = None
    recordings_dir: str = "/var/spool/asterisk/callserver"
    recording_failures: RecordingFailures = dataclasses.field(default_factory=RecordingFailures)


FindCustomers = Callable[[str], Awaitable[list[CustomerRecord]]]
# waits while the fact writer is over its bound: new calls are taken no faster than they are stored
Room = Callable[[], Awaitable[None]]


def customer_data(record: CustomerRecord) -> dict[str, object]:
    """A customer record as requirement data (`customer.vip`, `customer.language`...)."""
    return {
        "customer_id": record.id,
        "customer.vip": record.vip,
        "customer.language": record.language or "",
        "customer.account": record.account or "",
        "customer.name": record.name,
    }


class InboundScript:
    def __init__(
        self,
        settings: Settings,
        service: AcdService,
        ivr: IvrDeps | None = None,
        *,
        find_customers: FindCustomers | None = None,
        matches: CallerMatches | None = None,
        room: Room | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.ivr = ivr
        self.find_customers = find_customers
        self.matches = matches
        self.room = room

    async def __call__(self, session: AgiSession) -> None:
        call = inbound_call(session)
        if not call.uniqueid or not call.channel:
            log.error("inbound AGI without agi_uniqueid/agi_channel: %r", session.env)
            return
        if self.room is not None:
            await self.room()
        found = self.ivr.config.flow_for_dnis(call.dnis) if self.ivr is not None else None
        if self.ivr is not None and found is not None:
            await self._through_ivr(session, call, self.ivr, *found)
        else:
            await self._direct(session, call)

    async def _direct(self, session: AgiSession, call: InboundCall) -> None:
        queue = self.settings.queue_for_dnis(call.dnis)
        if queue is None:
            log.warning(
                "call %s from %s to unknown number %r: no queue, caller told no service",
                call.uniqueid,
                call.caller_num,
                call.dnis,
            )
            await session.set_variable(Var.NEXT, Context.UNAVAILABLE.step)
            self.service.reject_call(call, f"no queue for number {call.dnis!r}")
            return
        # the customer search runs while the PBX is told where the caller goes next
        lookup = asyncio.ensure_future(self._direct_data(call))
        try:
            await self._tell_pbx(session, queue.name)
        except BaseException:
            lookup.cancel()
            raise
        self._enqueue(call, queue.name, await lookup)

    async def _direct_data(self, call: InboundCall) -> dict[str, object]:
        """What the dialled number and the caller's customer record (one match) say about the call.

        This is the call's one search by number: the ids found travel in the call data (the store
        links the call from them) and the records stay in `matches` for the screen-pop. A failed
        search leaves the call without customer data rather than the caller without service.
        """
        data = self.settings.call_data_for(call.dnis)
        if self.find_customers is not None and call.caller_num:
            try:
                found = await self.find_customers(call.caller_num)
            except Exception as err:
                log.warning("call %s: customer search for %s failed: %s", call.uniqueid, call.caller_num, err)
                return data
            if len(found) == 1:
                data.update(customer_data(found[0]))
            data[CUSTOMER_MATCHES] = [record.id for record in found]
            if self.matches is not None:
                self.matches.remember(call.uniqueid, found)
        return data

    async def _to_queue(
        self, session: AgiSession, call: InboundCall, queue: str, data: dict[str, object] | None
    ) -> None:
        await self._tell_pbx(session, queue)
        self._enqueue(call, queue, data)

    async def _tell_pbx(self, session: AgiSession, queue: str) -> None:
        """The dialplan sends a caller with `CS_QUEUE` set to the hold context when the script ends.

        One command rather than `CS_QUEUE` then `CS_NEXT=hold`: each AGI command is a round trip
        on the queued caller's path to an agent, and the queue name alone says where the caller
        goes (`[callserver-inbound]` tests it before `CS_NEXT`)."""
        await session.set_variable(Var.QUEUE, queue)

    def _enqueue(self, call: InboundCall, queue: str, data: dict[str, object] | None) -> None:
        log.debug("call %s from %s to %s enters queue %s", call.uniqueid, call.caller_num, call.dnis, queue)
        if data is None:
            self.service.inbound_call(call, queue)
        else:
            self.service.inbound_call(call, queue, data)

    async def _through_ivr(
        self, session: AgiSession, call: InboundCall, ivr: IvrDeps, name: str, flow: FlowConfig
    ) -> None:
        outcome = "failed"
        try:
            result = await run_flow(
                session,
                flow,
                lookup=ivr.lookup,
                prompts=ivr.prompts,
                now=lambda: datetime.fromtimestamp(ivr.clock(), UTC),
                on_node=ivr.presence.tracker(call.uniqueid, name, call.caller_num),
                name=name,
                recordings_dir=ivr.recordings_dir,
            )
            outcome = result.outcome
        except Exception:
            # the caller is still on the line: a queue without the menu beats no service at all
            log.exception("IVR flow %s failed for call %s", name, call.uniqueid)
            ivr.presence.left(call.uniqueid, outcome)
            with contextlib.suppress(AgiHangup):
                await self._direct(session, call)
            return
        ivr.presence.left(call.uniqueid, outcome)
        # a caller hanging up in a menu is ordinary: the CallRejected fact logs it, once, at INFO
        log.log(
            logging.DEBUG if outcome == "hangup" else logging.INFO,
            "call %s: IVR %s ended %s via %s",
            call.uniqueid,
            name,
            outcome,
            " > ".join(result.path),
        )
        if result.recording_failed:
            box = next((f"{k}:{v}" for k, v in _mailbox_of(flow, result) if v), "?")
            ivr.recording_failures.record(box, call.uniqueid, ivr.recordings_dir)
        await self._act(session, call, ivr, flow, result, name)

    async def _act(
        self,
        session: AgiSession,
        call: InboundCall,
        ivr: IvrDeps,
        flow: FlowConfig,
        result: IvrResult,
        name: str = "",
    ) -> None:
        action = result.action
        data = call_data(result, flow)
        # what the IVR learnt, for the screen-pop (not a requirement name: no dot in the key)
        data[IVR_KEY] = summarise(
            name,
            flow,
            result.path,
            result.data,
            result.outcome,
            _customer_id(result) is not None,
            result.keys,
        )
        customer_id = _customer_id(result)
        if isinstance(action, ToQueue):
            try:
                await self._to_queue(session, call, action.queue, data)
            except AgiHangup:
                # the caller left between the menu and the queue: the ACD hears the hang-up via AMI
                self.service.inbound_call(call, action.queue, data)
            if customer_id is not None:
                ivr.link_customer(call.uniqueid, customer_id)
        elif isinstance(action, ToVoicemail):
            await self._voicemail(session, call, ivr, action, data, customer_id)
        elif isinstance(action, Transfer):
            # [callserver-dial] dials CS_DIAL through the trunk, as for a queue's overflow number
            with contextlib.suppress(AgiHangup):
                await session.set_variable(Var.DIAL, action.number)
                await session.set_variable(Var.NEXT, Context.DIAL.step)
            log.info("call %s transferred by the IVR to %s", call.uniqueid, action.number)
        elif result.outcome == "ended":
            reason = getattr(action, "reason", "normal")
            self.service.reject_call(call, f"ended by IVR at {result.path[-1]}: {reason}")
        else:
            where = result.left_at or (result.path[-1] if result.path else "start")
            self.service.reject_call(call, f"hung up in IVR at {where}")

    async def _voicemail(
        self,
        session: AgiSession,
        call: InboundCall,
        ivr: IvrDeps,
        action: ToVoicemail,
        data: dict[str, object],
        customer_id: int | None,
    ) -> None:
        if ivr.voicemail is None:
            log.error("call %s: message for %s recorded but no voicemail service", call.uniqueid, action.box)
        else:
            await ivr.voicemail.deposit(
                call,
                action.box,
                action.recording,
                ivr_data=action.data,
                acd_data=data,
                customer_id=customer_id,
            )
        with contextlib.suppress(AgiHangup):
            await session.hangup()


def call_data(result: IvrResult, flow: FlowConfig) -> dict[str, object]:
    """The IVR's answers and customer as ACD call data: `call.<name>`, `customer.<field>`, `customer_id`.

    Values are kept JSON-ready (they travel in facts and the store's event log).
    """
    data: dict[str, object] = {"call.language": flow.language}
    for name, value in result.data.items():
        if name == "customer_id":
            if value.isdigit():
                data["customer_id"] = int(value)
        else:
            data[f"call.{name}"] = value
    customer = result.customer or {}
    for field in CUSTOMER_DATA:
        known = customer.get(field)
        if known is not None:
            data[f"customer.{field}"] = _plain(known)
    return data


def _plain(value: object) -> object:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _customer_id(result: IvrResult) -> int | None:
    raw = result.data.get("customer_id", "")
    if raw.isdigit():
        return int(raw)
    customer: Mapping[str, object] = result.customer or {}
    value = customer.get("id")
    return value if isinstance(value, int) else None


def _mailbox_of(flow: FlowConfig, result: IvrResult) -> list[tuple[str, str | None]]:
    """(kind, name) of the voicemail node where a recording failed (the last one on the path)."""
    for node_id in reversed(result.path):
        node = flow.nodes.get(node_id)
        if isinstance(node, VoicemailNode):
            return [("queue", node.queue), ("agent", node.agent)]
    return []
