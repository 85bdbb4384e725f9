"""The voicemail repository on the main store: messages are kept, move only as the status table
allows, and are counted per mailbox (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callserver.store import Store
from callserver.voicemail.model import Mailbox, TransitionError, VoicemailStatus
from callserver.voicemail.store import VoicemailStore

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SUPPORT = Mailbox("queue", "support")


async def _leave(vms: VoicemailStore, call_id: str, box: Mailbox = SUPPORT, minutes: int = 0) -> int:
    vm = await vms.add(
        call_id=call_id,
        caller_num="+33140000001",
        caller_name="Ann",
        customer_id=None,
        box=box,
        queue=box.name if box.kind == "queue" else "",
        recorded_at=T0 + timedelta(minutes=minutes),
        duration=4.5,
        path=f"/var/spool/asterisk/callserver/{call_id}.wav",
        data={"product": "billing"},
    )
    return vm.id


async def test_a_message_is_kept_whole_and_found_by_id_and_by_call(store: Store) -> None:
    vms = VoicemailStore(store)
    vm_id = await _leave(vms, "1765.1")
    vm = await vms.get(vm_id)
    assert vm is not None
    assert (vm.call_id, vm.box, vm.status, vm.duration, vm.data) == (
        "1765.1",
        SUPPORT,
        VoicemailStatus.NEW,
        4.5,
        {"product": "billing"},
    )
    assert vm.recorded_at == T0
    assert [v.id for v in await vms.by_call("1765.1")] == [vm_id]
    assert await vms.get(vm_id + 100) is None


async def test_status_moves_follow_the_table_and_closed_messages_leave_the_open_list(store: Store) -> None:
    vms = VoicemailStore(store)
    first, second = await _leave(vms, "c1"), await _leave(vms, "c2", minutes=1)
    later = T0 + timedelta(hours=1)
    await vms.update(first, later, status=VoicemailStatus.ASSIGNED, agent_id="agent1")
    assert [v.id for v in await vms.open_items(agent_id="agent1")] == [first]
    assert await vms.waiting_count(SUPPORT) == 1
    done = await vms.update(first, later, status=VoicemailStatus.DONE, outcome="resolved")
    assert (done.status, done.outcome, done.agent_id) == (VoicemailStatus.DONE, "resolved", "agent1")
    with pytest.raises(TransitionError, match="from done to new"):
        await vms.update(first, later, status=VoicemailStatus.NEW)
    with pytest.raises(ValueError, match="cannot set"):
        await vms.update(second, later, box="agent:x")
    with pytest.raises(KeyError):
        await vms.update(second + 100, later, status=VoicemailStatus.ASSIGNED)
    assert [v.id for v in await vms.open_items()] == [second]


async def test_waiting_counts_are_per_mailbox(store: Store) -> None:
    vms = VoicemailStore(store)
    mine = Mailbox("agent", "agent1")
    await _leave(vms, "c1")
    await _leave(vms, "c2", mine)
    await _leave(vms, "c3", minutes=2)
    assert (await vms.waiting_count(SUPPORT), await vms.waiting_count(mine)) == (2, 1)
    assert await vms.waiting_count(Mailbox("queue", "sales")) == 0
