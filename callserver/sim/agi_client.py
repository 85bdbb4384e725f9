"""FastAGI client side of `AGI(agi://host:port/script,args)`, speaking as Asterisk 22 does:
the `agi_*` environment, `200 result=` replies, `HANGUP` pushed to the script when the channel
goes away, `511` for commands on a dead channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
import threading
from urllib.parse import urlsplit

from callserver.sim import messages as m
from callserver.sim.apps import APPS, Runtime, emit_dtmf, expand
from callserver.sim.dialplan import split_args
from callserver.sim.model import Channel
from callserver.sim.sounds import WRITABLE_FORMATS, write_recording
from callserver.sounds import names

log = logging.getLogger("callserver.sim.agi")
# Without quotes or backslashes shlex's split is a split on its four blanks, done here for less.
_QUOTING = re.compile(r"[\"'\\]")
_BLANKS = re.compile(r"[ \t\r\n]+")

DEAD = "511 Command Not Permitted on a dead channel or intercepted by AMI\n"
CONNECT_TIMEOUT = 2.0
LINGER_AFTER_HANGUP = 5.0
LANGUAGE = "en"  # agi_language: the simulated channels all speak the default language


def environment(ch: Channel, url: str, script: str, args: list[str]) -> str:
    """The header block Asterisk sends first, in its order, ending with the blank line."""
    env = [
        ("agi_network", "yes"),
        ("agi_network_script", script),
        ("agi_request", url),
        ("agi_channel", ch.name),
        ("agi_language", LANGUAGE),
        ("agi_type", ch.tech),
        ("agi_uniqueid", ch.uniqueid),
        ("agi_version", "22.10.1"),
        ("agi_callerid", ch.caller_num if ch.caller_num != "<unknown>" else "unknown"),
        ("agi_calleridname", ch.caller_name if ch.caller_name != "<unknown>" else "unknown"),
        ("agi_callingpres", "0"),
        ("agi_callingani2", "0"),
        ("agi_callington", "0"),
        ("agi_callingtns", "0"),
        ("agi_dnid", ch.dnid or "unknown"),
        ("agi_rdnis", "unknown"),
        ("agi_context", ch.context),
        ("agi_extension", ch.exten),
        ("agi_priority", str(ch.priority)),
        ("agi_enhanced", "0.0"),
        ("agi_accountcode", ""),
        ("agi_threadid", str(threading.get_ident())),
    ]
    env += [(f"agi_arg_{i}", a) for i, a in enumerate(args, start=1)]
    return "".join(f"{k}: {v}\n" for k, v in env) + "\n"


class AgiSession:
    """One FastAGI conversation for one channel."""

    def __init__(self, rt: Runtime, ch: Channel) -> None:
        self.rt, self.ch = rt, ch
        self.hangup_sent = False
        self.busy = False  # a command is running: its reply goes out before HANGUP
        self.script_hung_up = False
        self._commands = 0

    async def run(self, url: str) -> str:
        first, *args = url.split(",")
        parts = urlsplit(first)
        host, port = parts.hostname or "127.0.0.1", parts.port or 4573
        script = parts.path.lstrip("/")
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as err:
            log.warning(
                "%s: FastAGI server %s:%s unreachable (%s): AGISTATUS=FAILURE", self.ch.name, host, port, err
            )
            return "FAILURE"
        log.debug("%s: FastAGI %s connected", self.ch.name, first)
        watcher = asyncio.create_task(self._watch_hangup(writer))
        try:
            writer.write(environment(self.ch, first, script, args).encode())
            await self._serve(reader, writer)
        except (ConnectionError, OSError) as err:
            log.debug("%s: FastAGI connection lost: %s", self.ch.name, err)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if self.script_hung_up:
            self.rt.pbx.emit_soft_hangup(self.ch, 16)
        log.debug("%s: FastAGI %s finished", self.ch.name, first)
        return "HANGUP" if self.ch.hanging_up else "SUCCESS"

    async def _watch_hangup(self, writer: asyncio.StreamWriter) -> None:
        """Asterisk tells the script its channel is gone with a bare `HANGUP` line."""
        await self.ch.wait_for(lambda: self.ch.hanging_up)
        if not self.busy:
            self._send_hangup(writer)

    def _send_hangup(self, writer: asyncio.StreamWriter) -> None:
        if not self.hangup_sent and not writer.is_closing():
            self.hangup_sent = True
            writer.write(b"HANGUP\n")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            timeout = LINGER_AFTER_HANGUP if self.ch.hanging_up else None
            try:
                async with asyncio.timeout(timeout):
                    line = await reader.readline()
            except TimeoutError:
                log.debug("%s: FastAGI script did not close after HANGUP", self.ch.name)
                return
            if not line:
                return
            command = line.decode(errors="replace").strip()
            if not command:
                continue
            self.busy = True
            try:
                if self.ch.hanging_up:
                    reply = DEAD
                else:
                    cid = [("CommandId", str(self.command_id())), ("Command", command)]
                    self._agi_event("AGIExecStart", cid)
                    reply = await self.execute(command)
                    code = reply.split(" ", 1)[0]
                    result = "Success" if code == "200" else reply.split(" ", 1)[-1].strip()
                    self._agi_event("AGIExecEnd", [*cid, ("ResultCode", code), ("Result", result)])
            finally:
                self.busy = False
            if not writer.is_closing():
                writer.write(reply.encode())
                if self.ch.hanging_up:
                    self._send_hangup(writer)
                await writer.drain()

    def command_id(self) -> int:
        self._commands += 1
        return (id(self) + self._commands) % 2**31

    def _agi_event(self, name: str, extra: m.Message) -> None:
        self.rt.pbx.emit(m.channel_event(name, self.ch, extra, privilege="agi,all"))

    async def execute(self, command: str) -> str:
        """Run one AGI command and return the reply line."""
        if _QUOTING.search(command) is None:
            stripped = command.strip(" \t\r\n")
            words = _BLANKS.split(stripped) if stripped else []
        else:
            try:
                words = shlex.split(command)
            except ValueError:
                words = command.split()
        upper = [w.upper() for w in words]
        ch, pbx = self.ch, self.rt.pbx
        if upper[:1] == ["ANSWER"]:
            if ch.state != 6:
                pbx.set_state(ch, 6)
            return "200 result=0\n"
        if upper[:1] == ["HANGUP"]:
            pbx.soft_hangup(ch, 32, final_cause=0)  # Asterisk's AST_SOFTHANGUP_EXPLICIT flag
            self.script_hung_up = True
            return "200 result=1\n"
        if upper[:2] == ["SET", "VARIABLE"] and len(words) >= 4:
            ch.variables[words[2]] = " ".join(words[3:])
            return "200 result=1\n"
        if upper[:2] == ["GET", "VARIABLE"] and len(words) >= 3:
            value = expand(self.rt, ch, "${" + words[2] + "}")
            known = words[2] in ch.variables or value != "" or words[2] in self.rt.globals
            return f"200 result=1 ({value})\n" if known else "200 result=0\n"
        if upper[:2] == ["STREAM", "FILE"] and len(words) >= 3:
            escape = words[3] if len(words) > 3 else ""
            if not self._playable(words[2], "STREAM FILE"):
                return "200 result=-1 endpos=0\n"
            digit = await self._key(self.rt.timing.playback, escape)
            if ch.hanging_up:
                return "200 result=-1 endpos=0\n"
            return f"200 result={ord(digit) if digit else 0} endpos=8000\n"
        if upper[:3] == ["WAIT", "FOR", "DIGIT"]:
            ms = float(words[3]) if len(words) > 3 else -1
            digit = await self._key(None if ms < 0 else ms / 1000, "0123456789*#ABCD")
            if ch.hanging_up:
                return "200 result=-1\n"
            return f"200 result={ord(digit) if digit else 0}\n"
        if upper[:2] == ["GET", "DATA"] and len(words) >= 3:
            return await self._get_data(words)
        if upper[:2] == ["RECORD", "FILE"] and len(words) >= 6:
            return await self._record(words, upper)
        if upper[:1] == ["VERBOSE"]:
            return "200 result=1\n"
        if upper[:1] == ["NOOP"]:
            return "200 result=0\n"
        if upper[:1] == ["EXEC"] and len(words) >= 2:
            app = APPS.get(words[1].lower())
            if app is None:
                return "200 result=-2\n"
            data = expand(self.rt, ch, " ".join(words[2:]))
            await app(self.rt, ch, split_args(data) if data else [])
            return "200 result=0\n"
        return "510 Invalid or unknown command\n"

    def _playable(self, name: str, command: str) -> bool:
        """Asterisk's check before playing: a missing file fails the command at once."""
        if self.rt.sounds.exists(name, LANGUAGE):
            return True
        warning = f"{self.ch.name}: {command} {name}: File {name} does not exist in any format"
        log.warning("%s", warning)
        self.rt.warnings.append(warning)
        return False

    async def _record(self, words: list[str], upper: list[str]) -> str:
        """RECORD FILE name format escape timeout [offset] [BEEP] [s=silence], as res_agi runs it:
        beep, then open the file (a missing or read-only folder fails here), then record."""
        name, fmt, escape, timeout_ms = words[2], words[3], words[4], float(words[5])
        if "BEEP" in upper[6:] and not self._playable(names.BEEP, "RECORD FILE"):
            return "200 result=-1 (randomerror) endpos=0\n"
        path = self.rt.sounds.record_path(name, fmt)
        try:
            if fmt.lower() not in WRITABLE_FORMATS:
                raise OSError(f"the simulator cannot write {fmt!r} files")
            path.touch()
        except OSError as err:
            warning = f"{self.ch.name}: RECORD FILE {path}: unable to open for writing: {err}"
            log.warning("%s", warning)
            self.rt.warnings.append(warning)
            return "200 result=-1 (writefile)\n"
        loop = asyncio.get_running_loop()
        started = loop.time()
        scale = max(self.rt.timing.scale, 1e-6)
        speaks = self.ch.message_time if self.ch.message_time is not None else self.rt.timing.playback
        wait = min(timeout_ms / 1000 * scale, speaks) if timeout_ms > 0 else speaks
        digit = await self._key(wait, escape)
        cut_short = digit is not None or self.ch.hanging_up
        heard = max(0.1, ((loop.time() - started) if cut_short else wait) / scale)
        write_recording(path, heard)
        endpos = round(heard * 8000)
        if self.ch.hanging_up:
            return f"200 result=-1 (hangup) endpos={endpos}\n"
        if digit:
            return f"200 result={ord(digit)} (dtmf) endpos={endpos}\n"
        return f"200 result=0 (timeout) endpos={endpos}\n"

    async def _get_data(self, words: list[str]) -> str:
        timeout = float(words[3]) / 1000 if len(words) > 3 and words[3] else 5.0
        max_digits = int(words[4]) if len(words) > 4 and words[4] else 1024
        if not self._playable(words[2], "GET DATA"):
            return "200 result=-1\n"
        collected = ""
        digit = await self._key(self.rt.timing.playback, "0123456789*#")
        while digit and digit != "#":
            collected += digit
            if len(collected) >= max_digits:
                break
            digit = await self._key(timeout, "0123456789*#")
        if self.ch.hanging_up:
            return "200 result=-1\n"
        if not collected and not digit:
            return "200 result= (timeout)\n"
        return f"200 result={collected}\n"

    async def _key(self, seconds: float | None, accept: str) -> str | None:
        """The next key the caller presses within `seconds`, if it is one of `accept`."""
        ch = self.ch

        def ready() -> bool:
            return ch.hanging_up or bool(ch.keypad and ch.keypad[0] in accept)

        await ch.wait_for(ready, seconds)
        if ch.hanging_up or not ch.keypad or ch.keypad[0] not in accept:
            return None
        digit = ch.keypad.popleft()
        emit_dtmf(self.rt, ch, digit)
        return digit


async def run_agi(rt: Runtime, ch: Channel, url: str) -> str:
    """The AGI application: returns the AGISTATUS value."""
    return await AgiSession(rt, ch).run(url)
