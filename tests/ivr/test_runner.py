"""The runner over real loopback TCP: the test plays Asterisk's side of the FastAGI socket.

Replies are written as Asterisk 22 sends them in the recorded traces: keys as ASCII codes
(`200 result=50` for 2), GET DATA digits as text, `200 result= (timeout)`, and a bare `HANGUP`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path

import pytest
import yaml

import callserver.ivr
from callserver.agi.server import AgiSession, FastAgiServer
from callserver.ivr.actions import Prompt, ToQueue, ToVoicemail
from callserver.ivr.model import FlowConfig, IvrConfig
from callserver.ivr.runner import FilePrompts, IvrResult, PromptError, run_flow
from callserver.store.records import CustomerRecord
from tests.ivr.flows import MONDAY_10AM, PARIS

WAIT = 5.0
ENV = {  # as in s7_fastagi.agi.log
    "agi_network": "yes",
    "agi_network_script": "ivr",
    "agi_request": "agi://127.0.0.1:4573/ivr",
    "agi_channel": "PJSIP/trunk-00000012",
    "agi_language": "en",
    "agi_uniqueid": "1795426368.18",
    "agi_callerid": "+15550001",
    "agi_calleridname": "Caller 1",
    "agi_dnid": "500",
    "agi_context": "from-trunk",
    "agi_extension": "500",
    "agi_priority": "2",
}


def example_flow() -> FlowConfig:
    raw = yaml.safe_load((Path(callserver.ivr.__file__).parent / "example.yaml").read_text())
    return IvrConfig.model_validate(raw).flows["main"]


class Speech:
    """Stands in for the speech synthesiser: remembers what it was asked to say."""

    def __init__(self) -> None:
        self.said: list[str] = []

    async def resolve(self, prompt: Prompt) -> str:
        self.said.append(prompt.text or "")
        return f"tts/{len(self.said)}"


class Asterisk:
    """The PBX end of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def answer(self, command: str, reply: str) -> None:
        """Expect `command` (exactly, or as a prefix when it ends with a space) and reply."""
        async with asyncio.timeout(WAIT):
            line = (await self.reader.readline()).decode().rstrip("\n")
        assert line == command or (command.endswith(" ") and line.startswith(command)), line
        self.writer.write(reply.encode() + b"\n")
        await self.writer.drain()

    async def closed(self) -> None:
        """The script ended: the server closes the socket (the channel goes back to the dialplan)."""
        async with asyncio.timeout(WAIT):
            assert await self.reader.read() == b""
        self.writer.close()
        await self.writer.wait_closed()


class Ivr:
    """A FastAGI server running the flow, and the results of its sessions."""

    def __init__(
        self, flow: FlowConfig, customers: Mapping[tuple[str, str], list[object]], now: datetime
    ) -> None:
        self.flow, self.customers, self.now = flow, customers, now
        self.speech = Speech()
        self.nodes: list[str] = []
        self.result: asyncio.Future[IvrResult] = asyncio.get_running_loop().create_future()
        self.server = FastAgiServer("127.0.0.1", 0, self._handle)

    async def _lookup(self, by: str, value: str) -> list[CustomerRecord | Mapping[str, object]]:
        return list(self.customers.get((by, value), []))  # type: ignore[arg-type]

    async def _handle(self, session: AgiSession) -> None:
        try:
            result = await run_flow(
                session,
                self.flow,
                lookup=self._lookup,
                prompts=FilePrompts(self.speech),
                now=lambda: self.now,
                on_node=self.nodes.append,
                name="main",
                recordings_dir="/var/spool/asterisk/callserver/",
            )
        except BaseException as err:
            self.result.set_exception(err)
            raise
        self.result.set_result(result)

    async def call(self) -> Asterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        writer.write("".join(f"{k}: {v}\n" for k, v in ENV.items()).encode() + b"\n")
        return Asterisk(reader, writer)

    async def outcome(self) -> IvrResult:
        async with asyncio.timeout(WAIT):
            return await self.result


@pytest.fixture
async def make_ivr() -> AsyncIterator[list[Ivr]]:
    made: list[Ivr] = []
    yield made
    for ivr in made:
        await ivr.server.stop()


async def start(made: list[Ivr], customers: Mapping[tuple[str, str], list[object]], now: datetime) -> Ivr:
    ivr = Ivr(example_flow(), customers, now)
    await ivr.server.start()
    made.append(ivr)
    return ivr


