"""Checks of a configuration that need a capability's own parser, one floor above `config`.

`config.py` validates shapes and cross-references with pydantic alone and imports no engine. The
rest is checked here: routing-step requirements with the ACD's expression parser (`acd/expr.py`)
and IVR flows with the IVR validator (`ivr/validate.py`). `callserver check-config` and the
composition root both go through `check_settings` or `load_checked`, so a configuration the
command accepts is one the server starts with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from .acd.expr import RequirementError, check, parse
from .config import ConfigError, QueueRules, Settings, load_settings, name_items
from .ivr.model import IvrConfig
from .ivr.section import flows_of
from .ivr.validate import is_warning
from .reports.catalogue import Dimension, definition_problems


@dataclass(frozen=True, slots=True)
class CheckedSettings:
    """Settings that passed every check, with the IVR section parsed for whoever runs the flows."""

    settings: Settings
    ivr: IvrConfig | None


def requirement_problems(
    queues: Sequence[QueueRules], known_skills: set[str] | None, section: str = "queues"
) -> list[str]:
    """Every routing step's requirement parsed and checked; skills unchecked when `known_skills` is None."""
    problems: list[str] = []
    for i, queue in enumerate(queues):
        for j, step in enumerate(queue.steps):
            path = f"{section}[{i}].steps[{j}].require"
            try:
                requirement = parse(step.require)
            except RequirementError as err:
                problems.append(f"{path}: {err.message} at column {err.column}")
                continue
            known = set(requirement.skills) if known_skills is None else known_skills
            problems.extend(f"{path}: {problem}" for problem in check(requirement, known_skills=known))
    return problems


def settings_problems(settings: Settings) -> list[str]:
    """What the configuration schema cannot see: requirement expressions and IVR flow errors."""
    _, ivr_problems = flows_of(settings)
    region = settings.customers.default_region
    regions = (
        [f"customers.default_region: '{region}' is not a region phone numbers know (e.g. FR, GB, US)"]
        if region is not None and region not in phonenumbers.SUPPORTED_REGIONS
        else []
    )
    return (
        requirement_problems(settings.queues, set(settings.skills))
        + [p for p in ivr_problems if not is_warning(p)]
        + regions
        + report_problems(settings)
    )


def report_problems(settings: Settings) -> list[str]:
    """The reports section: a real time zone, known queues, and each report definition."""
    problems: list[str] = []
    try:
        ZoneInfo(settings.reports.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"reports.timezone: '{settings.reports.timezone}' is not a time zone (e.g. Europe/Paris)"
        )
    queues = frozenset(q.name for q in settings.queues)
    problems.extend(
        f"reports.service_level.{name}: not a configured queue"
        for name in settings.reports.service_level
        if name not in queues
    )
    known = {
        Dimension.QUEUE: queues,
        Dimension.AGENT: frozenset(a.id for a in settings.agents),
        Dimension.SKILL: frozenset(settings.skills),
    }
    ivr, _ = flows_of(settings)
    if ivr is not None:
        known[Dimension.IVR_FLOW] = frozenset(ivr.flows)
    seen: set[str] = set()
    for i, definition in enumerate(settings.reports.definitions):
        if definition.name in seen:
            problems.append(f"reports.definitions[{i}].name: '{definition.name}' is defined twice")
        seen.add(definition.name)
        problems.extend(definition_problems(i, definition, known))
    return problems


def check_settings(settings: Settings, source: str = "configuration") -> CheckedSettings:
    """Run the checks on settings already loaded; raises ConfigError naming every fault."""
    problems = settings_problems(settings)
    if problems:
        raise ConfigError(source, name_items(problems, settings.model_dump(mode="json")))
    ivr, _ = flows_of(settings)
    return CheckedSettings(settings, ivr)


def load_checked(path: Path, env: dict[str, str] | None = None) -> CheckedSettings:
    """Read, validate and check `path` in one pass: schema, cross-reference and engine faults together."""
    settings = load_settings(path, env, checks=settings_problems)
    ivr, _ = flows_of(settings)
    return CheckedSettings(settings, ivr)


__all__ = [
    "CheckedSettings",
    "check_settings",
    "load_checked",
    "requirement_problems",
    "settings_problems",
]
