"""The PBX simulator's composition root: a stand-in for Asterisk 22 that the server reaches only
over TCP (AMI server here, FastAGI client towards the server), executing the deployed dialplan.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar

from callserver.config import PortInUse, Settings
from callserver.sim import dialplan as dp
from callserver.sim import messages as m
from callserver.sim.agi_client import run_agi
from callserver.sim.ami_actions import Actions
from callserver.sim.ami_inspect import Endpoints, Inspect
from callserver.sim.ami_server import AmiServer
from callserver.sim.apps import Runtime, Timing
from callserver.sim.executor import run_channel
from callserver.sim.manager_user import ManagerUser, parse_classes
from callserver.sim.model import Channel
from callserver.sim.pbx import Pbx
from callserver.sim.phones import Phones
from callserver.sim.traffic import CallerRecord, CallHandle, Traffic
from callserver.sounds.core import CORE_SOUNDS
from callserver.sounds.folder import sound_folder
from callserver.sounds.library import SoundLibrary

log = logging.getLogger("callserver.sim")
_T = TypeVar("_T")

STOP_GRACE = 2.0


class PbxSimulator:
    """Asterisk 22 as the server sees it; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        ami_host: str | None = None,
        ami_port: int | None = None,
        time_scale: float = 1.0,
        answer_time: float = 0.5,
        playback_time: float = 1.0,
        agi_host: str | None = None,
        agi_port: int | None = None,
        phone_context: str = "default",
        dialplan: dp.Dialplan | None = None,
        manager_read: str = "all",
    ) -> None:
        self.settings = settings
        self.time_scale = time_scale
        self.pbx = Pbx()
        self.tasks: set[asyncio.Task[None]] = set()
        self.rng = random.Random(settings.simulator.seed)
        self._dialplan = dialplan
        host = agi_host or settings.agi.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        self.agi_url = f"agi://{host}:{agi_port if agi_port is not None else settings.agi.port}"
        self._ami_host = ami_host or settings.ami.host
        self._ami_port = settings.ami.port if ami_port is None else ami_port
        self._timing = Timing(
            answer=answer_time * time_scale, playback=playback_time * time_scale, scale=time_scale
        )
        self._phone_context = phone_context
        self.manager_user = ManagerUser(read=parse_classes(manager_read))
        self.endpoints = Endpoints()  # the simulated pjsip.conf: agents' phones and the trunk
        for i, agent in enumerate(settings.agents):
            if agent.interface is not None and agent.interface.startswith("PJSIP/"):
                self.endpoints.add(agent.interface.removeprefix("PJSIP/"), 5070 + i)
        self.endpoints.add("trunk", 5080)
        self.rt: Runtime | None = None
        self.phones: Phones | None = None
        self.traffic: Traffic | None = None
        self.ami: AmiServer | None = None

    @property
    def ami_port(self) -> int:
        """The bound AMI port (useful with port 0)."""
        return self.ami.port if self.ami is not None else self._ami_port

    async def start(self) -> None:
        """Load the dialplan and listen for AMI clients."""
        plan = self._dialplan or dp.load(list(self.settings.simulator.dialplan))
        globals_ = dict(plan.globals)
        globals_["CALLSERVER_AGI"] = self.agi_url
        phones = Phones(self.settings, self.pbx, self.rng, self.time_scale, self._phone_context)
        rt = Runtime(
            self.pbx,
            plan,
            globals_,
            self._timing,
            agi=lambda ch, url: run_agi(rt, ch, url),
            dial=phones.dial,
            spawn=self.spawn,
            start_channel=lambda ch: self.spawn(run_channel(rt, ch), ch.name),
            sounds=SoundLibrary(CORE_SOUNDS, sound_folder(self.settings).asterisk_dir),
        )
        self.rt, self.phones = rt, phones
        self.traffic = Traffic(self.settings, rt, self.rng, self.time_scale, self.spawn)
        inspect = Inspect(rt, self.endpoints, self.manager_user, self.settings.ami.username)
        actions = Actions(rt, phones, cli=inspect.command_output, device_states=self.device_states)
        handlers = actions.table() | inspect.table()
        self.ami = AmiServer(self.settings.ami, handlers, self._ami_host, self._ami_port, self.manager_user)
        self.pbx.listeners.append(self.ami.broadcast)
        try:
            await self.ami.start()
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                # the simulator listens where the configuration puts Asterisk's AMI
                raise PortInUse("ami.port", self._ami_host, self._ami_port) from None
            raise
        log.info(
            "PBX simulator up: AMI on %s:%d, FastAGI to %s, %d contexts",
            self._ami_host,
            self.ami.port,
            self.agi_url,
            len(plan.contexts),
        )

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run a per-call task; failures are logged, never lost."""
        task = asyncio.create_task(coro, name=f"sim {name}")
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task %s failed", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        """Hang every call up, close every socket and wait for every task."""
        if self.traffic is not None:
            await self.traffic.close()
        for ch in list(self.pbx.channels.values()):
            self.pbx.soft_hangup(ch)
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        if self.ami is not None:
            await self.ami.stop()
            self.pbx.listeners.clear()
        log.info("PBX simulator stopped")

    # traffic and test hooks --------------------------------------------------------------------
    def start_traffic(self) -> None:
        self._need(self.traffic).start()

    def stop_traffic(self) -> None:
        """Stop new arrivals (calls in progress go on until they end or `stop()`)."""
        self._need(self.traffic).stop()

    def place_call(
        self,
        caller_num: str,
        dnis: str,
        *,
        patience: float | None = None,
        talk_time: float | None = None,
        digits: str = "",
        caller_name: str | None = None,
    ) -> CallHandle:
        """One caller dials `dnis`; await `handle.outcome()` for what happened to them."""
        return self._need(self.traffic).place_call(
            caller_num, dnis, patience=patience, talk_time=talk_time, digits=digits, caller_name=caller_name
        )

    async def wait_finished(self, count: int) -> None:
        """Wait until `count` simulated callers in total have hung up (wrap in a timeout)."""
        await self._need(self.traffic).wait_finished(count)

    def set_phone(
        self,
        interface: str,
        *,
        answer_delay: float | None = None,
        answers: bool | None = None,
        keys: str | None = None,
    ) -> None:
        """Override how the phone behind `interface` answers (seconds, not scaled) and what its
        user types when asked (`keys`; default `simulator.phones.accept_keys`)."""
        self._need(self.phones).set_phone(interface, answer_delay=answer_delay, answers=answers, keys=keys)

    def hangup_channel(self, handle: str, cause: int = 16) -> bool:
        """The far end of a channel (agent phone or caller) hangs up, or with a network `cause`
        (38: network out of order) the line is lost; False if no such channel."""
        ch = self.pbx.find(handle)
        if ch is None:
            return False
        self.pbx.remote_hangup(ch, cause)
        return True

    def pick_up(self, handle: str) -> bool:
        """The person at a ringing phone picks up now; False if no such channel."""
        ch = self.pbx.find(handle)
        if ch is None:
            return False
        ch.pick_up = True
        ch.poke()
        return True

    def set_reachable(self, interface: str, reachable: bool) -> None:
        """An agent's phone stops answering qualify (unplugged, Wi-Fi gone) or comes back.

        As Asterisk 22 does: a `ContactStatus` for its contact (class system) and a
        `DeviceStateChange` for the device (class call); meanwhile an Originate to it fails at once
        (Reason 0, no channel) and Dial() to it says CHANUNAVAIL.
        """
        phones = self._need(self.phones)
        if reachable:
            phones.unreachable.discard(interface)
        else:
            phones.unreachable.add(interface)
        name = interface.removeprefix("PJSIP/")
        endpoint = self.endpoints.by_name.get(name)
        if endpoint is not None:
            endpoint.reachable = reachable
            uri = endpoint.contact.split("/", 1)[1] if "/" in endpoint.contact else endpoint.contact
            self.pbx.emit(m.contact_status(uri, "Reachable" if reachable else "Unreachable", name, reachable))
        self.pbx.emit(m.device_state_change(interface, self._device_state(interface)))

    def device_states(self) -> list[tuple[str, str]]:
        """(device, state) of every endpoint, as `DeviceStateList` reports them."""
        return [
            (f"PJSIP/{name}", self._device_state(f"PJSIP/{name}")) for name in sorted(self.endpoints.by_name)
        ]

    def _device_state(self, device: str) -> str:
        endpoint = self.endpoints.by_name.get(device.removeprefix("PJSIP/"))
        if device in self._need(self.phones).unreachable or (
            endpoint is not None and (not endpoint.contact or not endpoint.reachable)
        ):
            return "UNAVAILABLE"
        busy = any(ch.name.startswith(device + "-") for ch in self.pbx.channels.values())
        return "INUSE" if busy else "NOT_INUSE"

    async def interrupt_ami(self, seconds: float) -> None:
        """AMI goes away for `seconds` (links dropped, connections refused) while calls go on."""
        ami = self._need(self.ami)
        await ami.stop()
        await asyncio.sleep(seconds)  # the length of the outage, not a poll
        await ami.start()

    async def restart_pbx(self, down_for: float = 0.5) -> None:
        """`core restart now`: the `Shutdown` event, then the process is gone: every channel dies
        with no Hangup, every AMI link drops; after `down_for` seconds AMI listens again with a
        fresh uptime (the callers were cut: their records say so)."""
        ami = self._need(self.ami)
        self.pbx.emit(m.shutdown_event(clean=not self.pbx.channels, restart=True))
        await ami.stop()
        for ch in list(self.pbx.channels.values()):
            self.pbx.vanish(ch)
        await asyncio.sleep(down_for)  # the time Asterisk takes to start again, not a poll
        self.pbx.started = time.time()
        ami.started = time.monotonic()
        await ami.start()
        log.info("PBX simulator restarted: AMI on %s:%d again", self._ami_host, ami.port)

    def channel(self, handle: str) -> Channel | None:
        return self.pbx.find(handle)

    def drop_ami_clients(self) -> None:
        """Cut every AMI connection; calls carry on and clients may reconnect."""
        self._need(self.ami).drop_clients()

    @property
    def records(self) -> list[CallerRecord]:
        return self.traffic.records if self.traffic is not None else []

    @property
    def counters(self) -> Counter[str]:
        return self.traffic.counters if self.traffic is not None else Counter()

    @property
    def dialplan_errors(self) -> list[str]:
        return self.rt.errors if self.rt is not None else []

    @property
    def warnings(self) -> list[str]:
        """What Asterisk would log as WARNING: sounds it has no file for, recordings it cannot write."""
        return self.rt.warnings if self.rt is not None else []

    @staticmethod
    def _need(part: _T | None) -> _T:
        if part is None:
            raise RuntimeError("PbxSimulator.start() has not been awaited")
        return part


async def run_simulator(
    settings: Settings, stop: asyncio.Event, *, ready: asyncio.Event | None = None
) -> None:
    """`callserver simulate`: serve AMI with configured traffic until `stop` is set."""
    sim = PbxSimulator(settings)
    await sim.start()
    try:
        sim.start_traffic()
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        await sim.stop()
