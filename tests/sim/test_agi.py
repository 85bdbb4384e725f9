"""FastAGI client behaviour: the commands an IVR script uses, keys from the simulated caller, and
Asterisk's HANGUP handling."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from callserver.sim import Outcome, PbxSimulator
from tests.sim.conftest import make_settings
from tests.sim.helpers import AgiConversation, FakeAgiServer

Script = Callable[[dict[str, str], AgiConversation], Awaitable[None]]


@pytest.fixture
async def run_with(
    tmp_path: Path,
) -> AsyncIterator[Callable[[Script], Awaitable[tuple[PbxSimulator, FakeAgiServer]]]]:
    started: list[tuple[PbxSimulator, FakeAgiServer]] = []
    # the prompts the scripts below play, as files in the simulated Asterisk's sounds directory
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    for name in ("welcome", "menu"):
        (sounds / f"{name}.sln").write_bytes(bytes(1600))

    async def start(script: Script) -> tuple[PbxSimulator, FakeAgiServer]:
        agi = FakeAgiServer(script)
        await agi.start()
        sim = PbxSimulator(make_settings(agi.port, tmp_path), ami_port=0, time_scale=0.01)
        await sim.start()
        started.append((sim, agi))
        return sim, agi

    yield start
    for sim, agi in started:
        await sim.stop()
        await agi.stop()


async def test_ivr_commands_read_the_callers_keys(run_with) -> None:  # type: ignore[no-untyped-def]
    replies: list[str] = []

    async def ivr(env: dict[str, str], conv: AgiConversation) -> None:
        replies.append(await conv.command("ANSWER"))
        replies.append(await conv.command('VERBOSE "ivr started" 1'))
        replies.append(await conv.command("GET VARIABLE CALLERID(num)"))
        replies.append(await conv.command('STREAM FILE welcome "12"'))
        replies.append(await conv.command("WAIT FOR DIGIT 50"))
        replies.append(await conv.command("GET DATA menu 50 3"))
        replies.append(await conv.command("GET DATA menu 50 3"))
        replies.append(await conv.command("WAIT FOR DIGIT 20"))
        replies.append(await conv.command("NOOP"))
        replies.append(await conv.command("FROB NICATE"))
        replies.append(await conv.command("SET VARIABLE CS_NEXT hold"))

    sim, _agi = await run_with(ivr)
    call = sim.place_call("+15550001", "5001", patience=0.5, talk_time=1, digits="1" + "9" + "42#")
    await call.outcome(timeout=5)
    assert replies == [
        "200 result=0",
        "200 result=1",
        "200 result=1 (+15550001)",
        "200 result=49 endpos=8000",
        "200 result=57",
        "200 result=42",
        "200 result= (timeout)",
        "200 result=0",
        "200 result=0",
        "510 Invalid or unknown command",
        "200 result=1",
    ]


async def test_agi_hangup_command_answers_then_sends_bare_hangup(run_with) -> None:  # type: ignore[no-untyped-def]
    after: list[str] = []

    async def hang(env: dict[str, str], conv: AgiConversation) -> None:
        after.append(await conv.command("HANGUP"))
        after.append((await conv.reader.readline()).decode())
        after.append(await conv.command("GET VARIABLE CS_NEXT"))

    sim, _agi = await run_with(hang)
    call = sim.place_call("+15550001", "5001", patience=5, talk_time=1)
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.PBX_HANGUP
    assert after == [
        "200 result=1",
        "HANGUP\n",
        "511 Command Not Permitted on a dead channel or intercepted by AMI",
    ]


async def test_caller_hangup_during_agi_is_pushed_to_the_script(run_with) -> None:  # type: ignore[no-untyped-def]
    lines: list[str] = []

    async def slow(env: dict[str, str], conv: AgiConversation) -> None:
        lines.append(await conv.command("WAIT FOR DIGIT -1"))
        lines.append((await conv.reader.readline()).decode())

    sim, _agi = await run_with(slow)
    # the caller's patience runs out while the script waits for a key
    call = sim.place_call("+15550001", "5001", patience=0.3, talk_time=1)
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.ABANDONED
    assert lines == ["200 result=-1", "HANGUP\n"]


async def test_missing_sounds_and_unwritable_recordings_fail_as_asterisk_answers(
    run_with, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    replies: list[str] = []
    recordings = tmp_path / "recordings"

    async def ivr(env: dict[str, str], conv: AgiConversation) -> None:
        replies.append(await conv.command('STREAM FILE custom/choose-language "12"'))  # nowhere
        replies.append(await conv.command('STREAM FILE press-1 "1"'))  # not a core sound
        replies.append(await conv.command("GET DATA callserver/en/press-1 50 1"))
        replies.append(await conv.command('STREAM FILE vm-goodbye ""'))  # a core sound plays
        replies.append(await conv.command(f'RECORD FILE {recordings}/m1 wav "#" 1000 BEEP s=1'))
        recordings.mkdir()
        replies.append(await conv.command(f'RECORD FILE {recordings}/m2 wav "#" 1000 BEEP s=1'))

    sim, _agi = await run_with(ivr)
    await sim.place_call("+15550001", "5001", patience=1, talk_time=1).outcome(timeout=5)
    assert replies[:5] == [
        "200 result=-1 endpos=0",
        "200 result=-1 endpos=0",
        "200 result=-1",
        "200 result=0 endpos=8000",
        "200 result=-1 (writefile)",
    ]
    assert replies[5].startswith("200 result=0 (timeout) endpos=")
    assert not (recordings / "m1.wav").exists()
    with wave.open(str(recordings / "m2.wav")) as audio:  # a real recording Asterisk would leave
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() > 0
    assert any("File custom/choose-language does not exist" in w for w in sim.warnings)
