"""The offline simulator: it must reproduce Erlang C where M/M/c holds, and run a day end to end.

The validation runs use one queue, Poisson arrivals, exponential talk times, infinite patience, no
wrap-up and no ring delay: exactly the M/M/c assumptions. The first hours are discarded as warm-up
and the confidence interval comes from batch means, since successive waits are correlated.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest
import yaml

from callserver.capacity import erlang
from callserver.capacity.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from callserver.capacity.simulation import main_offline, run_offline, simulate
from callserver.facts.model import CallAnswered, CallEnded, Fact, Outcome

AHT = 100.0
T = 20.0
BATCHES = 25
WARMUP_HOURS = 2.0


def mmc_scenario(agents: int, erlangs: float, hours: float, seed: int) -> Scenario:
    return parse_scenario(
        {
            "seed": seed,
            "interval_minutes": 60,
            "day": {"start": 0, "end": hours},
            "service_time": T,
            "queues": [
                {
                    "name": "q",
                    "skills": ["s"],
                    "talk_time": {"kind": "exponential", "mean": AHT},
                    "patience": {"kind": "none"},
                    "calls_per_hour": [erlangs / AHT * 3600],
                }
            ],
            "agents": [{"group": "g", "count": agents, "skills": ["s"], "shift": [0, hours + 24]}],
        },
        "mmc",
    )


def batch_means(values: list[float]) -> tuple[float, float]:
    """Mean of `values` and its standard error from BATCHES consecutive equal batches."""
    size = len(values) // BATCHES
    means = [statistics.fmean(values[i * size : (i + 1) * size]) for i in range(BATCHES)]
    return statistics.fmean(means), statistics.stdev(means) / math.sqrt(BATCHES)


def simulated_waits(agents: int, erlangs: float, hours: float, seed: int) -> list[float]:
    waits: list[tuple[float, float]] = []

    def observe(fact: Fact) -> None:
        if isinstance(fact, CallAnswered):
            waits.append((fact.at - fact.wait, fact.wait))

    result = simulate(mmc_scenario(agents, erlangs, hours, seed), observer=observe)
    assert result.still_waiting == 0
    waits.sort()
    return [w for arrived, w in waits if arrived >= WARMUP_HOURS * 3600]


@pytest.mark.parametrize(
    ("agents", "erlangs", "hours", "seed"),
    [(10, 8.0, 260.0, 11), (50, 45.0, 48.0, 12)],
)
def test_simulated_waits_match_erlang_c(agents: int, erlangs: float, hours: float, seed: int) -> None:
    waits = simulated_waits(agents, erlangs, hours, seed)
    assert len(waits) > 70_000
    p_wait, p_wait_se = batch_means([1.0 if w > 0 else 0.0 for w in waits])
    sl, sl_se = batch_means([1.0 if w <= T else 0.0 for w in waits])
    asa, asa_se = batch_means(waits)

    assert abs(p_wait - erlang.erlang_c(agents, erlangs)) < 3 * p_wait_se + 0.005
    assert abs(sl - erlang.service_level(agents, erlangs, AHT, T)) < 3 * sl_se + 0.005
    assert abs(asa - erlang.average_speed_of_answer(agents, erlangs, AHT)) < 3 * asa_se + 0.2


def test_same_seed_same_day() -> None:
    a = simulate(mmc_scenario(5, 4.0, 3.0, 5)).snapshot.queues
    b = simulate(mmc_scenario(5, 4.0, 3.0, 5)).snapshot.queues
    assert a == b


def test_impatient_callers_abandon_and_wrapup_counts_in_handle_time() -> None:
    sc = parse_scenario(
        {
            "seed": 3,
            "day": {"start": 9, "end": 11},
            "queues": [
                {
                    "name": "q",
                    "wrapup": 30,
                    "talk_time": {"kind": "fixed", "value": 120},
                    "patience": {"kind": "exponential", "mean": 60},
                    "calls_per_hour": [200, 200, 200, 200],
                }
            ],
            "agents": [{"group": "g", "count": 4, "shift": [9, 11]}],
        },
        "impatient",
    )
    ended: list[CallEnded] = []
    result = simulate(sc, observer=lambda f: ended.append(f) if isinstance(f, CallEnded) else None)
    total = result.snapshot.queues[0].total
    assert total.abandoned + total.short_abandoned == sum(e.outcome is Outcome.ABANDONED for e in ended)
    assert total.abandoned > 0 and total.answered > 0
    assert total.aht == pytest.approx(150.0)
    assert total.occupancy is not None and 0.9 < total.occupancy <= 1.0


def test_overflowed_callers_are_answered_by_the_other_queue() -> None:
    sc = parse_scenario(
        {
            "day": {"start": 8, "end": 9},
            "queues": [
                {
                    "name": "a",
                    "skills": ["a"],
                    "max_wait": 10,
                    "overflow": "b",
                    "talk_time": {"kind": "fixed", "value": 600},
                    "calls_per_hour": [120],
                },
                {
                    "name": "b",
                    "skills": ["b"],
                    "talk_time": {"kind": "fixed", "value": 60},
                    "calls_per_hour": [0],
                },
            ],
            "agents": [
                {"group": "ga", "count": 1, "skills": ["a"], "shift": [8, 9]},
                {"group": "gb", "count": 5, "skills": ["b"], "shift": [8, 9]},
            ],
        },
        "overflow",
    )
    a, b = simulate(sc).snapshot.queues
    assert a.total.overflowed_out > 0
    assert b.total.overflowed_in == a.total.overflowed_out
    assert b.total.answered == b.total.overflowed_in


def test_agents_finish_the_call_in_hand_before_logging_out() -> None:
    sc = parse_scenario(
        {
            "day": {"start": 8, "end": 9},
            "queues": [{"name": "q", "talk_time": {"kind": "fixed", "value": 900}, "calls_per_hour": [60]}],
            "agents": [{"group": "g", "count": 2, "shift": [8, 8.5]}],
        },
        "shift",
    )
    result = simulate(sc)
    agents = result.snapshot.agents
    assert all(a.status == "logged_out" and a.state == "idle" for a in agents)
    assert all(a.staffed >= 1800 for a in agents)  # staffed until the last call ended
    assert result.still_waiting > 0  # nobody left to answer: they wait on (infinite patience)


EXAMPLE = Path(__file__).parents[2] / "config" / "scenarios" / "day.yaml"

SMALL_DAY = """
seed: 4
interval_minutes: 15
day: {start: 9, end: 10}
ring_delay: {kind: fixed, value: 2}
queues:
  - name: sales
    skills: [sales]
    max_wait: 60
    overflow: support
    wrapup: 10
    talk_time: {kind: lognormal, mean: 120, sd: 60}
    patience: {kind: exponential, mean: 90}
    calls_per_hour: [100, 200, 300, 200]
  - name: support
    skills: [support]
    talk_time: {kind: exponential, mean: 150}
    calls_per_hour: [60]