async def test_caller_hears_balance_and_reaches_billing_with_account(make_ivr: list[Ivr]) -> None:
    account_holder = {"id": 7, "name": "Ada", "account": "12345678", "balance": "42.10", "vip": False}
    ivr = await start(make_ivr, {("account", "12345678"): [account_holder]}, MONDAY_10AM)
    pbx = await ivr.call()
    await pbx.answer('STREAM FILE custom/choose-language "12"', "200 result=49 endpos=3404")  # 1: English
    await pbx.answer('SET VARIABLE IVR_LANGUAGE "en"', "200 result=1")
    await pbx.answer('STREAM FILE tts/1 "120"', "200 result=0 endpos=80000")
    await pbx.answer("WAIT FOR DIGIT 5000", "200 result=50")  # 2: billing
    await pbx.answer("GET DATA tts/2 5000 10", "200 result=12345678")
    await pbx.answer('SET VARIABLE IVR_ACCOUNT "12345678"', "200 result=1")
    await pbx.answer('STREAM FILE tts/3 ""', "200 result=0 endpos=48000")
    await pbx.answer('SET VARIABLE IVR_PRODUCT "billing"', "200 result=1")
    await pbx.closed()

    result = await ivr.outcome()
    assert result.outcome == "queue"
    data = {"language": "en", "account": "12345678", "customer_id": "7", "product": "billing"}
    assert result.action == ToQueue("billing", data)
    assert ivr.speech.said[2] == "Hello Ada. The balance of your account is 42 euros 10."
    assert list(result.path) == ivr.nodes
    assert ivr.nodes[-3:] == ["balance", "billing", "billing_queue"]


async def test_caller_hanging_up_mid_menu_ends_cleanly_with_where_they_left(make_ivr: list[Ivr]) -> None:
    known = CustomerRecord(1, "Bob", ("+15550001",), None, None, "fr", True, "", MONDAY_10AM, MONDAY_10AM)
    ivr = await start(make_ivr, {("phone", "+15550001"): [known]}, MONDAY_10AM)
    pbx = await ivr.call()
    await pbx.answer('SET VARIABLE IVR_PRIORITY "high"', "200 result=1")
    await pbx.answer('SET VARIABLE IVR_LANGUAGE "fr"', "200 result=1")
    await pbx.answer('STREAM FILE tts/1 "120"', "200 result=0 endpos=80000")
    await pbx.answer("WAIT FOR DIGIT 5000", "HANGUP")
    await pbx.closed()

    result = await ivr.outcome()
    assert result.outcome == "hangup" and result.left_at == "main_menu" and result.action is None
    assert result.path[:4] == ("office_hours", "identify", "vip_check", "vip_priority")
    assert result.data == {"customer_id": "1", "priority": "high", "language": "fr"}


async def test_after_hours_caller_leaves_a_voicemail(make_ivr: list[Ivr]) -> None:
    sunday = datetime(2026, 3, 29, 15, 0, tzinfo=PARIS)
    ivr = await start(make_ivr, {}, sunday)
    pbx = await ivr.call()
    await pbx.answer('STREAM FILE tts/1 ""', "200 result=0 endpos=90000")
    await pbx.answer('STREAM FILE tts/2 "1"', "200 result=49 endpos=1200")
    await pbx.answer('STREAM FILE tts/3 ""', "200 result=0 endpos=20000")
    recording = "/var/spool/asterisk/callserver/1795426368.18-leave_message"
    await pbx.answer(
        f'RECORD FILE {recording} wav "#" 120000 BEEP s=5', "200 result=-1 (hangup) endpos=64000"
    )
    await pbx.closed()

    result = await ivr.outcome()
    assert result.outcome == "voicemail"
    assert result.action == ToVoicemail("queue:general", {}, f"{recording}.wav")
    assert result.recording == f"{recording}.wav"


async def test_menu_timeouts_then_fallback_queue(make_ivr: list[Ivr]) -> None:
    ivr = await start(make_ivr, {}, MONDAY_10AM)
    pbx = await ivr.call()
    await pbx.answer('STREAM FILE custom/choose-language "12"', "200 result=0 endpos=3404")
    await pbx.answer("WAIT FOR DIGIT 4000", "200 result=0")
    await pbx.answer('STREAM FILE custom/choose-language "12"', "200 result=0 endpos=3404")
    await pbx.answer("WAIT FOR DIGIT 4000", "200 result=0")  # retries: 1, so now the fallback
    await pbx.answer('SET VARIABLE IVR_LANGUAGE "en"', "200 result=1")
    await pbx.answer('STREAM FILE tts/1 "120"', "200 result=48 endpos=100")  # 0: general
    await pbx.closed()
    result = await ivr.outcome()
    assert result.action == ToQueue("general", {"language": "en"})


async def test_text_prompt_without_speech_synthesiser_is_refused() -> None:
    with pytest.raises(PromptError, match=r"main\.menu\.prompt"):
        await FilePrompts().resolve(Prompt("main.menu.prompt", text="Hello"))
    assert await FilePrompts().resolve(Prompt("main.w.prompt", file="welcome")) == "welcome"
