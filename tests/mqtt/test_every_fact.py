"""Every fact type reaches a real Mosquitto on its documented topic with a payload the schema
accepts: a fact type without an MQTT mapping would never get there (and would fail `mypy`)."""

from __future__ import annotations

import re
from pathlib import Path

from callserver.facts.bus import FactBus
from callserver.facts.campaign import (
    AgentSlotChanged,
    AttemptAmd,
    AttemptAnswered,
    AttemptCoded,
    AttemptConnected,
    AttemptEnded,
    AttemptRinging,
    AttemptStarted,
    CallbackBooked,
    CampaignModeChanged,
    CampaignSaved,
    CampaignStateChanged,
    DialRefused,
    DncAdded,
    DncImported,
    LeadsImported,
    LeadUpdated,
    PreviewOffered,
    PreviewSkipped,
)
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
    IvrLeft,
    IvrNodeEntered,
    OfferEnded,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)
from callserver.mqtt import MqttPublisher
from tests.facts.samples import AGENT_ID, CALL_ID, CAMPAIGN, fact_types, one_of_each
from tests.mqtt.conftest import Broker
from tests.mqtt.test_publisher import collect, config, subscriber

DOC = (Path(__file__).resolve().parents[2] / "docs/live-channel.md").read_text()

# the topic each fact type is published on, below <prefix>/<site>/, as docs/live-channel.md says
TOPICS: dict[type, str] = {
    CallQueued: f"calls/{CALL_ID}/queued",
    CallRequeued: f"calls/{CALL_ID}/requeued",
    CallOffered: f"calls/{CALL_ID}/offered",
    OfferEnded: f"calls/{CALL_ID}/offer_ended",
    CallAnswered: f"calls/{CALL_ID}/answered",
    CallEnded: f"calls/{CALL_ID}/ended",
    CallHeld: f"calls/{CALL_ID}/held",
    CallResumed: f"calls/{CALL_ID}/resumed",
    CallTransferred: f"calls/{CALL_ID}/transferred",
    CallbackRequested: f"calls/{CALL_ID}/callback_requested",
    CallRejected: f"calls/{CALL_ID}/rejected",
    CallWrappedUp: f"calls/{CALL_ID}/wrapped_up",
    CallLinkedToCustomer: f"calls/{CALL_ID}/customer_linked",
    CustomerFieldSet: f"calls/{CALL_ID}/customer_field_set",
    ScriptRunStarted: f"calls/{CALL_ID}/script_started",
    ScriptStepReached: f"calls/{CALL_ID}/script_step",
    ScriptAnswered: f"calls/{CALL_ID}/script_answered",
    ScriptRunEnded: f"calls/{CALL_ID}/script_ended",
    AgentStatusChanged: f"agents/{AGENT_ID}/status",
    AgentStateChanged: f"agents/{AGENT_ID}/state",
    WrapupExtended: f"agents/{AGENT_ID}/wrapup_extended",
    TransferProgress: f"calls/{CALL_ID}/transfer_progress",
    AgentPhoneChanged: f"agents/{AGENT_ID}/phone",
    IvrNodeEntered: f"calls/{CALL_ID}/ivr_node",
    IvrLeft: f"calls/{CALL_ID}/ivr_left",
    CampaignSaved: f"campaigns/{CAMPAIGN}/saved",
    CampaignStateChanged: f"campaigns/{CAMPAIGN}/run_state",
    CampaignModeChanged: f"campaigns/{CAMPAIGN}/mode",
    LeadsImported: f"campaigns/{CAMPAIGN}/list_imported",
    AttemptStarted: f"campaigns/{CAMPAIGN}/attempt_started",
    AttemptRinging: f"campaigns/{CAMPAIGN}/attempt_ringing",
    AttemptAnswered: f"campaigns/{CAMPAIGN}/attempt_answered",
    AttemptAmd: f"campaigns/{CAMPAIGN}/attempt_amd",
    AttemptConnected: f"campaigns/{CAMPAIGN}/attempt_connected",
    AttemptEnded: f"campaigns/{CAMPAIGN}/attempt_ended",
    AttemptCoded: f"campaigns/{CAMPAIGN}/attempt_coded",
    LeadUpdated: f"campaigns/{CAMPAIGN}/lead_updated",
    DialRefused: f"campaigns/{CAMPAIGN}/dial_refused",
    CallbackBooked: f"campaigns/{CAMPAIGN}/callback_booked",
    PreviewOffered: f"campaigns/{CAMPAIGN}/preview_offered",
    PreviewSkipped: f"campaigns/{CAMPAIGN}/preview_skipped",
    AgentSlotChanged: f"campaigns/{CAMPAIGN}/agent_slot",
    DncAdded: f"campaigns/{CAMPAIGN}/dnc_added",
    DncImported: f"campaigns/{CAMPAIGN}/dnc_imported",
}


def documented(level: str) -> set[str]:
    line = re.search(rf"<topic_prefix>/<site>/{level}/<[a-z-]+>/(.+)", DOC)
    assert line is not None, f"docs/live-channel.md lists no {level} topics"
    return set(line.group(1).split(" | "))


def test_the_expected_topics_are_the_documented_ones_for_every_fact_type() -> None:
    assert set(TOPICS) == set(fact_types()), "a fact type needs its topic here and in the docs"
    for level in ("calls", "agents", "campaigns"):
        expected = {t.rsplit("/", 1)[1] for t in TOPICS.values() if t.startswith(f"{level}/")}
        assert expected == documented(level)


async def test_every_fact_type_arrives_on_its_topic(broker: Broker) -> None:
    bus = FactBus()
    publisher = MqttPublisher(config(broker.port), bus, reconnect_min=0.05, reconnect_max=0.2)
    facts = one_of_each()
    async with subscriber(broker.port, "every-fact") as sub:
        await publisher.start()
        for fact in facts:
            bus.publish(fact)
        got = await collect(sub, len(facts))  # each payload is validated against the schema
    await publisher.stop()
    assert [topic for topic, _ in got] == [f"cs/test/{TOPICS[type(f)]}" for f in facts]
    assert publisher.dropped == 0 and publisher.published == len(facts)
    by_event = {payload["event"]: payload for _, payload in got}
    assert by_event["wrapped_up"]["code"] == "sample" and by_event["customer_linked"]["customer_id"] == 42
    assert (by_event["held"]["agent_id"], by_event["transferred"]["target"]) == (AGENT_ID, "sales")
