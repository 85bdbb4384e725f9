"""Publishes every ACD fact to MQTT, in order, at QoS 1, without ever holding up call handling.

The bus subscriber only appends to a bounded in-memory queue; one task drains it through aiomqtt
inside a reconnect loop with backoff. While the broker is away the queue fills and then drops its
oldest messages (counted and logged): a wallboard may miss history, the ACD never waits for it.
A message is removed from the queue only after the broker acknowledged it, so a connection lost
mid-publish means that message is sent again (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable

import aiomqtt

from callserver.config import MqttConfig
from callserver.facts.bus import FactBus
from callserver.facts.model import Fact
from callserver.mqtt.topics import VERSION, message_for, topic_part

log = logging.getLogger("callserver.mqtt")


class MqttPublisher:
    def __init__(
        self,
        config: MqttConfig,
        bus: FactBus,
        *,
        queue_size: int = 10_000,
        reconnect_min: float = 0.5,
        reconnect_max: float = 30.0,
        publish_timeout: float = 5.0,
        outage_log_every: float = 60.0,
    ) -> None:
        self.config = config
        self._bus = bus
        self._pending: deque[tuple[str, bytes]] = deque()
        self._queue_size = queue_size
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._publish_timeout = publish_timeout
        self._outage_log_every = outage_log_every
        self._identifier = f"callserver-{config.site}-{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.dropped = 0
        self.published = 0
        self.connected = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._unsubscribe = self._bus.subscribe(self.submit)
        self._task = asyncio.create_task(self._run(), name="mqtt-publisher")

    async def stop(self, flush_timeout: float = 1.0) -> None:
        """Stop following facts; give queued messages `flush_timeout` seconds to go out, then quit."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is None:
            return
        if self._pending and self.connected.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(flush_timeout):
                    await self._empty.wait()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    # -- input (from the bus, synchronous) ----------------------------------------------------

    def submit(self, fact: Fact) -> None:
        self._enqueue(message_for(fact, self.config.topic_prefix, self.config.site))

    def voicemail_waiting(self, box: str, new: int, at: float) -> None:
        """Message-waiting indication for a mailbox: `<prefix>/<site>/voicemail/<box>/waiting`."""
        prefix, site = topic_part(self.config.topic_prefix), topic_part(self.config.site)
        payload = {"v": VERSION, "event": "waiting", "at": at, "box": box, "new": new}
        self._enqueue((f"{prefix}/{site}/voicemail/{topic_part(box)}/waiting", json.dumps(payload).encode()))

    def _enqueue(self, message: tuple[str, bytes]) -> None:
        if len(self._pending) >= self._queue_size:
            self._pending.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("MQTT broker away too long: %d message(s) dropped so far", self.dropped)
        self._pending.append(message)
        self._empty.clear()
        self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._pending)

    # -- the sending task --------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self._reconnect_min
        down_since: float | None = None
        last_report = 0.0
        while True:
            try:
                async with aiomqtt.Client(
                    self.config.host,
                    self.config.port,
                    identifier=self._identifier,
                    timeout=self._publish_timeout,
                ) as client:
                    if down_since is not None:
                        log.info(
                            "MQTT broker back after %.0fs; %d queued",
                            time.monotonic() - down_since,
                            len(self._pending),
                        )
                    down_since, delay = None, self._reconnect_min
                    self.connected.set()
                    await self._drain(client)
            except aiomqtt.MqttError as err:
                self.connected.clear()
                now = time.monotonic()
                if down_since is None:
                    down_since, last_report = now, now
                    log.warning(
                        "MQTT broker %s:%s unreachable (%s); retrying",
                        self.config.host,
                        self.config.port,
                        err,
                    )
                elif now - last_report >= self._outage_log_every:
                    last_report = now
                    log.warning(
                        "MQTT broker still unreachable after %.0fs; %d queued, %d dropped",
                        now - down_since,
                        len(self._pending),
                        self.dropped,
                    )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max)

    async def _drain(self, client: aiomqtt.Client) -> None:
        while True:
            while self._pending:
                head = self._pending[0]
                await client.publish(head[0], head[1], qos=1, timeout=self._publish_timeout)
                # if the queue overflowed while we waited, the head was dropped and a newer one is there
                if self._pending and self._pending[0] is head:
                    self._pending.popleft()
                self.published += 1
            self._empty.set()
            self._wake.clear()
            await self._wake.wait()
