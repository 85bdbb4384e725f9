"""Scenario files for the offline ACD simulator: a day of traffic, queues and agent shifts in YAML.

A scenario is validated here (errors name the file and the field path) and then run by
`capacity.simulate` against the real `AcdEngine` on a virtual clock. Times of day are hours from
midnight (a shift may start before the day and end after it); durations are seconds. Example (see
`config/scenarios/day.yaml`)::

    seed: 7                      # same seed, same day: runs are reproducible
    interval_minutes: 30         # report and arrival-rate interval
    day: {start: 8, end: 18}     # hours; the day holds (end - start) * 60 / interval_minutes intervals
    service_time: 20             # T in "answered within T seconds"
    short_abandon: 5             # abandons sooner than this are counted apart
    ring_delay: {kind: fixed, value: 2}      # seconds before an offered agent answers
    no_answer_resume: 60         # an agent who let a call ring out is paused this long
    queues:
      - name: sales
        skills: [sales]          # an agent serves a queue when it holds all of these skills
        max_wait: 300            # seconds; omit for no limit
        overflow: support        # where the caller goes at max_wait (omit: goodbye message)
        wrapup: 15               # seconds of wrap-up after each call
        talk_time: {kind: lognormal, mean: 240, sd: 150}   # handle time = talk time + wrap-up
        patience: {kind: exponential, mean: 180}           # {kind: none}: callers never hang up
        calls_per_hour: [120, 180, 240]   # Poisson rate per interval; one value = all day

A scenario's queue is a server queue's rules (`config.QueueRules`: steps, strategy, priorities,
max_length, on_timeout...) plus its traffic, so whatever routing the server can be given can be
simulated; only the defaults differ: no wait limit unless `max_wait` is given, and `overflow: q`
is short for `on_timeout: {queue: q}`.
    agents:
      - group: sales-team
        count: 12
        skills: [sales]          # or a mapping skill -> level 1..10
        shift: [8, 16]           # log in at 08:00, log out at 16:00 (after the call in hand)

Distributions: `{kind: exponential, mean}`, `{kind: lognormal, mean, sd}`, `{kind: fixed, value}`,
`{kind: uniform, low, high}`, and for patience only `{kind: none}`.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ..checks import requirement_problems
from ..config import (
    ConfigError,
    FrozenModel,
    QueueRules,
    TimeoutAction,
    format_validation_error,
    queue_rule_problems,
    read_yaml,
)

_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"


class ScenarioError(ConfigError):
    """A scenario that cannot be run; the message names the file and each faulty field path."""


_Model = FrozenModel


class Exponential(_Model):
    kind: Literal["exponential"]
    mean: float = Field(gt=0)

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean)


class Lognormal(_Model):
    """Parameterised by the mean and standard deviation of the durations themselves."""

    kind: Literal["lognormal"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)

    def sample(self, rng: random.Random) -> float:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))


class Fixed(_Model):
    kind: Literal["fixed"]
    value: float = Field(ge=0)

    def sample(self, rng: random.Random) -> float:
        return self.value


class Uniform(_Model):
    """Any duration between `low` and `high`, equally likely (how the PBX simulator draws them)."""

    kind: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must not be below low ({self.low})")
        return self

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


class Never(_Model):
    """Infinite patience: the caller waits until answered or timed out."""

    kind: Literal["none"]

    def sample(self, rng: random.Random) -> float:
        return math.inf


Duration = Annotated[Exponential | Lognormal | Fixed | Uniform, Field(discriminator="kind")]
Patience = Annotated[Exponential | Lognormal | Fixed | Uniform | Never, Field(discriminator="kind")]


class Day(_Model):
    start: float = Field(ge=0, lt=24)
    end: float = Field(gt=0)  # past 24: the run goes on into the night or over several days

    @model_validator(mode="after")
    def _ordered(self) -> Day:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class QueueScenario(QueueRules):
    """A queue's rules, as the server would be given them, and the traffic it receives."""

    max_wait: float = Field(default=math.inf, gt=0)  # no limit unless given
    overflow: str | None = None
    talk_time: Duration
    patience: Patience = Never(kind="none")
    calls_per_hour: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)

    @field_validator("max_wait", mode="before")
    @classmethod
    def _no_limit(cls, value: Any) -> Any:
        return math.inf if value is None else value

    @model_validator(mode="after")
    def _one_timeout(self) -> QueueScenario:
        if self.overflow is not None and "on_timeout" in self.model_fields_set:
            raise ValueError("give 'overflow' or 'on_timeout', not both")
        return self

    def timeout_action(self) -> TimeoutAction:
        return TimeoutAction(queue=self.overflow) if self.overflow is not None else self.on_timeout


