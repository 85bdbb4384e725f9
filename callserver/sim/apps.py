"""Dialplan applications the simulator implements (the `APPS` table), the runtime they share,
variable expansion and the bridge mechanics behind `Bridge()` and `Dial()`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from callserver.sim import dialplan as dp
from callserver.sim import messages as m
from callserver.sim.model import AfterBridge, Channel
from callserver.sim.pbx import Pbx
from callserver.sim.spy import app_chanspy
from callserver.sounds.library import SoundLibrary

log = logging.getLogger("callserver.sim.dialplan")

Jump = tuple[str, str, int | str] | None
SOUND_LANGUAGE = "en"  # CHANNEL(language) of every simulated channel
Dialer = Callable[[Channel, list[str], float | None], Awaitable[Channel | None]]
AgiRunner = Callable[[Channel, str], Awaitable[str]]


@dataclass(frozen=True)
class Timing:
    """Durations of media the simulator fakes, already scaled by the simulator's time scale."""

    answer: float = 0.5
    playback: float = 1.0
    scale: float = 1.0


@dataclass
class Runtime:
    """What applications need besides the channel; built once by the simulator."""

    pbx: Pbx
    dialplan: dp.Dialplan
    globals: dict[str, str]
    timing: Timing
    agi: AgiRunner
    dial: Dialer
    spawn: Callable[[Coroutine[Any, Any, None], str], object]
    start_channel: Callable[[Channel], object]
    sounds: SoundLibrary
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what Asterisk logs as WARNING (missing files)


def builtins(ch: Channel) -> dict[str, str]:
    return {
        "CHANNEL": ch.name,
        "EXTEN": ch.exten,
        "CONTEXT": ch.context,
        "PRIORITY": str(ch.priority),
        "UNIQUEID": ch.uniqueid,
        "CALLERID(num)": ch.caller_num,
        "CALLERID(name)": ch.caller_name,
        "CALLERID(all)": f'"{ch.caller_name}" <{ch.caller_num}>',
        "CHANNEL(name)": ch.name,
        "CHANNEL(uniqueid)": ch.uniqueid,
        "CHANNEL(linkedid)": ch.linkedid,
    }


def expand(rt: Runtime, ch: Channel, text: str) -> str:
    def lookup(name: str) -> str | None:
        b = builtins(ch)
        if name in b:
            return b[name]
        if name in ch.variables:
            return ch.variables[name]
        return rt.globals.get(name)

    return _expressions(dp.substitute(text, lookup))


def _expressions(text: str) -> str:
    """Evaluate `$[a = b]`-style comparisons (the only expressions this dialplan subset needs)."""
    if "$[" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        for op in ("!=", ">=", "<=", "=", ">", "<"):
            left, sep, right = expr.partition(op)
            if sep:
                a, b = left.strip().strip('"'), right.strip().strip('"')
                try:
                    x, y = float(a), float(b)
                    result = {"!=": x != y, ">=": x >= y, "<=": x <= y, "=": x == y, ">": x > y, "<": x < y}[
                        op
                    ]
                except ValueError:
                    result = {"!=": a != b, ">=": a >= b, "<=": a <= b, "=": a == b, ">": a > b, "<": a < b}[
                        op
                    ]
                return "1" if result else "0"
        return expr.strip('"')

    return re.sub(r"\$\[([^\[\]]*)\]", one, text)


def _goto_target(ch: Channel, args: list[str]) -> Jump:
    args = [a.strip() for a in args if a.strip() != ""] or ["1"]
    if len(args) == 1:
        return (ch.context, ch.exten, args[0])
    if len(args) == 2:
        return (ch.context, args[0], args[1])
    return (args[0], args[1], args[2])


