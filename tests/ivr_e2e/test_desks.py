"""After hours the IVR's callers leave messages and the ACD gives them to agents as tasks; the
simulated desks of `make run` close them like people would, so no agent stays stuck on a task."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callserver.acd.model import AgentState
from callserver.sim.desks import SimulatedDesks
from callserver.voicemail import VoicemailStatus

from .rig import BILLING_DNIS, CLOSED, ivr_settings, running

pytestmark = pytest.mark.slow

CALLERS = ("+33655500011", "+33655500012", "+33655500013")


async def test_simulated_desks_close_every_voicemail_task_and_agents_come_free(tmp_path: Path) -> None:
    base = ivr_settings(tmp_path)
    data = base.model_dump(mode="json")
    data["simulator"]["desks"] = {"voicemail_time": [0.2, 0.5]}
    settings = type(base).model_validate(data)
    async with running(settings) as rig:
        assert rig.server is not None
        rig.ivr_now[0] = CLOSED
        desks = SimulatedDesks(settings, f"http://127.0.0.1:{rig.server.web_port}")
        await desks.start()
        try:
            handles = [rig.sim.place_call(n, BILLING_DNIS, digits="1#", patience=10) for n in CALLERS]
            records = [await h.outcome(timeout=20) for h in handles]
            voicemails = [vm for r in records for vm in await rig.voicemail.store.by_call(r.uniqueid)]
            assert len(voicemails) == len(CALLERS)
            async with asyncio.timeout(30):
                for vm in voicemails:
                    await rig.voicemail.wait_for_status(vm.id, VoicemailStatus.DONE)
                await rig.service.wait_for(
                    lambda: all(a.state is AgentState.IDLE for a in rig.service.agents())
                )
        finally:
            await desks.stop()
    assert desks.closed == len(CALLERS)
