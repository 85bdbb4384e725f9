"""Prometheus counts callers leaving an IVR flow by outcome, from the IVR facts on the bus."""

from __future__ import annotations

from callserver.facts.model import IvrLeft, IvrNodeEntered
from callserver.prometheus.metrics import CallServerMetrics


def test_ivr_exits_are_counted_per_flow_and_outcome_and_node_visits_are_not_series() -> None:
    metrics = CallServerMetrics(["support"])
    for call, outcome in (("c1", "ended"), ("c2", "ended"), ("c3", "hangup"), ("c4", "queue")):
        metrics.on_fact(IvrNodeEntered(call, 1.0, "main", "menu"))
        metrics.on_fact(IvrLeft(call, 2.0, "main", "menu", outcome))
    value = metrics.registry.get_sample_value
    assert value("callserver_ivr_exits_total", {"flow": "main", "outcome": "ended"}) == 2
    assert value("callserver_ivr_exits_total", {"flow": "main", "outcome": "hangup"}) == 1
    assert value("callserver_ivr_exits_total", {"flow": "main", "outcome": "queue"}) == 1
    assert value("callserver_ivr_exits_total", {"flow": "main", "outcome": "voicemail"}) is None