async def app_noop(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    return None


async def app_answer(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    if ch.state != 6:
        rt.pbx.set_state(ch, 6)
        await ch.pause(rt.timing.answer)
    return None


async def app_set(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    for assignment in args:
        name, sep, value = assignment.partition("=")
        if not sep:
            continue
        name = name.strip()
        if name == "CALLERID(num)":
            ch.caller_num = value
        elif name == "CALLERID(name)":
            ch.caller_name = value
        else:
            ch.variables[name] = value
    return None


async def app_wait(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    seconds = float(args[0] or 0) if args else 0.0
    await ch.pause(seconds * rt.timing.scale)
    return None


def _missing_sound(rt: Runtime, ch: Channel, app: str, args: list[str]) -> str | None:
    """The first of `name1&name2` Asterisk has no file for (logged as it logs it), else None."""
    for name in (args[0] if args else "").split("&"):
        if not rt.sounds.exists(name.strip(), SOUND_LANGUAGE):
            warning = f"{ch.name}: {app}({','.join(args)}): File {name.strip()} does not exist in any format"
            log.warning("%s", warning)
            rt.warnings.append(warning)
            return name
    return None


async def app_playback(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`Playback(file[&file2])`: a missing file is a warning, PLAYBACKSTATUS=FAILED, and the
    dialplan carries on, as in app_playback.c."""
    if _missing_sound(rt, ch, "Playback", args) is not None:
        ch.variables["PLAYBACKSTATUS"] = "FAILED"
        return None
    interrupted = await ch.pause(rt.timing.playback)
    ch.variables["PLAYBACKSTATUS"] = "FAILED" if interrupted else "SUCCESS"
    return None


async def app_background(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`Background(file)`: like Playback for a missing file (BACKGROUNDSTATUS=FAILED, carry on)."""
    if _missing_sound(rt, ch, "Background", args) is not None:
        ch.variables["BACKGROUNDSTATUS"] = "FAILED"
        return None
    await ch.wait_for(lambda: ch.wants_attention() or bool(ch.keypad), rt.timing.playback)
    ch.variables["BACKGROUNDSTATUS"] = "SUCCESS"
    return None


async def app_saynumber(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`SayNumber(n)`: takes about a playback's time per number said."""
    interrupted = await ch.pause(rt.timing.playback)
    ch.variables["PLAYBACKSTATUS"] = "FAILED" if interrupted else "SUCCESS"
    return None


async def app_hangup(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    cause = int(args[0]) if args and args[0].strip().isdigit() else 16
    rt.pbx.soft_hangup(ch, cause)
    return None


async def app_goto(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    return _goto_target(ch, args)


async def app_gotoif(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    cond, _, branches = ",".join(args).partition("?")
    yes, _, no = branches.partition(":")
    truthy = cond.strip() not in ("", "0")
    chosen = yes if truthy else no
    if not chosen.strip():
        return None
    return _goto_target(ch, chosen.split(","))


async def app_moh(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    klass = args[0].strip() if args and args[0].strip() else "default"
    duration = float(args[1]) * rt.timing.scale if len(args) > 1 and args[1].strip() else None
    rt.pbx.start_moh(ch, klass)
    loop = asyncio.get_running_loop()
    until = None if duration is None else loop.time() + duration
    while True:
        left = None if until is None else max(0.0, until - loop.time())
        await ch.wait_for(lambda: ch.wants_attention() or bool(ch.keypad), left)
        if ch.wants_attention() or not ch.keypad:
            break
        # keys pressed on hold are not read by anyone, but the PBX reports them (DTMF class)
        while ch.keypad:
            emit_dtmf(rt, ch, ch.keypad.popleft())
    rt.pbx.stop_moh(ch)
    return None


def emit_dtmf(rt: Runtime, ch: Channel, digit: str) -> None:
    """DTMFBegin + DTMFEnd for a key the far end pressed, shaped as in the transcripts."""
    rt.pbx.emit(
        m.channel_event("DTMFBegin", ch, [("Digit", digit), ("Direction", "Received")], privilege="dtmf,all")
    )
    rt.pbx.emit(
        m.channel_event(
            "DTMFEnd",
            ch,
            [("Digit", digit), ("DurationMs", "100"), ("Direction", "Received")],
            privilege="dtmf,all",
        )
    )


async def app_agi(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    url = ",".join(args)
    ch.variables["AGISTATUS"] = await rt.agi(ch, url)
    return None


async def app_bridge(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`Bridge(target[,options])`: pull the target out of what it runs into a bridge with us."""
    target = rt.pbx.find_prefix(args[0].strip()) if args else None
    options = args[1] if len(args) > 1 else ""
    if target is None or target is ch:
        log.debug("%s: Bridge(%s) found no such channel", ch.name, args[0] if args else "")
        ch.variables["BRIDGERESULT"] = "FAILURE"
        return None
    after, after_target = AfterBridge.CONTINUE, None
    fm = re.search(r"F\(([^)]*)\)", options)
    if fm:
        parts = re.split(r"[\^,]", fm.group(1))
        after_target = _goto_target(target, parts)
        after = AfterBridge.GOTO
    elif "F" in options.replace("x", ""):
        after = AfterBridge.CONTINUE
    if "x" in re.sub(r"F\([^)]*\)", "", options):
        after = AfterBridge.HANGUP
    bridge = rt.pbx.create_bridge()
    if target.bridge is not None:
        old = rt.pbx.leave(target)
        if old is not None:
            rt.pbx.dissolve(old)
    rt.pbx.stop_moh(target)
    target.after_bridge = after
    target.after_target = after_target
    target.bridger = False
    target.pulled = True
    target.priority += 1
    rt.pbx.enter(bridge, target)
    ch.bridger = True
    rt.pbx.enter(bridge, ch)
    await stay_in_bridge(rt, ch)
    if not ch.hanging_up:
        ch.variables["BRIDGERESULT"] = "SUCCESS"
    return None


async def app_dial(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    interfaces = [i for i in (args[0].split("&") if args else []) if i]
    timeout = float(args[1]) if len(args) > 1 and args[1].strip() else None
    callee = await rt.dial(ch, interfaces, timeout)
    if callee is None:
        ch.variables.setdefault("DIALSTATUS", "NOANSWER")
        return None
    ch.variables["DIALSTATUS"] = "ANSWER"
    bridge = rt.pbx.create_bridge()
    ch.bridger = True
    callee.after_bridge = AfterBridge.HANGUP
    callee.pulled = True
    rt.pbx.enter(bridge, ch)
    rt.pbx.enter(bridge, callee)
    rt.start_channel(callee)
    await stay_in_bridge(rt, ch)
    return None


async def app_saydigits(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`SayDigits(digits)`: one playback's time (the digit sounds are core sounds)."""
    interrupted = await ch.pause(rt.timing.playback)
    ch.variables["PLAYBACKSTATUS"] = "FAILED" if interrupted else "SUCCESS"
    return None


async def app_userevent(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`UserEvent(name,key: value,...)`: the AMI `UserEvent` (class user) with the channel's
    snapshot, `UserEvent: name`, then each `key: value` (value trimmed; an argument without `:` is
    dropped), as app_userevent.c publishes it in Asterisk 22."""
    if not args or not args[0].strip():
        rt.errors.append(f"{ch.name}: UserEvent requires an argument (eventname,optional event body)")
        rt.pbx.soft_hangup(ch)
        return None
    body: m.Message = []
    for extra in args[1:]:
        key, sep, value = extra.partition(":")
        if sep:
            body.append((key, value.strip()))
    rt.pbx.emit(m.channel_event("UserEvent", ch, [("UserEvent", args[0]), *body], privilege="user,all"))
    return None


def _ms(args: list[str], index: int, default: int) -> int:
    """An `AMD()` argument as app_amd.c reads it (atoi: digits up to the first other character)."""
    if index >= len(args) or not args[index].strip():
        return default
    digits = re.match(r"\s*([+-]?\d*)", args[index])
    return int(digits.group(1)) if digits and digits.group(1) not in ("", "+", "-") else 0


async def app_amd(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`AMD([initialSilence,greeting,afterGreetingSilence,totalAnalysisTime,...])`: decides
    HUMAN, MACHINE or NOTSURE (past the total analysis time) and sets AMDSTATUS and AMDCAUSE as
    app_amd.c does; HANGUP with an empty cause when the channel goes. What it decides and when is
    the called party's (`simulator.outbound`: accuracy and delays); a phone counts as a person."""
    greeting = _ms(args, 1, 1500)
    after_greeting = _ms(args, 2, 800)
    total = _ms(args, 3, 5000)
    party = ch.party
    says, delay = ("HUMAN", 1.5) if party is None else (party.amd_says, party.amd_delay)
    if delay * 1000 >= total:
        status, cause, delay = "NOTSURE", f"TOOLONG-{total}", total / 1000
    elif says == "HUMAN":
        status, cause = "HUMAN", f"HUMAN-{after_greeting}-{after_greeting}"
    else:
        status, cause = "MACHINE", f"LONGGREETING-{greeting}-{greeting}"
    interrupted = await ch.pause(delay * rt.timing.scale)
    if interrupted:
        status, cause = "HANGUP", ""  # hung up, or pulled away (a bridge): no decision
    ch.variables["AMDSTATUS"], ch.variables["AMDCAUSE"] = status, cause
    return None


async def app_waitforsilence(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """`WaitForSilence(silencereqd[,iterations[,timeout]])`: a machine falls silent after its
    greeting (the beep); anyone else after `silencereqd`. WAITSTATUS is SILENCE or TIMEOUT."""
    needed = _ms(args, 0, 1000) / 1000
    timeout = float(args[2]) if len(args) > 2 and args[2].strip() else None
    party = ch.party
    quiet_after = needed + (party.greeting if party is not None else 0.0)
    timed_out = timeout is not None and timeout > 0 and timeout < quiet_after
    seconds = timeout if timed_out and timeout is not None else quiet_after
    if await ch.pause(seconds * rt.timing.scale):
        return None
    ch.variables["WAITSTATUS"] = "TIMEOUT" if timed_out else "SILENCE"
    return None


APPS: dict[str, Callable[[Runtime, Channel, list[str]], Awaitable[Jump]]] = {
    "noop": app_noop,
    "answer": app_answer,
    "set": app_set,
    "wait": app_wait,
    "playback": app_playback,
    "background": app_background,
    "saynumber": app_saynumber,
    "saydigits": app_saydigits,
    "userevent": app_userevent,
    "amd": app_amd,
    "waitforsilence": app_waitforsilence,
    "hangup": app_hangup,
    "goto": app_goto,
    "gotoif": app_gotoif,
    "musiconhold": app_moh,
    "agi": app_agi,
    "bridge": app_bridge,
    "dial": app_dial,
    "chanspy": app_chanspy,
}


async def stay_in_bridge(rt: Runtime, ch: Channel) -> None:
    """Hold a bridged channel until it or its peer ends the bridge, then apply the after-bridge rule."""
    await ch.wait_for(lambda: ch.bridge is None or ch.hanging_up or ch.redirect_to is not None)
    pulled, ch.pulled = ch.pulled, False
    if ch.bridge is not None:
        bridge = rt.pbx.leave(ch)
        assert bridge is not None
        if ch.hanging_up and not ch.bridger:
            ch.pending_dissolve = bridge  # Hangup first, then the peer leaves (as Asterisk does)
            return
        if ch.hanging_up and ch.remote_hangup:
            rt.pbx.emit_soft_hangup(ch)
        rt.pbx.dissolve(bridge)
        return
    if not pulled or ch.hanging_up:
        return
    if ch.after_bridge is AfterBridge.HANGUP:
        ch.hangup_cause = 16
    elif ch.after_bridge is AfterBridge.GOTO and ch.after_target is not None:
        ch.redirect_to = resolve(rt, ch, ch.after_target)


def resolve(rt: Runtime, ch: Channel, jump: tuple[str, str, int | str]) -> tuple[str, str, int]:
    ctx, ext, pri = jump
    if isinstance(pri, int) or str(pri).isdigit():
        return (ctx, ext, int(pri))
    number = rt.dialplan.label_priority(ctx, ext, str(pri))
    if number is None:
        log.error("%s: Goto to unknown label %s,%s,%s", ch.name, ctx, ext, pri)
        return (ctx, ext, 10**6)
    return (ctx, ext, number)
