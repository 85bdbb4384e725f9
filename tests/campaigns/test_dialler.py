"""The dialler reads each dial's end as Asterisk reports it (OriginateResponse Reason, then the Hangup
cause for Reason 0, in either order with DialEnd, as the s4/s10 recordings show), AMD decisions from
the CampaignAmd user event, and bridges a person only after marking the channel connected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callserver.ami.translator import AmiTranslator
from callserver.campaigns.commands import ConnectToAgent, Dial
from callserver.campaigns.dialler import PbxDialler
from callserver.campaigns.engine import DialProgress
from callserver.campaigns.model import AmdDecision
from callserver.pbx.actions import ActionRefused
from callserver.pbx.channels import ChannelNames
from callserver.pbx.events import (
    AmdDecided,
    ChannelCreated,
    ChannelHungUp,
    ChannelSnapshot,
    DialEnded,
    OriginateResult,
)
from callserver.pbx.hub import PbxEventHub


@dataclass
class Feed:
    live: set[str] = field(default_factory=set)
    said: list[tuple[str, str, Any]] = field(default_factory=list)

    def attempt_live(self, attempt_id: str) -> bool:
        return attempt_id in self.live

    def progress(self, attempt_id: str, progress: DialProgress) -> None:
        self.said.append(("progress", attempt_id, progress))

    def amd(self, attempt_id: str, decision: AmdDecision) -> None:
        self.said.append(("amd", attempt_id, decision))

    def connected(self, attempt_id: str) -> None:
        self.said.append(("connected", attempt_id, None))

    def gone(self, attempt_id: str, by: str) -> None:
        self.said.append(("gone", attempt_id, by))

    def not_connected(self, attempt_id: str, reason: str) -> None:
        self.said.append(("not_connected", attempt_id, reason))

    def live_attempts(self) -> list[str]:
        return sorted(self.live)

    def reconnected(self) -> None:
        self.said.append(("reconnected", "", None))


@dataclass
class Pbx:
    actions: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def originate(self, **kwargs: Any) -> None:
        self.actions.append(("originate", tuple(sorted(kwargs.items()))))

    async def hangup(self, channel: str) -> None:
        self.actions.append(("hangup", (channel,)))

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        self.actions.append(("redirect", (channel, context)))

    async def setvar(self, channel: str, name: str, value: str) -> None:
        self.actions.append(("setvar", (channel, name, value)))

    async def getvar(self, channel: str, name: str) -> str | None:
        return None

    async def bridge(self, channel1: str, channel2: str) -> None:
        if "bridge" in self.refuse:
            raise ActionRefused("Bridge", f"Channel1 does not exist: {channel1}")
        self.actions.append(("bridge", (channel1, channel2)))

    async def core_show_channels(self) -> list[ChannelSnapshot]:
        return []


def rig() -> tuple[PbxDialler, Feed, Pbx, PbxEventHub]:
    feed, pbx, hub = Feed(), Pbx(), PbxEventHub()

    async def bridge(agent_id: str, channel: str) -> None:
        await pbx.bridge(channel, f"line-{agent_id}")

    dialler = PbxDialler(
        pbx,
        ChannelNames(),
        bridge=bridge,
        dial_string="PJSIP/{number}@trunk",
        feed=feed,
        default_info="callserver/en/campaign-info",
        default_machine="callserver/en/campaign-machine",
    )
    hub.subscribe(dialler.subscriptions())
    return dialler, feed, pbx, hub


def dial(attempt: str) -> Dial:
    return Dial(attempt, "spring", "L1", "+12125550100", "+12025550100", "Acme", 25.0, None, "default")


def created(uid: str) -> ChannelCreated:
    return ChannelCreated(uid, uid, "PJSIP/trunk-00000001", "Down", "", "", "callserver-campaign", "s")


async def test_reason_zero_is_resolved_from_the_hangup_cause_whichever_comes_first() -> None:
    dialler, feed, pbx, hub = rig()
    cases = {"a-busy": 17, "a-bad": 1, "a-603": 21, "a-503": 34}
    for att in cases:
        feed.live.add(att)
        await dialler.execute(dial(att))
        hub.publish(created(att))
    # 486: OriginateResponse, DialEnd, Hangup (s10); 503: DialEnd first
    hub.publish(OriginateResult("x", "a-busy", "PJSIP/+1@trunk", False, 0))
    hub.publish(DialEnded("", "a-busy", "PJSIP/trunk-1", "BUSY"))
    hub.publish(ChannelHungUp("a-busy", "a-busy", "PJSIP/trunk-1", 17, "User busy"))
    hub.publish(DialEnded("", "a-503", "PJSIP/trunk-1", "CONGESTION"))
    hub.publish(OriginateResult("x", "a-503", "PJSIP/+1@trunk", False, 0))
    hub.publish(ChannelHungUp("a-503", "a-503", "PJSIP/trunk-1", 34, "Circuit/channel congestion"))
    for att in ("a-bad", "a-603"):
        hub.publish(OriginateResult("x", att, "PJSIP/+1@trunk", False, 0))
        hub.publish(ChannelHungUp(att, att, "PJSIP/trunk-1", cases[att], ""))
    got = {a: p for kind, a, p in feed.said if kind == "progress"}
    assert got == {
        "a-busy": DialProgress.BUSY,
        "a-bad": DialProgress.INVALID,
        "a-603": DialProgress.NO_ANSWER,
        "a-503": DialProgress.FAILED,
    }
    originate = dict(pbx.actions[0][1])
    assert (originate["channel"], originate["context"], originate["channel_id"]) == (
        "PJSIP/+12125550100@trunk",
        "callserver-campaign",
        "a-busy",
    )
    assert originate["variables"] == {"CS_ATTEMPT": "a-busy", "CS_AMD": ""}


async def test_rang_out_no_endpoint_answered_and_gone() -> None:
    dialler, feed, _, hub = rig()
    for att in ("r3", "r0", "ok"):
        feed.live.add(att)
        await dialler.execute(dial(att))
    hub.publish(created("r3"))
    hub.publish(OriginateResult("x", "r3", "PJSIP/+1@trunk", False, 3))
    hub.publish(OriginateResult("x", "r0", "PJSIP/+1@trunk", False, 0))  # no channel was ever made
    hub.publish(created("ok"))
    hub.publish(OriginateResult("x", "ok", "PJSIP/trunk-9", True, 4))
    hub.publish(AmdDecided("ok", "PJSIP/trunk-9", "NOTSURE", "TOOLONG-5000"))
    hub.publish(ChannelHungUp("ok", "ok", "PJSIP/trunk-9", 16, "Normal Clearing"))
    assert feed.said == [
        ("progress", "r3", DialProgress.NO_ANSWER),
        ("progress", "r0", DialProgress.FAILED),
        ("progress", "ok", DialProgress.ANSWERED),
        ("amd", "ok", AmdDecision.NOT_SURE),
        ("gone", "ok", "customer"),
    ]


async def test_a_person_is_marked_connected_then_bridged_and_a_refused_bridge_loses_the_call() -> None:
    dialler, feed, pbx, _ = rig()
    feed.live.add("p1")
    await dialler.execute(ConnectToAgent("p1", "agent1"))
    assert pbx.actions == [("setvar", ("p1", "CS_CONNECTED", "1")), ("bridge", ("p1", "line-agent1"))]
    pbx.actions.clear()
    pbx.refuse.add("bridge")
    await dialler.execute(ConnectToAgent("p1", "agent1"))
    assert feed.said[-1][:2] == ("not_connected", "p1")
    assert pbx.actions[-1] == ("hangup", ("p1",))


def test_the_campaign_amd_user_event_is_translated_and_other_user_events_are_not() -> None:
    fields = {
        "Event": "UserEvent",
        "Privilege": "user,all",
        "Channel": "PJSIP/trunk-0000000a",
        "Uniqueid": "spring-k1-3",
        "Linkedid": "spring-k1-3",
        "Context": "callserver-campaign",
        "UserEvent": "CampaignAmd",
        "Status": "MACHINE",
        "Cause": "LONGGREETING-1500-1500",
    }
    translator = AmiTranslator()
    assert translator.translate(fields) == AmdDecided(
        "spring-k1-3", "PJSIP/trunk-0000000a", "MACHINE", "LONGGREETING-1500-1500"
    )
    assert translator.translate({**fields, "UserEvent": "SiteEvent"}) is None
