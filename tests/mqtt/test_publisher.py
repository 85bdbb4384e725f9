"""MQTT publishing against a real Mosquitto: order, QoS 1, broker outages that never block the ACD."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema

from callserver.config import MqttConfig
from callserver.facts.bus import FactBus
from callserver.facts.model import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    Fact,
    Outcome,
)
from callserver.mqtt import MqttPublisher, message_for
from tests.helpers import free_port
from tests.mqtt.conftest import Broker

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "callserver/web/schema.json").read_text())
PAYLOAD = jsonschema.Draft202012Validator({**SCHEMA, "$ref": "#/$defs/mqtt"})


def one_call(call_id: str, at: float = 1_700_000_000.0) -> list[Fact]:
    return [
        CallQueued(call_id, at, "support", f"PJSIP/trunk-{call_id}", "+33140000001", "Ann", "500"),
        CallOffered(call_id, at + 1, "support", "agent1", f"leg-{call_id}", 1),
        AgentStateChanged("agent1", at + 1, "idle", "ringing", call_id),
        CallAnswered(call_id, at + 3, "support", "agent1", 3.0),
        AgentStateChanged("agent1", at + 3, "ringing", "on_call", call_id),
        CallEnded(call_id, at + 60, "support", Outcome.ANSWERED, "agent1", 3.0),
        AgentStateChanged("agent1", at + 60, "on_call", "idle", None),
    ]


@asynccontextmanager
async def subscriber(port: int, identifier: str = "test-sub") -> AsyncIterator[aiomqtt.Client]:
    """A persistent-session subscriber: the broker keeps its QoS 1 messages across a restart."""
    async with aiomqtt.Client("127.0.0.1", port, identifier=identifier, clean_session=False) as client:
        await client.subscribe("cs/test/#", qos=1)
        yield client


async def collect(
    client: aiomqtt.Client, count: int, timeout: float = 10.0
) -> list[tuple[str, dict[str, Any]]]:
    got: list[tuple[str, dict[str, Any]]] = []
    async with asyncio.timeout(timeout):
        async for msg in client.messages:
            assert isinstance(msg.payload, bytes)
            payload = json.loads(msg.payload)
            PAYLOAD.validate(payload)
            got.append((str(msg.topic), payload))
            if len(got) == count:
                return got
    return got


def config(port: int) -> MqttConfig:
    return MqttConfig(host="127.0.0.1", port=port, site="test", topic_prefix="cs")


async def test_facts_of_one_call_arrive_in_order(broker: Broker) -> None:
    bus = FactBus()
    publisher = MqttPublisher(config(broker.port), bus, reconnect_min=0.05, reconnect_max=0.2)
    async with subscriber(broker.port) as sub:
        await publisher.start()
        facts = one_call("1700000000.1")
        for fact in facts:
            bus.publish(fact)
        got = await collect(sub, len(facts))
    await publisher.stop()
    assert [t for t, _ in got] == [
        "cs/test/calls/1700000000.1/queued",
        "cs/test/calls/1700000000.1/offered",
        "cs/test/agents/agent1/state",
        "cs/test/calls/1700000000.1/answered",
        "cs/test/agents/agent1/state",
        "cs/test/calls/1700000000.1/ended",
        "cs/test/agents/agent1/state",
    ]
    assert got[0][1]["caller_name"] == "Ann"
    assert got[5][1] == {
        "v": 1,
        "event": "ended",
        "at": 1_700_000_060.0,
        "call_id": "1700000000.1",
        "queue": "support",
        "outcome": "answered",
        "agent_id": "agent1",
        "wait": 3.0,
    }


async def test_publishing_resumes_after_the_broker_restarts_and_never_blocks(broker: Broker) -> None:
    bus = FactBus()
    publisher = MqttPublisher(
        config(broker.port), bus, reconnect_min=0.05, reconnect_max=0.2, publish_timeout=1
    )
    first, second = one_call("c1"), one_call("c2", 1_700_000_100.0)
    async with subscriber(broker.port) as sub:
        await publisher.start()
        for fact in first:
            bus.publish(fact)
        assert len(await collect(sub, len(first))) == len(first)
    await broker.stop()
    slowest = 0.0
    for fact in second:
        started = time.perf_counter()
        bus.publish(fact)  # call handling goes on while the broker is away
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 0.01
    assert publisher.backlog > 0
    await broker.start()
    async with subscriber(broker.port) as sub:
        got: list[tuple[str, dict[str, Any]]] = []
        while len(got) < len(second):
            # the subscriber's own session may redeliver first-call messages it had not acknowledged
            got += [m for m in await collect(sub, 1) if m[1]["at"] >= 1_700_000_100.0]
    await publisher.stop()
    assert got[0][1]["call_id"] == "c2"
    assert [t.rsplit("/", 1)[1] for t, _ in got] == [
        "queued",
        "offered",
        "state",
        "answered",
        "state",
        "ended",
        "state",
    ]
    assert publisher.dropped == 0
    assert publisher.backlog == 0


async def test_full_queue_drops_the_oldest_and_counts_them() -> None:
    bus = FactBus()
    publisher = MqttPublisher(config(free_port()), bus, queue_size=5, reconnect_min=0.05, reconnect_max=0.1)
    await publisher.start()
    facts = one_call("c3") + one_call("c4")
    for fact in facts:
        bus.publish(fact)
    assert publisher.dropped == len(facts) - 5
    assert publisher.backlog == 5
    await publisher.stop()


def test_ids_cannot_inject_topic_levels_or_wildcards() -> None:
    fact = CallQueued("a/b+#", 1.0, "q", "chan", "1", "", "")
    topic, payload = message_for(fact, "cs", "site/x")
    assert topic == "cs/site_x/calls/a_b__/queued"
    assert json.loads(payload)["call_id"] == "a/b+#"
