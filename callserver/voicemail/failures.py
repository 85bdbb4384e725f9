"""Messages that could not be recorded: counted per mailbox, for the log now and metrics later.

A failed `RECORD FILE` (recordings folder missing or not writable by Asterisk) leaves no message
and no task; the caller hears an apology and moves on. Those callers would otherwise vanish from
every figure, so each one is counted here (the composition root owns the single instance).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class RecordingFailures:
    """How many callers could not leave a message, in total and per mailbox (`queue:billing`)."""

    total: int = 0
    by_box: Counter[str] = field(default_factory=Counter)

    def record(self, box: str, call_id: str, recordings_dir: str) -> None:
        """Count one failure and log it with what to check."""
        self.total += 1
        self.by_box[box] += 1
        log.error(
            "voicemail for %s not recorded (call %s): RECORD FILE failed; check that %s exists and "
            "Asterisk can write to it (%d failed so far)",
            box,
            call_id,
            recordings_dir,
            self.total,
        )
