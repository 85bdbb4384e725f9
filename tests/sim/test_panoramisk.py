"""The AMI client the server uses (panoramisk) works against the simulator unchanged."""

from __future__ import annotations

import asyncio

from panoramisk import Manager

from callserver.sim import PbxSimulator


async def test_panoramisk_logs_in_lists_channels_and_originates(sim: PbxSimulator) -> None:
    sim.set_phone("PJSIP/1001", answers=False)
    logged_in = asyncio.Event()
    manager = Manager(
        host="127.0.0.1",
        port=sim.ami_port,
        username="callserver",
        secret="callserver",
        ping_delay=0,
        on_login=lambda _m: logged_in.set(),
    )
    try:
        await manager.connect()
        async with asyncio.timeout(5):
            await logged_in.wait()
            pong = await manager.send_action({"Action": "Ping"})
            assert pong.ping == "Pong"
            channels = await manager.send_action({"Action": "CoreShowChannels"})
            assert channels[-1].event == "CoreShowChannelsComplete"
            result = await manager.send_action(
                {
                    "Action": "Originate",
                    "Channel": "PJSIP/1001",
                    "Context": "callserver-agent-bridge",
                    "Exten": "s",
                    "Priority": "1",
                    "Timeout": "100",
                    "Async": "true",
                }
            )
            assert result[-1].event == "OriginateResponse" and result[-1].reason == "3"
    finally:
        manager.close()
