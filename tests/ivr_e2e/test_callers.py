"""Simulated IVR callers: scripts are drawn from the profile's mix, reproducibly from the seed."""

from __future__ import annotations

import random
from collections import Counter

from callserver.sim.callers import Behaviour, CallerProfile, default_profile, pick_script


def test_same_seed_same_callers() -> None:
    profile = default_profile(["100200", "300400"])
    first = [pick_script(random.Random(3), profile) for _ in range(5)]
    again = [pick_script(random.Random(3), profile) for _ in range(5)]
    assert first == again


def test_mix_follows_the_weights_and_fills_in_accounts() -> None:
    profile = default_profile(["100200"])
    rng = random.Random(11)
    scripts = [pick_script(rng, profile) for _ in range(4000)]
    seen = Counter(s.behaviour for s in scripts)
    assert abs(seen["technical"] / 4000 - 0.30) < 0.03
    assert abs(seen["billing_account"] / 4000 - 0.20) < 0.03
    assert {s.digits for s in scripts if s.behaviour == "billing_account"} == {"2100200#"}
    assert all(s.digits == "" for s in scripts if s.behaviour == "times_out")
    hangups = [s for s in scripts if s.behaviour == "hangs_up_in_menu"]
    assert hangups and all(s.hangup_after is not None and 0.5 <= s.hangup_after <= 4.0 for s in hangups)
    assert all(s.hangup_after is None for s in scripts if s.behaviour != "hangs_up_in_menu")


def test_profile_of_one_behaviour_always_gives_it() -> None:
    profile = CallerProfile((Behaviour("vm", 1.0, "1#"),), patience=(5.0, 5.0))
    script = pick_script(random.Random(0), profile)
    assert (script.digits, script.patience, script.hangup_after) == ("1#", 5.0, None)
