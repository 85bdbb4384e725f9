"""The PBX's own view of its channels: one short AMI session straight to the simulator (not through
the relay the soak cuts): login with events off, `CoreShowChannels`, close. A fresh connection each
time, so a restarted simulator needs no reconnect logic here."""

from __future__ import annotations

import asyncio
import itertools

from callserver.ami.wire import encode_action, parse_message
from callserver.config import AmiConfig

_ids = itertools.count(1)


async def pbx_channels(ami: AmiConfig, port: int, timeout: float = 10.0) -> list[str]:
    """Names of every channel the PBX has now."""
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            await reader.readline()  # banner
            login = [("Username", ami.username), ("Secret", ami.secret), ("Events", "off")]
            writer.write(encode_action("Login", f"soak-{next(_ids)}", login))
            reply = parse_message((await reader.readuntil(b"\r\n\r\n")).decode())
            if reply.headers.get("Response") != "Success":
                raise RuntimeError(f"AMI login refused: {reply.headers}")
            action_id = f"soak-{next(_ids)}"
            writer.write(encode_action("CoreShowChannels", action_id, []))
            channels: list[str] = []
            while True:
                frame = parse_message((await reader.readuntil(b"\r\n\r\n")).decode())
                if frame.headers.get("ActionID") != action_id:
                    continue
                event = frame.headers.get("Event")
                if event == "CoreShowChannel":
                    channels.append(frame.headers.get("Channel", ""))
                elif event == "CoreShowChannelsComplete":
                    return channels
                elif frame.headers.get("Response") == "Error":
                    raise RuntimeError(f"CoreShowChannels refused: {frame.headers}")
        finally:
            writer.close()
