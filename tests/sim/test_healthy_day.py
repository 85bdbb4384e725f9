"""The example centre is healthy out of the box: its simulator traffic, run for a working day on
the capacity simulator's virtual clock (the real ACD engine, the live figures' definitions),
keeps the service level between 70 and 90 % with under 10 % abandons, in office hours and after
them; the documented switch gives an overloaded day."""

from __future__ import annotations

import pytest

from callserver import figures
from callserver.capacity.simulation import SimResult, simulate
from callserver.config import load_settings
from callserver.sim.day import TASKS, scenario_of

from ..helpers import ROOT

EXAMPLE = ROOT / "config" / "callcentre.yaml"


def _calls(result: SimResult) -> figures.CallCounts:
    """The day's counts over the real queues (voicemail tasks are not calls)."""
    total = figures.CallCounts()
    for q in result.snapshot.queues:
        if q.queue.endswith(TASKS):
            continue
        s = q.total
        total = figures.add(
            total,
            figures.CallCounts(
                offered=s.offered,
                overflowed_in=s.overflowed_in,
                overflowed_out=s.overflowed_out,
                answered=s.answered,
                answered_in_time=s.answered_in_time,
                abandoned=s.abandoned,
                short_abandoned=s.short_abandoned,
                timed_out=s.timed_out,
            ),
        )
    return total


@pytest.mark.parametrize("office_hours", [True, False], ids=["office hours", "after hours"])
def test_the_example_centre_keeps_service_level_in_band_with_few_abandons(office_hours: bool) -> None:
    settings = load_settings(EXAMPLE, env={})
    result = simulate(scenario_of(settings, office_hours=office_hours, hours=8.0, seed=11))
    day = _calls(result)
    assert day.offered > 1000  # a real day's worth of callers, not a handful
    level, abandons = figures.service_level(day), figures.abandon_rate(day)
    assert level is not None and 0.70 <= level <= 0.90, level
    assert abandons is not None and abandons < 0.10, abandons
    assert result.still_waiting == 0
    tasks = [q.total for q in result.snapshot.queues if q.queue.endswith(TASKS)]
    if office_hours:
        assert tasks == []
    else:
        # after hours the IVR's callers leave messages; the simulated desks work every one of them
        assert tasks and all(t.offered > 50 and t.answered == t.offered for t in tasks)


def test_the_overloaded_switch_gives_a_day_the_centre_cannot_keep_up_with() -> None:
    settings = load_settings(EXAMPLE, env={})
    data = settings.model_dump(mode="json")
    data["simulator"]["callers"]["overloaded"] = True
    overloaded = type(settings).model_validate(data)
    day = _calls(simulate(scenario_of(overloaded, office_hours=True, hours=8.0, seed=11)))
    level, abandons = figures.service_level(day), figures.abandon_rate(day)
    assert level is not None and abandons is not None
    assert level < 0.70 and abandons > 0.10
