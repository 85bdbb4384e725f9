"""`callserver capacity SCENARIO` for outbound days: a scenario with an `outbound:` section runs the
campaign engine and its pacer through simulated days on a virtual clock (campaigns/capacity.py) and
prints, per day and on average, occupancy, contacts per agent-hour, the abandon rate as the law
counts it and as the engine measured it, and the time spent in the progressive fall-back.

Example (see `config/scenarios/outbound.yaml`)::

    outbound:
      days: 3                 # each day a fresh campaign, seeds 0, 1, 2
      agents: 20
      hours: 8
      start: "2025-03-04T09:00"
      zone: America/New_York
      rule_set: us
      modes: [progressive, predictive]
      mix: {person: 0.30, machine: 0.25, nobody: 0.35, busy: 0.07, invalid: 0.03}
      amd: {enabled: true, false_positive: 0.02, false_negative: 0.05}
      talk: {mean: 150, sd: 75}
      wrap: {mean: 30, sd: 10}
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, TextIO

from pydantic import Field, ValidationError, model_validator

from ..campaigns.capacity import DayResult, LogNormal, OutboundScenario, simulate_day
from ..campaigns.model import DialMode, MachineHandling
from ..config import ConfigError, FrozenModel, format_validation_error, read_yaml

Mode = Literal["preview", "progressive", "predictive"]
DEFAULT_MODES: tuple[Mode, ...] = ("progressive", "predictive")


class Spread(FrozenModel):
    mean: float = Field(gt=0)
    sd: float = Field(default=0.0, ge=0)


class Mix(FrozenModel):
    person: float = Field(default=0.30, ge=0, le=1)
    machine: float = Field(default=0.25, ge=0, le=1)
    nobody: float = Field(default=0.35, ge=0, le=1)
    busy: float = Field(default=0.07, ge=0, le=1)
    invalid: float = Field(default=0.03, ge=0, le=1)

    @model_validator(mode="after")
    def _total(self) -> Mix:
        total = self.person + self.machine + self.nobody + self.busy + self.invalid
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the mix must make 1, not {total:g}")
        return self


class Amd(FrozenModel):
    enabled: bool = False
    false_positive: float = Field(default=0.02, ge=0, lt=1)
    false_negative: float = Field(default=0.05, ge=0, lt=1)
    machines: Literal["hang_up", "leave_message", "connect"] = "hang_up"


class OutboundDays(FrozenModel):
    days: int = Field(default=3, ge=1, le=100)
    agents: int = Field(default=20, ge=1, le=500)
    hours: float = Field(default=8.0, gt=0, le=24)
    start: str = "2025-03-04T09:00"
    zone: str = "America/New_York"
    rule_set: Literal["us", "uk", "fr", "none"] = "us"
    modes: list[Mode] = Field(default_factory=lambda: list(DEFAULT_MODES), min_length=1)
    mix: Mix = Mix()
    amd: Amd = Amd()
    talk: Spread = Spread(mean=150, sd=75)
    wrap: Spread = Spread(mean=30, sd=10)
    max_lines_per_agent: float = Field(default=3.0, ge=1)


class OutboundFile(FrozenModel):
    outbound: OutboundDays


def is_outbound(path: Path) -> bool:
    """Whether a scenario file is an outbound one (else it is the ACD's)."""
    try:
        data = read_yaml(path)
    except ConfigError:
        return False
    return isinstance(data, dict) and "outbound" in data


def load(path: Path) -> OutboundDays:
    data = read_yaml(path)
    try:
        return OutboundFile.model_validate(data).outbound
    except ValidationError as err:
        raise ConfigError(str(path), format_validation_error(err)) from None


def scenarios(days: OutboundDays, mode: str) -> list[OutboundScenario]:
    m = days.mix
    return [
        OutboundScenario(
            agents=days.agents,
            hours=days.hours,
            start=days.start,
            zone=days.zone,
            rule_set=days.rule_set,
            mode=DialMode(mode),
            person=m.person,
            machine=m.machine,
            nobody=m.nobody,
            busy=m.busy,
            invalid=m.invalid,
            amd=days.amd.enabled,
            amd_false_positive=days.amd.false_positive,
            amd_false_negative=days.amd.false_negative,
            machine_handling=MachineHandling(days.amd.machines),
            talk=LogNormal(days.talk.mean, days.talk.sd, 5.0),
            wrap=LogNormal(days.wrap.mean, days.wrap.sd, 1.0),
            max_lines_per_agent=days.max_lines_per_agent,
            seed=seed,
        )
        for seed in range(days.days)
    ]


def report(results: dict[str, list[DayResult]], out: TextIO) -> None:
    titles = ("occupancy", "contacts/h", "abandon", "measured", "fallback", "dials")
    widths = (9, 10, 8, 8, 8, 7)
    head = f"{'mode':<12} {'day':>4} " + " ".join(f"{t:>{w}}" for t, w in zip(titles, widths, strict=True))
    print(head, file=out)
    for mode, days in results.items():
        for i, r in enumerate(days):
            print(_row(mode, str(i + 1), [r]), file=out)
        print(_row(mode, "mean", days), file=out)


def _row(mode: str, day: str, rs: list[DayResult]) -> str:
    n = len(rs)

    def mean(values: list[float]) -> float:
        return sum(values) / n

    occupancy = mean([r.occupancy for r in rs])
    contacts = mean([r.contacts_per_hour for r in rs])
    law, measured = mean([r.abandon_rate for r in rs]), mean([r.measured_rate for r in rs])
    fallback, dials = mean([r.fallback_seconds / 60 for r in rs]), mean([float(r.dials) for r in rs])
    return (
        f"{mode:<12} {day:>4} {occupancy:>9.1%} {contacts:>10.1f} {law:>8.2%} {measured:>8.2%}"
        f" {fallback:>7.0f}m {dials:>7.0f}"
    )


def main_outbound(path: Path, out: TextIO = sys.stdout) -> int:
    try:
        days = load(path)
    except ConfigError as err:
        for problem in err.problems:
            print(f"{err.source}: {problem}", file=sys.stderr)
        return 1
    results: dict[str, list[DayResult]] = {}
    for mode in days.modes:
        results[mode] = [simulate_day(sc) for sc in scenarios(days, mode)]
    print(
        f"{days.days} outbound day(s) of {days.hours:g} h, {days.agents} agents, rules {days.rule_set},"
        f" AMD {'on' if days.amd.enabled else 'off'}",
        file=out,
    )
    report(results, out)
    return 0
