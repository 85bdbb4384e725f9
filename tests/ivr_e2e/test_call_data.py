"""What the IVR hands the ACD: answers as `call.*`, the customer as `customer.*`, JSON-ready values."""

from __future__ import annotations

import json
from decimal import Decimal

from callserver.inbound.script import call_data
from callserver.ivr.actions import ToQueue
from callserver.ivr.model import FlowConfig
from callserver.ivr.runner import IvrResult

FLOW = FlowConfig.model_validate(
    {"language": "fr", "start": "q", "nodes": {"q": {"type": "queue", "queue": "billing"}}}
)


def test_answers_and_customer_become_requirement_names() -> None:
    result = IvrResult(
        "queue",
        ToQueue("billing"),
        ("q",),
        data={"account": "100200", "product": "billing", "customer_id": "7", "language": "en"},
        customer={"id": 7, "name": "Alice", "vip": True, "language": "en", "balance": Decimal("42.10")},
    )
    data = call_data(result, FLOW)
    assert data == {
        "call.language": "en",
        "call.account": "100200",
        "call.product": "billing",
        "customer_id": 7,
        "customer.vip": True,
        "customer.language": "en",
        "customer.name": "Alice",
    }
    json.dumps(data)  # travels in facts and the event log


def test_without_ivr_answers_the_flow_language_is_the_call_language() -> None:
    assert call_data(IvrResult("queue", ToQueue("billing"), ("q",)), FLOW) == {"call.language": "fr"}
