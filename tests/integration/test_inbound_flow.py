"""End to end over real TCP: the server and the PBX simulator, many calls, a few agents.

What callers experienced (the simulator's records) must match what the server stored, every call
must end with a complete row, and no agent may ever have been offered two calls at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from callserver.app import CallServer, start_server
from callserver.config import Settings
from callserver.sim import Outcome, PbxSimulator
from callserver.store.records import CallRecord, OfferRecord

from ..helpers import fast_settings

pytestmark = pytest.mark.slow

CALLS = 50
log = logging.getLogger("tests.integration")


Offers = dict[str, list[OfferRecord]]


async def _run(
    settings: Settings, *, cuts: int = 0
) -> tuple[PbxSimulator, CallServer, list[CallRecord], Offers]:
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)
    try:
        async with asyncio.timeout(10):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        sim.start_traffic()
        finished = asyncio.create_task(sim.wait_finished(CALLS))
        for _ in range(cuts):
            done, _pending = await asyncio.wait({finished}, timeout=1.5)
            if done:
                break
            before = server.service.resyncs
            sim.drop_ami_clients()
            async with asyncio.timeout(10):
                await server.service.wait_for(lambda b=before: server.service.resyncs > b)
        async with asyncio.timeout(90):
            await finished
            # every caller is gone; the server must have closed every call and freed every agent
            await server.service.wait_for(lambda: not server.service.calls() and not server.service.legs())
        await server.writer.flush()
        rows = await server.store.calls(limit=10_000)
        offers = {row.id: await server.store.offers(row.id) for row in rows}
    finally:
        sim.stop_traffic()
        await server.stop()
        await sim.stop()
    return sim, server, rows, offers


def _assert_run_consistent(sim: PbxSimulator, server: CallServer, rows: list[CallRecord]) -> Counter[str]:
    records = [r for r in sim.records if r.uniqueid]
    assert len(records) == CALLS
    by_id = {r.id: r for r in rows}
    # every call the simulator placed has exactly one complete row
    assert sorted(by_id) == sorted(r.uniqueid for r in records)
    outcomes: Counter[str] = Counter()
    for rec in records:
        row = by_id[rec.uniqueid]
        assert row.outcome in {"answered", "abandoned", "timed_out"}, (rec, row)
        assert row.arrived_at is not None and row.queued_at is not None and row.ended_at is not None
        assert row.ended_at >= row.arrived_at
        outcomes[row.outcome] += 1
        if row.outcome == "answered":
            assert row.answered_at is not None and row.agent_id is not None and row.offers >= 1
            assert rec.outcome in {Outcome.COMPLETED, Outcome.AGENT_ENDED}, (rec, row)
            assert rec.agent_channel is not None
            interface = next(a.interface for a in server.settings.agents if a.id == row.agent_id)
            assert interface is not None and rec.agent_channel.startswith(interface + "-")
        elif row.outcome == "abandoned":
            assert rec.outcome is Outcome.ABANDONED, (rec, row)
            assert row.answered_at is None
        else:
            assert row.answered_at is None
            assert row.queued_at is not None and row.ended_at is not None and row.wait is not None
            # timed out only once the queue's maximum wait had passed
            max_wait = next(q.max_wait for q in server.settings.queues if q.name == row.queue)
            assert (row.ended_at - row.queued_at).total_seconds() >= max_wait - 0.01, (rec, row)
            # the PBX then plays the goodbye message and hangs up; a caller whose patience runs out
            # during that message hangs up first, but never before the time-out was decided
            assert rec.outcome is Outcome.PBX_HANGUP or (
                rec.outcome is Outcome.ABANDONED and rec.wait_time is not None and rec.wait_time >= row.wait
            ), (rec, row)
    assert sum(outcomes.values()) == CALLS
    return outcomes


def _assert_no_double_booking(rows: list[CallRecord], offers: Offers) -> None:
    spans: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for row in rows:
        for offer in offers[row.id]:
            assert offer.ended_at is not None, offer
            end = offer.ended_at
            if offer.result == "answered":
                assert row.ended_at is not None
                end = row.ended_at
            spans[offer.agent_id].append((offer.offered_at, end, row.id))
    for agent, items in spans.items():
        items.sort()
        for (_, end1, call1), (start2, _, call2) in itertools.pairwise(items):
            assert start2 >= end1, f"agent {agent} offered {call2} while busy with {call1}"
    # and no call was ever offered to two agents at once
    for row in rows:
        spans_of_call = sorted((o.offered_at, o.ended_at) for o in offers[row.id])
        for (_, end1), (start2, _) in itertools.pairwise(spans_of_call):
            assert end1 is not None and start2 >= end1


def _summary(rows: list[CallRecord]) -> str:
    outcomes = Counter(r.outcome for r in rows)
    waits = [r.wait for r in rows if r.wait is not None]
    mean = sum(waits) / len(waits) if waits else 0.0
    return f"{len(rows)} calls {dict(outcomes)} mean wait {mean:.2f}s"


async def test_fifty_calls_four_agents_every_call_ends_and_is_recorded(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    sim, server, rows, offers = await _run(settings)
    outcomes = _assert_run_consistent(sim, server, rows)
    _assert_no_double_booking(rows, offers)
    assert outcomes["answered"] > 0
    print("integration run:", _summary(rows))


async def test_ami_link_cut_three_times_loses_nothing(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    sim, server, rows, offers = await _run(settings, cuts=3)
    assert server.service.resyncs >= 4  # the first login plus one per cut
    outcomes = _assert_run_consistent(sim, server, rows)
    _assert_no_double_booking(rows, offers)
    assert outcomes["answered"] > 0
    print("integration run with 3 AMI cuts:", _summary(rows))
