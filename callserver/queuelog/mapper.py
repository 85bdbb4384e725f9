"""Facts to `queue_log` entries: what app_queue would have written had it queued the call itself.

Sans-I/O: `on_fact(fact)` returns the entries, in order. The mapper keeps what the lines need and
the facts do not carry: each caller's place in its queue (positions are counted here, in arrival
order, as app_queue counts them), when the caller entered the queue and was connected (holdtime and
calltime are differences of whole seconds, so a reader that subtracts the lines' epochs finds the
same figures), when each agent's phone started ringing, and each agent's last status. The file
writer and the on-demand export both feed it the same facts in the same order, so they produce the
same lines.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from callserver.facts.campaign import CampaignFact
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
    OfferResult,
    Outcome,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)

from .model import MANAGER, NONE, Entry, Verb

LOGGED_OUT = "logged_out"
PAUSED = "paused"
ENDED_CALLS_KEPT = 10_000  # ended calls remembered for a late wrap-up (CALLSTATUS)


@dataclass
class _Session:
    """A caller's stay in queues, from ENTERQUEUE to the line that ends it."""

    queue: str
    caller: str
    entered: int
    origposition: int
    answered: int | None = None
    agent: str | None = None
    closed: bool = False  # transferred away or left with a key: later facts write nothing
    task: bool = False  # a voicemail or callback task: no caller, not a queue call
    rings: dict[str, tuple[str, float]] = field(default_factory=dict)  # leg -> (agent, since)


def _second(at: float) -> int:
    return int(at)


