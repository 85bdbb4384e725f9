"""The `Filter` action as Asterisk 22's manager.c answers and applies it: legacy regular
expressions and advanced criteria, the same refusals, the same include/exclude evaluation."""

from __future__ import annotations

import pytest

from callserver.sim import PbxSimulator
from callserver.sim import messages as m
from callserver.sim.ami_filters import COMPILE_ERROR, FORMAT_ERROR, SessionFilters, parse_filter
from callserver.sim.manager_user import ManagerUser
from tests.sim.helpers import AmiClient
from tests.sim.test_acd_flow import originate


async def _filter(ami: AmiClient, criteria: str | None, pattern: str | None) -> dict[str, str]:
    fields = [("Operation", "Add")]
    if criteria is not None:
        fields.append(("MatchCriteria", criteria))
    if pattern is not None:
        fields.append(("Filter", pattern))
    return await ami.action("Filter", *fields)


async def test_excluded_events_are_not_sent_and_the_others_are(sim: PbxSimulator, ami: AmiClient) -> None:
    for name in ("DialBegin", "NewConnectedLine", "BridgeCreate"):
        reply = await _filter(ami, f"action(exclude),name({name})", None)
        assert (reply["Response"], reply["Message"]) == ("Success", "Success")
    sim.set_phone("PJSIP/1001", answer_delay=0.05)
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=0.2)
    await ami.event("MusicOnHoldStart")
    originate(ami, "PJSIP/1001", call.channel.name, ("ChannelId", "agent-leg-1"))
    await ami.event("BridgeEnter", Uniqueid="agent-leg-1")
    await ami.event("Hangup", Uniqueid="agent-leg-1")
    await ami.event("BridgeDestroy")  # not excluded: sent, and after everything above
    assert ami.events("DialEnd") and ami.events("Newchannel")
    assert not ami.events("DialBegin") and not ami.events("NewConnectedLine")
    assert not ami.events("BridgeCreate")


async def test_an_include_filter_alone_sends_only_what_it_matches(sim: PbxSimulator, ami: AmiClient) -> None:
    assert (await _filter(ami, None, "Event: Hangup"))["Response"] == "Success"  # legacy: a regex
    start = len(ami.messages)
    call = sim.place_call("+15550001", "5001", patience=0.2, talk_time=1)
    await ami.event("Hangup", Channel=call.channel.name)
    events = {m.get("Event") for m in (dict(msg) for msg in ami.messages[start:])} - {None}
    # a legacy filter is an unanchored regular expression, as in Asterisk: HangupRequest matches too
    assert events == {"Hangup", "HangupRequest"}


def test_include_and_exclude_together_send_what_an_include_matches_and_no_exclude_does() -> None:
    filters = SessionFilters()
    filters.add(parse_filter("name(Hangup)", ""))
    filters.add(parse_filter("action(exclude),header(Channel),method(starts_with)", "Local/"))
    hangup = [("Event", "Hangup"), ("Privilege", m.CALL), ("Channel", "PJSIP/1001-00000001")]
    local = [("Event", "Hangup"), ("Privilege", m.CALL), ("Channel", "Local/s@x-00000001;1")]
    other = [("Event", "Newchannel"), ("Privilege", m.CALL), ("Channel", "PJSIP/1001-00000002")]
    assert filters.allows(hangup) and not filters.allows(local) and not filters.allows(other)
    legacy = SessionFilters()
    legacy.add(parse_filter("", "!Channel: Local/"))
    assert legacy.allows(hangup) and legacy.allows(other) and not legacy.allows(local)


@pytest.mark.parametrize(
    ("criteria", "pattern", "message"),
    [
        (None, None, FORMAT_ERROR),  # a legacy filter needs a pattern
        ("action(maybe),name(Hangup)", None, FORMAT_ERROR),
        ("colour(red)", None, FORMAT_ERROR),
        ("name(Hangup),method(exact)", None, FORMAT_ERROR),  # a method without a pattern
        ("name(Hangup),method(none)", "x", FORMAT_ERROR),  # a pattern with method none
        ("action(exclude)", None, FORMAT_ERROR),  # neither name nor header nor pattern
        ("name(Hangup", None, FORMAT_ERROR),
        (None, "Event: (", COMPILE_ERROR),
    ],
)
async def test_malformed_filters_are_refused_with_asterisks_message(
    ami: AmiClient, criteria: str | None, pattern: str | None, message: str
) -> None:
    reply = await _filter(ami, criteria, pattern)
    assert (reply["Response"], reply["Message"]) == ("Error", message)


async def test_filter_needs_the_system_write_class_and_the_add_operation(
    sim: PbxSimulator, ami: AmiClient
) -> None:
    bad = await ami.action("Filter", ("Operation", "Remove"), ("Filter", "Event: Hangup"))
    assert (bad["Response"], bad["Message"]) == ("Error", "Unknown operation")
    assert sim.ami is not None
    sim.ami.user = ManagerUser(write=frozenset({"call", "originate"}))
    denied = await _filter(ami, "action(exclude),name(DialBegin)", None)
    assert (denied["Response"], denied["Message"]) == ("Error", "Permission denied")
