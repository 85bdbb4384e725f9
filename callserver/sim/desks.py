"""Simulated agents at their desks: what `make run` needs besides simulated phones.

A simulated phone answers calls, but a voicemail task has no phone to answer: a person listens to
the message, deals with it and closes it in the agent desktop. Without anyone doing that, every
agent given a task after hours stays on it for good. Each simulated desk logs in to the web API as
one agent (with the demo password from the configuration), follows the agent's live channel like
the browser does, and closes each voicemail task it is given after a handling time drawn from
`simulator.desks.voicemail_time` (seconds, scaled like the rest of the simulator).

Only agents with a plain-text (demo) password can be simulated; the others are left to people.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from typing import Any

import aiohttp

from callserver.config import AgentConfig, Settings

log = logging.getLogger("callserver.sim.desks")

CSRF = {"X-Callserver": "1"}
RETRY = 2.0  # seconds before a desk whose connection failed tries again


class SimulatedDesks:
    """One `Desk` per agent with a demo password; `start()` once the web front listens."""

    def __init__(self, settings: Settings, base_url: str, *, time_scale: float = 1.0) -> None:
        config = settings.simulator.desks
        self.enabled = config.enabled
        self.outcome = settings.web.outcome_codes[0] if settings.web.outcome_codes else "resolved"
        rng = random.Random(settings.simulator.seed)
        self.desks = [
            Desk(
                agent, base_url, self.outcome, config.voicemail_time, time_scale, random.Random(rng.random())
            )
            for agent in settings.agents
            if agent.password and not agent.password.startswith("$argon2")
        ]
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if not self.enabled or not self.desks:
            return
        self._session = aiohttp.ClientSession()
        for desk in self.desks:
            self._tasks.append(asyncio.create_task(desk.run(self._session), name=f"desk {desk.agent.id}"))
        log.debug(
            "simulated desks for %s close their voicemail tasks", ", ".join(d.agent.id for d in self.desks)
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def closed(self) -> int:
        """Voicemail tasks closed so far by every desk."""
        return sum(d.closed for d in self.desks)


class Desk:
    """One simulated agent working their voicemail tasks through the web API."""

    def __init__(
        self,
        agent: AgentConfig,
        base_url: str,
        outcome: str,
        handle_time: tuple[float, float],
        scale: float,
        rng: random.Random,
    ) -> None:
        self.agent = agent
        self.base = base_url.rstrip("/")
        self.outcome = outcome
        self.handle_time = handle_time
        self.scale = scale
        self.rng = rng
        self.closed = 0
        self._working: set[str] = set()
        self._jobs: set[asyncio.Task[None]] = set()

    async def run(self, http: aiohttp.ClientSession) -> None:
        """Log in, follow the live channel, reconnect after a failure; until cancelled."""
        try:
            while True:
                try:
                    await self._session(http)
                except (aiohttp.ClientError, OSError, ValueError) as err:
                    log.debug("desk %s: %s; trying again", self.agent.id, err)
                await asyncio.sleep(RETRY * self.scale)
        finally:
            for job in list(self._jobs):
                job.cancel()
            await asyncio.gather(*self._jobs, return_exceptions=True)

    async def _session(self, http: aiohttp.ClientSession) -> None:
        login = {"login": self.agent.login, "password": self.agent.password, "bearer": True}
        async with http.post(f"{self.base}/api/login", json=login, headers=CSRF) as resp:
            if resp.status != 200:
                raise ValueError(f"login refused ({resp.status})")
            token = (await resp.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with http.ws_connect(f"{self.base}/api/live", headers=headers, heartbeat=30.0) as ws:
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                self._on(http, headers, json.loads(message.data))

    def _on(self, http: aiohttp.ClientSession, headers: dict[str, str], frame: dict[str, Any]) -> None:
        kind, data = frame.get("type"), frame.get("data") or {}
        task_id: object = None
        if kind == "snapshot":
            me = data.get("me") or {}
            task_id = me.get("call_id") if me.get("state") == "on_call" else None
        elif kind == "call.answered" and data.get("agent_id") == self.agent.id:
            task_id = data.get("call_id")
        if isinstance(task_id, str) and task_id.startswith("vm-") and task_id not in self._working:
            self._working.add(task_id)
            job = asyncio.create_task(self._work(http, headers, task_id))
            self._jobs.add(job)
            job.add_done_callback(self._jobs.discard)

    async def _work(self, http: aiohttp.ClientSession, headers: dict[str, str], task_id: str) -> None:
        """Listen, deal with it, close it: a drawn handling time, then the close request."""
        try:
            await asyncio.sleep(self.rng.uniform(*self.handle_time) * self.scale)
            voicemail = task_id.removeprefix("vm-")
            async with http.post(
                f"{self.base}/api/voicemails/{voicemail}/close",
                json={"outcome": self.outcome},
                headers={**headers, **CSRF},
            ) as resp:
                if resp.status == 200:
                    self.closed += 1
                    log.debug("desk %s closed voicemail %s", self.agent.id, voicemail)
                else:
                    log.warning(
                        "desk %s could not close voicemail %s: %s", self.agent.id, voicemail, resp.status
                    )
        except (aiohttp.ClientError, OSError) as err:
            log.debug("desk %s: closing %s failed: %s", self.agent.id, task_id, err)
        finally:
            with contextlib.suppress(KeyError):
                self._working.remove(task_id)
