"""/metrics over real HTTP after simulator traffic: parsed with the client library's own parser,
the figures equal what happened; scrapes without the token are refused; the sample Grafana
dashboard asks only for metrics a scrape has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from callserver.acd.model import AgentStatus
from callserver.sim import Outcome

from ..helpers import ROOT
from .rig import TOKEN, running, settings_for

pytestmark = pytest.mark.slow

DASHBOARD = ROOT / "docs" / "grafana-callserver.json"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped[(name, frozenset(labels.items()))]


def dashboard_metrics() -> set[str]:
    """The metric names the dashboard's queries (and its variable) use."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [v["definition"] for v in dashboard["templating"]["list"]]
    return {name for query in queries for name in re.findall(r"\bcallserver_[a-z_]+\b", query)}


async def test_metrics_count_what_happened_and_need_the_token(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, {"token": TOKEN, "loop_lag_every": 0.05})
    async with running(settings) as rig:
        service = rig.server.service
        for number in ("+33140000001", "+33140000002"):
            record = await rig.sim.place_call(number, "500", talk_time=0.3).outcome(10)
            assert record.outcome is Outcome.COMPLETED
        service.set_status("agent1", AgentStatus.PAUSED, "lunch")
        service.set_status("agent2", AgentStatus.PAUSED, "break")
        record = await rig.sim.place_call("+33140000003", "500", patience=0.5).outcome(10)
        assert record.outcome is Outcome.ABANDONED
        # the AMI link drops and comes back
        resyncs = service.resyncs
        rig.sim.drop_ami_clients()
        await rig.until(lambda: service.resyncs > resyncs and rig.server.ami.connected)
        await rig.server.writer.flush()

        url = f"{rig.base}/metrics"
        assert (await rig.text(url))[0] == 401
        assert (await rig.text(url, {"Authorization": "Bearer not-the-token"}))[0] == 401
        boss = {"Authorization": f"Bearer {rig.tokens['boss']}"}  # a web session is not the scrape token
        assert (await rig.text(url, boss))[0] == 401
        status, text = await rig.text(url, {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        scraped = samples(text)

        assert value(scraped, "callserver_calls_queued_total", queue="support") == 3
        assert value(scraped, "callserver_calls_ended_total", queue="support", outcome="answered") == 2
        assert value(scraped, "callserver_calls_ended_total", queue="support", outcome="abandoned") == 1
        assert value(scraped, "callserver_wait_seconds_count", queue="support", result="answered") == 2
        assert value(scraped, "callserver_wait_seconds_count", queue="support", result="abandoned") == 1
        waited = value(scraped, "callserver_wait_seconds_sum", queue="support", result="abandoned")
        assert 0.3 <= waited <= 3.0  # the caller's patience was half a second
        assert value(scraped, "callserver_routing_decision_seconds_count") >= 2
        assert value(scraped, "callserver_queue_waiting", queue="support") == 0
        assert value(scraped, "callserver_queue_longest_wait_seconds", queue="support") == 0
        assert value(scraped, "callserver_agents", state="paused") == 2
        assert value(scraped, "callserver_agents", state="idle") == 0
        assert value(scraped, "callserver_queue_agents", queue="sales", state="paused") == 2
        assert value(scraped, "callserver_agents_paused", reason="lunch") == 1
        assert value(scraped, "callserver_agents_paused", reason="break") == 1
        assert value(scraped, "callserver_ami_up") == 1
        assert value(scraped, "callserver_ami_reconnects_total") == 1
        assert value(scraped, "callserver_ami_disconnects_total") == 1
        assert value(scraped, "callserver_fact_writer_backlog") == 0
        assert value(scraped, "callserver_event_loop_lag_seconds_count") >= 1

        names = {name for name, _labels in scraped}
        missing = {m for m in dashboard_metrics() if m not in names}
        assert dashboard_metrics() and missing == set()


async def test_metrics_on_an_address_of_their_own_leave_the_web_port_alone(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, {"listen": {"host": "127.0.0.1", "port": 0}})
    async with running(settings) as rig:
        port = rig.server.metrics_port
        assert port is not None and port != rig.server.web_port
        assert (await rig.text(f"{rig.base}/metrics", {"Authorization": f"Bearer {TOKEN}"}))[0] == 404
        status, text = await rig.text(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert value(samples(text), "callserver_agents", state="idle") == 2


async def test_a_token_is_asked_on_the_own_address_too_when_set(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, {"listen": {"host": "127.0.0.1", "port": 0}, "token": TOKEN})
    async with running(settings) as rig:
        url = f"http://127.0.0.1:{rig.server.metrics_port}/metrics"
        assert (await rig.text(url))[0] == 401
        assert (await rig.text(url, {"Authorization": f"Bearer {TOKEN}"}))[0] == 200
