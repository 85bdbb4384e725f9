"""The AMI link's reconnect back-off, found by the fuzzers' long run: a PBX that stays away long
enough once made the delay computation overflow and end the link task for good."""

from __future__ import annotations

from callserver.ami.adapter import reconnect_delay


def test_reconnect_back_off_survives_a_pbx_down_for_days() -> None:
    # 0.2 s doubling up to 10 s: a link retrying for days reaches failure counts in the tens of
    # thousands; the delay must stay the maximum instead of overflowing
    delays = [reconnect_delay(n, 0.2, 10.0) for n in (0, 1, 2, 7, 1_025, 60_000)]
    assert delays == [0.2, 0.2, 0.4, 10.0, 10.0, 10.0]
