"""Simulated IVR callers: what a caller keys, how long they wait, and whether they give up mid-menu.

A profile is a weighted mix of behaviours; `pick_script` draws one caller's script from it with the
random generator it is given (so a seeded run repeats exactly). The traffic generator passes
`digits` to `place_call` (keys are buffered and read in order by STREAM FILE, GET DATA, WAIT FOR
DIGIT and RECORD FILE) and hangs the caller up after `hangup_after` seconds when it is set.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CallerScript:
    """One caller: keys typed in order, patience in the queue, and an optional early hang-up (s)."""

    digits: str
    patience: float
    hangup_after: float | None = None
    behaviour: str = ""


@dataclass(frozen=True, slots=True)
class Behaviour:
    """A kind of caller; `{account}` in `digits` is replaced by one of the profile's accounts."""

    name: str
    weight: float
    digits: str = ""
    hangup_after: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class CallerProfile:
    behaviours: tuple[Behaviour, ...]
    accounts: tuple[str, ...] = ("100200",)
    patience: tuple[float, float] = (20.0, 90.0)
    unknown_account: str = "999999"


def default_profile(accounts: Sequence[str] = ("100200",), *, message_key: str = "1") -> CallerProfile:
    """A plausible mix for a menu with 1 technical, 2 billing (account, #), 0 other."""
    return CallerProfile(
        behaviours=(
            Behaviour("technical", 0.30, "1"),
            Behaviour("billing_no_account", 0.10, "2#"),
            Behaviour("billing_account", 0.20, "2{account}#"),
            Behaviour("billing_wrong_account", 0.05, "2{unknown}#"),
            Behaviour("general", 0.10, "0"),
            Behaviour("times_out", 0.10, ""),
            Behaviour("hangs_up_in_menu", 0.05, "", hangup_after=(0.5, 4.0)),
            Behaviour("leaves_voicemail", 0.10, message_key + "#"),
        ),
        accounts=tuple(accounts),
    )


def pick_script(rng: random.Random, profile: CallerProfile) -> CallerScript:
    """Draw one caller from `profile` (pure: all randomness comes from `rng`)."""
    behaviours = profile.behaviours
    if not behaviours:
        return CallerScript("", rng.uniform(*profile.patience))
    chosen = rng.choices(behaviours, weights=[b.weight for b in behaviours])[0]
    digits = chosen.digits.replace("{account}", rng.choice(profile.accounts) if profile.accounts else "")
    digits = digits.replace("{unknown}", profile.unknown_account)
    hangup = rng.uniform(*chosen.hangup_after) if chosen.hangup_after is not None else None
    return CallerScript(digits, rng.uniform(*profile.patience), hangup, chosen.name)


__all__ = ["Behaviour", "CallerProfile", "CallerScript", "default_profile", "pick_script"]