class QueueLogMapper:
    def __init__(
        self,
        agent_queues: Mapping[str, Iterable[str]],
        *,
        member_prefix: str = "Agent/",
        callback_keys: Mapping[str, str] | None = None,
    ) -> None:
        self.agent_queues = {agent: tuple(sorted(queues)) for agent, queues in agent_queues.items()}
        self.member_prefix = member_prefix
        self.callback_keys = dict(callback_keys or {})
        self._calls: dict[str, _Session] = {}
        self._waiting: dict[str, list[str]] = {}
        self._ended: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._status: dict[str, tuple[str, str]] = {}

    def member(self, agent_id: str | None) -> str:
        return NONE if agent_id is None else f"{self.member_prefix}{agent_id}"

    def on_fact(self, fact: Fact) -> list[Entry]:
        match fact:
            case CallQueued():
                return self._queued(fact)
            case CallOffered():
                call = self._open(fact.call_id)
                if call is not None:
                    call.rings[fact.leg_id] = (fact.agent_id, fact.at)
                return []
            case OfferEnded():
                return self._offer_ended(fact)
            case CallAnswered():
                return self._answered(fact)
            case CallRequeued():
                return self._requeued(fact)
            case CallEnded():
                return self._ended_call(fact)
            case CallHeld():
                return self._call_line(fact.call_id, fact.at, fact.agent_id, Verb.CALLERONHOLD)
            case CallResumed():
                held = str(int(fact.held))
                return self._call_line(fact.call_id, fact.at, fact.agent_id, Verb.CALLEROFFHOLD, held)
            case CallTransferred():
                return self._transferred(fact)
            case CallbackRequested():
                return self._callback(fact)
            case CallWrappedUp():
                return self._wrapped_up(fact)
            case CallLinkedToCustomer():
                if fact.customer_id is None:
                    return []
                return self._call_line(
                    fact.call_id, fact.at, None, Verb.INFO, "CUSTOMER", str(fact.customer_id)
                )
            case AgentStatusChanged():
                return self._status_changed(fact)
            case (
                CallRejected()  # never reached a queue
                | CustomerFieldSet()
                | ScriptRunStarted()
                | ScriptStepReached()
                | ScriptAnswered()
                | ScriptRunEnded()
                | AgentStateChanged()  # ringing / on call / wrap-up follow from the call's own lines
                | WrapupExtended()
                | TransferProgress()  # the steps of a transfer; its completion is a CallTransferred
                | AgentPhoneChanged()  # app_queue logs no device state
                | IvrNodeEntered()  # app_queue knows nothing of what came before the queue
                | IvrLeft()
            ):
                return []
            case _:
                _outbound(fact)
                return []

    # -- callers ------------------------------------------------------------------------------

    def _open(self, call_id: str) -> _Session | None:
        call = self._calls.get(call_id)
        return None if call is None or call.closed or call.task else call

    def _enter(self, call_id: str, queue: str, caller: str, at: float) -> Entry:
        waiting = self._waiting.setdefault(queue, [])
        waiting.append(call_id)
        session = _Session(queue, caller, _second(at), len(waiting))
        self._calls[call_id] = session
        return Entry(session.entered, call_id, queue, NONE, Verb.ENTERQUEUE, ("", caller, str(len(waiting))))

    def _leave(self, call_id: str, call: _Session) -> int:
        """Take the caller out of its queue's line; returns the place it had (0: not waiting)."""
        waiting = self._waiting.get(call.queue, [])
        if call_id not in waiting:
            return 0
        position = waiting.index(call_id) + 1
        waiting.remove(call_id)
        return position

    def _queued(self, fact: CallQueued) -> list[Entry]:
        if fact.kind != "call":
            self._calls[fact.call_id] = _Session(fact.queue, "", _second(fact.at), 0, task=True)
            return []
        if self._open(fact.call_id) is not None:
            return []  # the same call queued again (re-adopted after a reconnect): one stay
        out = []
        if fact.dnis:
            out.append(Entry(_second(fact.at), fact.call_id, fact.queue, NONE, Verb.DID, (fact.dnis,)))
        out.append(self._enter(fact.call_id, fact.queue, fact.caller_num, fact.at))
        return out

    def _offer_ended(self, fact: OfferEnded) -> list[Entry]:
        call = self._open(fact.call_id)
        if call is None:
            return []
        _agent, since = call.rings.pop(fact.leg_id, (fact.agent_id, fact.at))
        verb = Verb.RINGCANCELED if fact.result is OfferResult.CANCELLED else Verb.RINGNOANSWER
        ringing = str(max(0, round((fact.at - since) * 1000)))
        return [
            Entry(_second(fact.at), fact.call_id, call.queue, self.member(fact.agent_id), verb, (ringing,))
        ]

    def _answered(self, fact: CallAnswered) -> list[Entry]:
        call = self._calls.get(fact.call_id)
        if call is None:  # adopted after a restart: its entry was before this log began
            call = _Session(fact.queue, "", _second(fact.at - fact.wait), 0)
            self._calls[fact.call_id] = call
        if call.closed or call.task or call.answered is not None:
            return []
        self._leave(fact.call_id, call)
        leg, since = next(
            ((leg, at) for leg, (agent, at) in call.rings.items() if agent == fact.agent_id), ("", fact.at)
        )
        call.rings.clear()
        call.answered, call.agent, call.queue = _second(fact.at), fact.agent_id, fact.queue
        hold = call.answered - call.entered
        data = (str(hold), leg, str(int(fact.at - since)))
        return [
            Entry(call.answered, fact.call_id, call.queue, self.member(fact.agent_id), Verb.CONNECT, data)
        ]

    def _exit(self, call_id: str, call: _Session, verb: Verb, at: float, agent: str = NONE) -> Entry:
        position = self._leave(call_id, call)
        wait = _second(at) - call.entered
        return Entry(
            _second(at), call_id, call.queue, agent, verb, (str(position), str(call.origposition), str(wait))
        )

    def _requeued(self, fact: CallRequeued) -> list[Entry]:
        call = self._open(fact.call_id)
        if call is None:
            return []
        out = [self._exit(fact.call_id, call, Verb.EXITWITHTIMEOUT, fact.at)]
        out.append(self._enter(fact.call_id, fact.to_queue, call.caller, fact.at))
        return out

    def _talk(self, call: _Session, at: float) -> tuple[str, str, str]:
        """holdtime|calltime|origposition of a connected call."""
        answered = call.answered if call.answered is not None else _second(at)
        return str(answered - call.entered), str(_second(at) - answered), str(call.origposition)

    def _ended_call(self, fact: CallEnded) -> list[Entry]:
        call = self._calls.pop(fact.call_id, None)
        if call is None or call.task:
            return []
        self._ended[fact.call_id] = (call.queue, call.agent or fact.agent_id)
        while len(self._ended) > ENDED_CALLS_KEPT:
            self._ended.popitem(last=False)
        out = []
        if isinstance(fact, CallEndedWithReason):
            out.append(
                Entry(_second(fact.at), fact.call_id, call.queue, NONE, Verb.INFO, ("ENDED", fact.reason))
            )
        if call.closed:
            self._leave(fact.call_id, call)
            return out
        if call.answered is not None:
            member = self.member(call.agent or fact.agent_id)
            talk = self._talk(call, fact.at)
            verb = Verb.COMPLETEAGENT if fact.ended_by == "agent" else Verb.COMPLETECALLER
            out.append(Entry(_second(fact.at), fact.call_id, call.queue, member, verb, talk))
            return out
        verb = (
            Verb.EXITWITHTIMEOUT if fact.outcome in (Outcome.TIMED_OUT, Outcome.OVERFLOWED) else Verb.ABANDON
        )
        out.append(self._exit(fact.call_id, call, verb, fact.at))
        return out

    def _call_line(self, call_id: str, at: float, agent: str | None, verb: Verb, *data: str) -> list[Entry]:
        call = self._open(call_id)
        if call is None:
            return []
        return [Entry(_second(at), call_id, call.queue, self.member(agent or call.agent), verb, data)]

    def _transferred(self, fact: CallTransferred) -> list[Entry]:
        call = self._open(fact.call_id)
        if call is None:
            return []
        member = self.member(fact.agent_id or call.agent)
        hold, talk, origposition = self._talk(call, fact.at)
        at = _second(fact.at)
        if fact.kind == "consult":
            call.closed = True
            data = ("BRIDGE", self.member(fact.target), hold, talk, origposition)
            return [Entry(at, fact.call_id, call.queue, member, Verb.ATTENDEDTRANSFER, data)]
        context = {"queue": "queue", "agent": "agent"}.get(fact.kind, "outside")
        data = (fact.target, context, hold, talk, origposition)
        out = [Entry(at, fact.call_id, call.queue, member, Verb.BLINDTRANSFER, data)]
        if fact.kind in ("queue", "agent"):
            # the caller waits again, in the target queue (or its own, for one agent): a new stay
            queue = fact.target if fact.kind == "queue" else call.queue
            out.append(self._enter(fact.call_id, queue, call.caller, fact.at))
        else:
            call.closed = True
        return out

    def _callback(self, fact: CallbackRequested) -> list[Entry]:
        call = self._open(fact.call_id)
        if call is None or call.answered is not None:
            return []
        key = self.callback_keys.get(call.queue, "")
        entry = self._exit(fact.call_id, call, Verb.EXITWITHKEY, fact.at)
        call.closed = True
        return [Entry(entry.at, entry.callid, entry.queue, entry.agent, entry.verb, (key, *entry.data))]

    def _wrapped_up(self, fact: CallWrappedUp) -> list[Entry]:
        if not fact.code:
            return []
        call = self._calls.get(fact.call_id)
        if call is not None and call.task:
            return []
        known = (call.queue, call.agent) if call is not None else self._ended.get(fact.call_id)
        if known is None:
            return []
        queue, agent = known
        member = self.member(fact.agent_id or agent)
        return [Entry(_second(fact.at), fact.call_id, queue, member, Verb.CALLSTATUS, (fact.code,))]

    # -- agents -------------------------------------------------------------------------------

    def _status_changed(self, fact: AgentStatusChanged) -> list[Entry]:
        before = self._status.get(fact.agent_id, (LOGGED_OUT, ""))
        after = (fact.status, fact.reason if fact.status == PAUSED else "")
        self._status[fact.agent_id] = after
        if before == after:
            return []
        at, member = _second(fact.at), self.member(fact.agent_id)
        queues = self.agent_queues.get(fact.agent_id, ())

        def each(callid: str, verb: Verb, *data: str) -> Iterator[Entry]:
            return (Entry(at, callid, queue, member, verb, data) for queue in queues)

        was_in, is_in = before[0] != LOGGED_OUT, after[0] != LOGGED_OUT
        paused, reason = after[0] == PAUSED, after[1]
        if not is_in:
            return list(each(MANAGER, Verb.REMOVEMEMBER, ""))
        if not was_in:
            out = list(each(MANAGER, Verb.ADDMEMBER, "PAUSED" if paused else ""))
            if paused and reason:
                out += each(NONE, Verb.PAUSE, reason)
            return out
        if paused:
            return [Entry(at, NONE, NONE, member, Verb.PAUSEALL, (reason,)), *each(NONE, Verb.PAUSE, reason)]
        return [Entry(at, NONE, NONE, member, Verb.UNPAUSEALL, ("",)), *each(NONE, Verb.UNPAUSE, "")]


def _outbound(fact: CampaignFact) -> None:
    """app_queue logs no outbound dial: campaign calls have their own attempts table."""
