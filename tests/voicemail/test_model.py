"""The voicemail status table, tested directly: every allowed change passes, every other is named."""

from __future__ import annotations

import itertools

import pytest

from callserver.voicemail.model import (
    ALLOWED,
    Mailbox,
    TransitionError,
    VoicemailStatus,
    check_transition,
    task_id_of,
    voicemail_id_of,
)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(VoicemailStatus, VoicemailStatus)))
def test_only_listed_status_changes_are_allowed(old: VoicemailStatus, new: VoicemailStatus) -> None:
    if new in ALLOWED[old]:
        check_transition(7, old, new)
    else:
        with pytest.raises(TransitionError, match=f"voicemail 7: cannot go from {old.value} to {new.value}"):
            check_transition(7, old, new)


def test_a_closed_voicemail_never_reopens() -> None:
    assert ALLOWED[VoicemailStatus.DONE] == frozenset()


def test_mailbox_addresses_round_trip_and_bad_ones_are_refused() -> None:
    assert str(Mailbox.parse("queue:billing")) == "queue:billing"
    assert Mailbox.parse("agent:agent1").kind == "agent"
    for bad in ("billing", "team:x", "queue:"):
        with pytest.raises(ValueError, match="is not a mailbox"):
            Mailbox.parse(bad)


def test_task_ids_name_their_voicemail_and_nothing_else() -> None:
    assert voicemail_id_of(task_id_of(42)) == 42
    assert voicemail_id_of("1795435049.0") is None
    assert voicemail_id_of("vm-x") is None
