"""Every fact type in the `Fact` union goes through every consumer's mapping: the live channel and
MQTT (checked against the published schema and the docs) and the log line. The store's mapping is
covered in tests/store/test_every_fact.py, the broker round trip in tests/mqtt/test_every_fact.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from callserver.facts.campaign import LeadsImported
from callserver.facts.describe import describe
from callserver.facts.model import CallEnded, CallEndedWithReason, Fact, OfferEnded, OfferResult, Outcome
from callserver.facts.replay import fact_from_record
from callserver.mqtt.topics import message_for
from callserver.store.facts import payload_of
from callserver.web.messages import live_event
from tests.facts.samples import AGENT_ID, CALL_ID, CAMPAIGN, T0, fact_types, one_of_each, sample

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "callserver/web/schema.json").read_text())
LIVE = jsonschema.Draft202012Validator(SCHEMA)
MQTT = jsonschema.Draft202012Validator({**SCHEMA, "$ref": "#/$defs/mqtt"})
DOC = (ROOT / "docs/live-channel.md").read_text()
FACTS = one_of_each()
IDS = [type(f).__name__ for f in FACTS]


def live_message(fact: Fact) -> dict[str, Any] | None:
    event = live_event(fact)
    return None if event is None else {"v": 1, "seq": 1, "type": event.kind, "data": event.data}


def test_the_samples_cover_every_member_of_the_union() -> None:
    assert [type(f) for f in FACTS] == list(fact_types())
    assert len(set(IDS)) == len(IDS) >= 15


@pytest.mark.parametrize("fact", FACTS, ids=IDS)
def test_every_fact_has_a_log_line_naming_its_subject(fact: Fact) -> None:
    line = describe(fact)
    assert not line.startswith(type(fact).__name__), line  # not a repr fallback
    assert CALL_ID in line or AGENT_ID in line or f"campaign {CAMPAIGN}" in line, line


@pytest.mark.parametrize("fact", FACTS, ids=IDS)
def test_every_fact_maps_to_a_documented_mqtt_message_that_the_schema_accepts(fact: Fact) -> None:
    topic, payload = message_for(fact, "cs", "site1")
    message = json.loads(payload)
    MQTT.validate(message)
    levels = r"(calls|agents|campaigns)"
    level, subject, event = re.fullmatch(rf"cs/site1/{levels}/([^/]+)/([a-z_]+)", topic).groups()  # type: ignore[union-attr]
    assert (message["event"], message["at"]) == (event, T0)
    assert message[{"calls": "call_id", "agents": "agent_id", "campaigns": "campaign"}[level]] == subject
    documented = re.search(rf"<topic_prefix>/<site>/{level}/<[a-z-]+>/(.+)", DOC)
    assert documented is not None and event in documented.group(1).split(" | "), f"{event} not in the docs"
    assert f"- `{event}`:" in DOC, f"the payload fields of {event} are not in the docs"


@pytest.mark.parametrize("fact", FACTS, ids=IDS)
def test_every_fact_shown_live_matches_the_schema_and_the_docs(fact: Fact) -> None:
    message = live_message(fact)
    if message is None:
        return  # the live channel leaves this one out by choice (see web/messages.py)
    LIVE.validate(message)
    assert f"| `{message['type']}` |" in DOC, f"{message['type']} is not in the docs"


def test_every_outcome_and_offer_result_is_a_value_the_schemas_allow() -> None:
    for outcome in Outcome:
        fact: Fact = CallEnded(CALL_ID, T0, "support", outcome, None, 1.0)
        MQTT.validate(json.loads(message_for(fact, "cs", "site1")[1]))
        LIVE.validate(live_message(fact))
    for result in OfferResult:
        fact = OfferEnded(CALL_ID, T0, AGENT_ID, "leg", result)
        MQTT.validate(json.loads(message_for(fact, "cs", "site1")[1]))
        LIVE.validate(live_message(fact))


def test_each_fact_type_has_its_own_mqtt_event() -> None:
    events = [message_for(sample(cls), "cs", "s")[0].rsplit("/", 1)[1] for cls in fact_types()]
    assert len(set(events)) == len(events), events


def _ended_with_reason() -> Fact:
    return CallEndedWithReason(CALL_ID, T0, "sales", Outcome.FAILED, None, 3.0, "cut by the PBX", True)


# a list import is logged as its figures, not its leads: it does not come back whole
WHOLE = [f for f in FACTS if not isinstance(f, LeadsImported)]


@pytest.mark.parametrize(
    "fact", [*WHOLE, _ended_with_reason()], ids=[*(type(f).__name__ for f in WHOLE), "CallEndedWithReason"]
)
def test_every_fact_read_back_from_the_log_is_equal_and_of_its_own_class(fact: Fact) -> None:
    # a subclass (CallEndedWithReason) must come back as the class consumers match on
    again = fact_from_record(type(fact).__name__, payload_of(fact))
    assert again == fact
    assert type(again) is type(fact)