class AgentGroup(_Model):
    group: str = Field(pattern=_NAME)
    count: int = Field(ge=0)
    skills: dict[str, Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=dict)
    shift: tuple[float, float]

    @field_validator("skills", mode="before")
    @classmethod
    def _skill_list(cls, value: Any) -> Any:
        return dict.fromkeys(value, 1) if isinstance(value, list) else value

    @field_validator("shift")
    @classmethod
    def _shift_ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] < value[1]:
            raise ValueError(f"shift must be [start, end] hours with start < end, got {list(value)}")
        return value


class Scenario(_Model):
    seed: int = 1
    interval_minutes: float = Field(default=30.0, gt=0)
    day: Day
    service_time: float = Field(default=20.0, ge=0)
    short_abandon: float = Field(default=5.0, ge=0)
    ring_delay: Duration = Fixed(kind="fixed", value=0.0)
    no_answer_resume: float = Field(default=60.0, ge=0)
    queues: list[QueueScenario] = Field(min_length=1)
    agents: list[AgentGroup] = Field(min_length=1)

    @property
    def interval(self) -> float:
        """Interval length in seconds."""
        return self.interval_minutes * 60.0

    @property
    def intervals(self) -> int:
        return round((self.day.end - self.day.start) * 3600.0 / self.interval)

    def rate(self, queue: QueueScenario, index: int) -> float:
        """Arrivals per second into `queue` during interval `index` of the day."""
        rates = queue.calls_per_hour
        return (rates[0] if len(rates) == 1 else rates[index]) / 3600.0

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems: list[str] = []
        span = (self.day.end - self.day.start) * 3600.0 / self.interval
        if abs(span - round(span)) > 1e-9:
            problems.append(f"day: {self.day.start}..{self.day.end} h is not a whole number of intervals")
        names = [q.name for q in self.queues]
        for i, q in enumerate(self.queues):
            if names.count(q.name) > 1:
                problems.append(f"queues[{i}].name: duplicate queue {q.name!r}")
            if q.overflow is not None and q.overflow not in names:
                problems.append(f"queues[{i}].overflow: unknown queue {q.overflow!r}")
            if q.overflow is not None and not math.isfinite(q.max_wait):
                problems.append(f"queues[{i}].overflow: needs a max_wait")
            if len(q.calls_per_hour) not in (1, self.intervals):
                problems.append(
                    f"queues[{i}].calls_per_hour: {len(q.calls_per_hour)} values, "
                    f"expected 1 or {self.intervals} (one per interval)"
                )
        problems.extend(queue_rule_problems(self.queues, known_skills=None))
        problems.extend(requirement_problems(self.queues, known_skills=None))
        groups = [g.group for g in self.agents]
        for i, g in enumerate(self.agents):
            if groups.count(g.group) > 1:
                problems.append(f"agents[{i}].group: duplicate group {g.group!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def parse_scenario(data: Any, source: str) -> Scenario:
    """Validate already-loaded YAML data; `source` prefixes every error message."""
    if not isinstance(data, dict):
        raise ScenarioError(source, ["(top level): expected a mapping"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(source, format_validation_error(err)) from None


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file."""
    return parse_scenario(read_yaml(path, ScenarioError), str(path))
