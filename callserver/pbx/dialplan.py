"""Every dialplan name callserver and `asterisk/extensions_callserver.conf` share, defined once.

Contexts are where callserver sends channels (Originate, Redirect) or where the dialplan sends them
on callserver's word (`CS_NEXT`, `CS_ACCEPT` choose a `callserver-<step>` context). Variables are
the channel variables either side sets for the other. A test checks this module and the .conf file
name the same contexts, and that no other module spells a context name of its own.
"""

from __future__ import annotations

from enum import StrEnum

PREFIX = "callserver-"


class Context(StrEnum):
    INBOUND = "callserver-inbound"  # a caller dialled one of the queues' numbers
    HOLD = "callserver-hold"  # waiting in a queue with music
    UNAVAILABLE = "callserver-unavailable"  # no service: message and hang-up
    AGENT = "callserver-agent"  # an originated agent leg runs the `agent` script
    AGENT_BRIDGE = "callserver-agent-bridge"  # ... and talks to its caller here
    AGENT_DIAL = "callserver-agent-dial"  # ... or dials the customer (callback)
    AGENT_REFUSED = "callserver-agent-refused"  # ... or is hung up (not accepted, ring-all lost)
    ANNOUNCE = "callserver-announce"  # position and estimated wait, back to HOLD
    CALLBACK = "callserver-callback"  # the caller pressed the callback key
    DIAL = "callserver-dial"  # the caller leaves for an outside number
    VOICEMAIL = "callserver-voicemail"  # the caller leaves a voicemail (the `voicemail` script)
    MESSAGE = "callserver-message"  # hear CS_MESSAGE, then hang up
    ONHOLD = "callserver-onhold"  # a connected caller put on hold
    PARKED = "callserver-parked"  # an agent leg waiting while its caller is on hold
    REJOIN = "callserver-rejoin"  # an agent leg (back) with its caller
    CONSULT = "callserver-consult"  # a consulted colleague or number talking to a parked agent leg
    SPY = "callserver-spy"  # a supervisor's phone running ChanSpy
    LINE = "callserver-line"  # an agent's persistent line: their phone waits here between calls
    CAMPAIGN = "callserver-campaign"  # a campaign dial answered: AMD(), then silence until bridged
    CAMPAIGN_INFO = "callserver-campaign-info"  # no agent in time: who called, a number, hang-up
    CAMPAIGN_MACHINE = "callserver-campaign-machine"  # a machine: after the beep, a message

    @property
    def step(self) -> str:
        """The name as `CS_NEXT` gives it to `Goto(callserver-${CS_NEXT},s,1)`."""
        return self.value.removeprefix(PREFIX)

    @property
    def agent_choice(self) -> str:
        """The name as `CS_ACCEPT` gives it to `Goto(callserver-agent-${CS_ACCEPT},s,1)`."""
        return self.value.removeprefix(Context.AGENT.value + "-")


# where an agent leg can be while it belongs to a call: answered and deciding (agent), talking
# (agent-bridge, or rejoin after hold or a completed consultation), parked while its caller is on
# hold, consulted by a colleague (consult), dialling a callback (agent-dial), being let go (refused).
# Re-adoption after a restart looks for these (and for legs still ringing, which have no context yet).
AGENT_LEG_CONTEXTS = frozenset(
    {
        Context.AGENT,
        Context.AGENT_BRIDGE,
        Context.AGENT_DIAL,
        Context.AGENT_REFUSED,
        Context.PARKED,
        Context.REJOIN,
        Context.CONSULT,
    }
)
# where the caller of a connected call can be while an agent has it
CALLER_CONNECTED_CONTEXTS = frozenset({Context.HOLD, Context.ONHOLD})
# where a caller callserver still owes an agent to can be: waiting (hold, hearing their position)
# or connected (hold when bridged, on hold while the agent consults)
CALLER_CONTEXTS = frozenset({Context.HOLD, Context.ANNOUNCE, Context.ONHOLD})


class Var(StrEnum):
    """Channel variables set by one side for the other."""

    NEXT = "CS_NEXT"  # inbound script -> dialplan: the step after the AGI (dial, unavailable)
    QUEUE = "CS_QUEUE"  # inbound script -> dialplan: wait on hold in this queue; re-adoption reads it
    CALL = "CS_CALL"  # on an agent leg: the call it serves
    AGENT = "CS_AGENT"  # on an agent leg: the agent
    CALLER = "CS_CALLER"  # on an agent leg: the caller's channel to bridge to
    ACCEPT = "CS_ACCEPT"  # agent script -> dialplan: bridge, dial or refused
    PARK = "CS_PARK"  # on an agent leg: park instead of hanging up when the bridge ends
    DIAL = "CS_DIAL"  # the outside number to dial (overflow, transfer, callback)
    POSITION = "CS_POSITION"  # announcement: position in the queue
    WAIT_MIN = "CS_WAIT_MIN"  # announcement: estimated wait in minutes
    VOICEMAIL = "CS_VOICEMAIL"  # the mailbox a caller leaves a message in (or the message's id)
    MESSAGE = "CS_MESSAGE"  # the prompt played before hanging up
    PEER_LEG = "CS_PEER_LEG"  # consultation: the parked agent leg to talk to
    SPY = "CS_SPY"  # spy: the agent leg listened to
    SPY_OPTS = "CS_SPY_OPTS"  # spy: ChanSpy options
    LINE = "CS_LINE"  # on a persistent line: after a bridge, back to the line's wait
    ATTEMPT = "CS_ATTEMPT"  # on a campaign dial: the attempt (also its channel's uniqueid)
    AMD = "CS_AMD"  # on a campaign dial: the AMD() arguments, empty when the campaign has no AMD
    CONNECTED = "CS_CONNECTED"  # on a campaign dial: set just before the bridge to an agent's line
    CALLBACK = "CS_CALLBACK"  # information message: the number to call back, said digit by digit


AMD_EVENT = "CampaignAmd"  # UserEvent(CampaignAmd,Status: ${AMDSTATUS},Cause: ${AMDCAUSE})


AGI_GLOBAL = "CALLSERVER_AGI"  # [globals]: where the FastAGI server listens
