"""Small flows written as YAML, validated the way the server loads them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from callserver.ivr.model import FlowConfig
from callserver.ivr.runner import CUSTOMER_FIELDS
from callserver.ivr.validate import validate_flows

QUEUES = {"billing", "technical", "general"}
FIELDS = set(CUSTOMER_FIELDS) | {"balance"}
PARIS = ZoneInfo("Europe/Paris")
MONDAY_10AM = datetime(2026, 3, 30, 10, 0, tzinfo=PARIS)


def flow(nodes_yaml: str, *, start: str, **extra: object) -> FlowConfig:
    """A flow named `main` whose nodes are the given YAML; fails the test on any validation error."""
    body = {"start": start, "nodes": yaml.safe_load(nodes_yaml), **extra}
    config, problems = validate_flows({"flows": {"main": body}}, "ivr", queues=QUEUES, customer_fields=FIELDS)
    assert config is not None, problems
    return config.flows["main"]
