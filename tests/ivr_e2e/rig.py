"""The server side of an IVR call centre, built piece by piece over real TCP, with the simulator.

It assembles the same components the composition root does (store, fact writer, ACD service, AMI
link, FastAGI with the IVR-aware inbound script, voicemail, prompt synthesis with real espeak-ng)
so the IVR and voicemail paths are tested end to end whatever the root wires today.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from callserver.acd.service import AcdService
from callserver.app import CallServer, start_server
from callserver.config import Settings, parse_settings
from callserver.facts.bus import FactBus
from callserver.ivr.progress import IvrPresence, IvrProgress
from callserver.sim import PbxSimulator
from callserver.speech import PromptSynth
from callserver.store.store import Store
from callserver.store.writer import FactWriter
from callserver.voicemail import VoicemailService, VoicemailWaiting

from ..helpers import ROOT, fast_settings

ACCOUNT = "100200"
CUSTOMER = "Alice Martin"
BALANCE = "42.10"
CALLER = "+33655500001"  # not a number the directory knows: the account identifies the caller
BILLING_DNIS = "600"

FLOW: dict[str, Any] = {
    "dnis": [BILLING_DNIS],
    "language": "en",
    "start": "office",
    "schedules": {"office": {"timezone": "Europe/Paris", "open": ["mon-fri 08:00-18:00"]}},
    "nodes": {
        "office": {"type": "hours", "schedule": "office", "open": "menu", "closed": "closed_menu"},
        "menu": {
            "type": "menu",
            "prompt": "For support, press 1. For billing, press 2.",
            "options": {"1": "support_q", "2": "account"},
            "timeout": 2,
            "retries": 0,
            "fallback": "support_q",
        },
        "account": {
            "type": "collect",
            "variable": "account",
            "prompt": "Please type your account number, then the hash key.",
            "min_length": 4,
            "max_length": 10,
            "timeout": 2,
            "retries": 0,
            "on_invalid": "billing_q",
            "next": "find",
        },
        "find": {
            "type": "lookup",
            "by": "account",
            "variable": "account",
            "found": "balance",
            "not_found": "billing_q",
        },
        "balance": {
            "type": "say",
            "text": "Hello {customer.name}. Your balance is {customer.balance|currency}.",
            "next": "product",
        },
        "product": {"type": "set", "values": {"product": "billing"}, "next": "billing_q"},
        "billing_q": {"type": "queue", "queue": "billing"},
        "support_q": {"type": "queue", "queue": "support"},
        "closed_menu": {
            "type": "menu",
            "prompt": "We are closed. To leave a message, press 1.",
            "options": {"1": "message"},
            "timeout": 2,
            "retries": 0,
            "fallback": "bye",
        },
        "message": {
            "type": "voicemail",
            "queue": "billing",
            "prompt": "Please leave your message after the tone.",
            "max_length": 30,
            "silence": 3,
        },
        "bye": {"type": "hangup", "reason": "closed"},
    },
}

OPEN = datetime.fromisoformat("2026-03-02T10:00:00+01:00")  # a Monday morning
CLOSED = datetime.fromisoformat("2026-03-01T03:00:00+01:00")  # a Sunday night
PASSWORD = "correct horse"


def ivr_settings(
    tmp_path: Path, *, extra_dialplan: list[Path] | None = None, entry_context: str | None = None
) -> Settings:
    """fast_settings with a billing queue, billing agents, a customers CSV and an `ivr:` section."""
    seed = tmp_path / "customers.csv"
    seed.write_text(
        "name,phones,account,language,vip,notes,balance\n"
        f"{CUSTOMER},+33611111111,{ACCOUNT},en,false,,{BALANCE}\n"
        "Bob Durand,+33622222222,300400,fr,true,,-3\n",
        encoding="utf-8",
    )
    base = fast_settings(tmp_path)  # agents, queues and the rest are replaced below
    simulator = base.simulator.model_dump(mode="json")
    simulator["dialplan"] = [str(ROOT / "asterisk" / "extensions_callserver.conf")] + [
        str(p) for p in extra_dialplan or []
    ]
    if entry_context is not None:
        simulator["entry_context"] = entry_context
    agents = [
        {
            "id": f"agent{i}",
            "name": f"Agent {i}",
            "login": f"agent{i}",
            "interface": f"PJSIP/{1000 + i}",
            "skills": {"support": 5, "billing": 5},
            "start_available": True,
            "password": PASSWORD,
        }
        for i in (1, 2)
    ]
    queues = [
        {"name": "support", "dnis": ["500"], "skills": ["support"], "max_wait": 10, "ring_timeout": 2},
        {"name": "billing", "skills": ["billing"], "max_wait": 10, "ring_timeout": 2},
    ]
    data = base.model_dump(mode="json", exclude={"ivr"})
    data.update(
        skills=["support", "billing"],
        agents=agents,
        queues=queues,
        customers={"seed_file": str(seed)},
        simulator=simulator,
        web_users=[{"login": "boss", "name": "The Supervisor", "password": PASSWORD}],
        ivr={"flows": {"main": FLOW}},
    )
    return parse_settings(data, "<ivr test settings>", env={})


@dataclass
class Rig:
    settings: Settings
    sim: PbxSimulator
    store: Store
    writer: FactWriter
    service: AcdService
    voicemail: VoicemailService
    synth: PromptSynth
    presence: IvrPresence
    bus: FactBus
    agi_commands: list[str] = field(default_factory=list)
    progress: list[IvrProgress] = field(default_factory=list)
    waiting: list[VoicemailWaiting] = field(default_factory=list)
    ivr_now: list[datetime] = field(default_factory=lambda: [OPEN])
    facts: list[object] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    server: CallServer | None = None

    def note(self, item: object, into: list[Any]) -> None:
        into.append(item)
        self.changed.set()

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checked after each fact, IVR step or mailbox change."""
        while not predicate():
            self.changed.clear()
            await self.changed.wait()

    @property
    def recordings_dir(self) -> Path:
        return self.settings.data_dir / "recordings"


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Rig]:
    """Simulator and server (the real composition root) up and resynchronised; all closed after."""
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    box: list[Rig] = []
    server = await start_server(
        settings,
        ivr_clock=lambda: box[0].ivr_now[0].timestamp(),
        on_ivr_progress=lambda p: box[0].note(p, box[0].progress),
        on_voicemail_waiting=lambda w: box[0].note(w, box[0].waiting),
    )
    assert server.voicemail is not None and server.synth is not None and server.ivr is not None
    rig = Rig(
        settings,
        sim,
        server.store,
        server.writer,
        server.service,
        server.voicemail,
        server.synth,
        server.ivr.presence,
        server.bus,
    )
    rig.server = server
    box.append(rig)
    unsubscribe = server.bus.subscribe(lambda fact: rig.note(fact, rig.facts))
    sim.pbx.listeners.append(lambda msg: _note_agi(rig.agi_commands, msg, rig.changed))
    try:
        await server.service.wait_for(lambda: server.service.resyncs > 0)
        yield rig
    finally:
        unsubscribe()
        await server.stop()
        await sim.stop()


def _note_agi(commands: list[str], msg: Any, changed: asyncio.Event) -> None:
    """Keep the AGI commands the simulated Asterisk executed (from its AGIExecStart events)."""
    fields = dict(msg) if isinstance(msg, list) else {}
    if fields.get("Event") == "AGIExecStart":
        commands.append(str(fields.get("Command", "")))
        changed.set()