agents:
  - {group: s, count: 6, skills: [sales], shift: [9, 10]}
  - {group: t, count: 3, skills: {support: 5}, shift: [9, 10]}
"""


def test_example_day_is_a_valid_scenario() -> None:
    sc = load_scenario(EXAMPLE)
    assert sc.intervals == 24 and [q.name for q in sc.queues] == ["sales", "support"]


def test_offline_run_prints_every_interval_and_writes_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_DAY)
    assert main_offline(path, out_dir=tmp_path / "out") == 0
    out = capsys.readouterr().out
    for label in ("queue sales", "queue support", "09:00", "09:45", "wall time", "SL incl. abandons"):
        assert label in out
    assert out.count("    day ") == 2
    svg = (tmp_path / "out" / "small.svg").read_text()
    assert svg.startswith("<svg") and "Service level" in svg and "Agent occupancy" in svg
    assert svg.count("<polyline") >= 4  # two queues in each of two panels


def test_report_has_one_row_per_interval_and_totals_add_up(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_DAY)
    report = run_offline(path)
    for q in report.queues:
        assert len(q.intervals) == 4
        rows = [s for s in q.intervals if s is not None]
        assert sum(s.offered for s in rows) == q.total.offered
        assert sum(s.answered for s in rows) == q.total.answered
    assert report.calls == sum(q.total.offered for q in report.queues)


def test_bad_scenario_exits_with_an_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("day: {start: 8, end: 9}\nqueues: []\nagents: []\n")
    assert main_offline(path, out_dir=tmp_path) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "queues" in err


# -- scenario parsing ---------------------------------------------------------------------------


def problems_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines())
    return message


def test_unknown_distribution_is_named_with_its_field_path(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("{kind: exponential, mean: 150}", "{kind: gamma, mean: 150}")
    assert "queues[1].talk_time" in problems_of(tmp_path, text)


def test_wrong_number_of_rates_is_reported(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("[100, 200, 300, 200]", "[100, 200]")
    assert "queues[0].calls_per_hour: 2 values, expected 1 or 4" in problems_of(tmp_path, text)


def test_overflow_to_an_unknown_queue_is_reported(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("overflow: support", "overflow: billing")
    assert "queues[0].overflow: unknown queue 'billing'" in problems_of(tmp_path, text)


def test_negative_mean_and_unknown_key_are_both_reported(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("mean: 90", "mean: -1").replace("seed: 4", "seed: 4\nsaed: 5")
    message = problems_of(tmp_path, text)
    assert "queues[0].patience.exponential.mean" in message
    assert "saed: Extra inputs are not permitted" in message


def test_shift_must_end_after_it_starts(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("shift: [9, 10]}\n  - {group: t", "shift: [10, 9]}\n  - {group: t")
    assert "agents[0].shift" in problems_of(tmp_path, text)


def test_day_must_hold_whole_intervals(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("end: 10}", "end: 10.1}")
    assert "not a whole number of intervals" in problems_of(tmp_path, text)


def test_unreadable_and_malformed_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read file"):
        load_scenario(tmp_path / "missing.yaml")
    assert "line 2, column 1: invalid YAML" in problems_of(tmp_path, "day: [1, 2\n")


def test_skills_given_as_a_list_get_level_one() -> None:
    sc = parse_scenario(yaml.safe_load(SMALL_DAY), "inline")
    assert sc.agents[0].skills == {"sales": 1}
    assert sc.agents[1].skills == {"support": 5}


def test_a_scenario_queue_takes_the_rules_a_server_queue_takes() -> None:
    sc = parse_scenario(
        {
            "day": {"start": 8, "end": 9},
            "queues": [
                {
                    "name": "q",
                    "steps": [{"after": 0, "require": "s >= 5"}, {"after": 30, "require": "s"}],
                    "strategy": "best_skill",
                    "max_wait": 120,
                    "on_timeout": {"message": "closed"},
                    "talk_time": {"kind": "fixed", "value": 60},
                    "calls_per_hour": [90],
                }
            ],
            "agents": [
                {"group": "expert", "count": 1, "skills": {"s": 7}, "shift": [8, 9]},
                {"group": "junior", "count": 1, "skills": {"s": 2}, "shift": [8, 9]},
            ],
        },
        "rules",
    )
    ended: list[CallEnded] = []
    result = simulate(sc, observer=lambda f: ended.append(f) if isinstance(f, CallEnded) else None)
    (q,) = result.snapshot.queues
    assert q.total.answered > 0
    assert q.total.timed_out == sum(e.outcome is Outcome.TIMED_OUT for e in ended)
    # the junior agent only takes calls that waited 30 s: both serve the queue
    assert all(a.calls_handled > 0 for a in result.snapshot.agents)


def test_a_bad_requirement_in_a_scenario_names_its_step(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("skills: [sales]\n    max_wait", "steps: [{require: 'sales >'}]\n    max_wait")
    assert "queues[0].steps[0].require: missing level after '>' at column 8" in problems_of(tmp_path, text)


def test_overflow_is_short_for_on_timeout_and_not_both(tmp_path: Path) -> None:
    text = SMALL_DAY.replace("overflow: support", "overflow: support\n    on_timeout: {message: x}")
    assert "give 'overflow' or 'on_timeout', not both" in problems_of(tmp_path, text)
