"""The `voicemail` FastAGI script, run by `[callserver-voicemail]` for a caller the ACD sends to a
mailbox (a queue's overflow or no-agents destination): record the message, then deposit it.

The recording is a one-node IVR flow played by the IVR runner, so beep, maximum length, silence
detection and "a hang-up keeps the message" behave exactly as for a `voicemail` node. When nothing
could be recorded there is no message and no task: the caller hears the apology, then goodbye
(the ACD already let the call go to the mailbox, so no queue can take it back), and the failure
is counted.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from callserver.agi.session import AgiHangup, AgiSession, inbound_call
from callserver.ivr.actions import ToVoicemail
from callserver.ivr.model import FlowConfig
from callserver.ivr.runner import FilePrompts, OwnPromptNames, run_flow
from callserver.pbx.dialplan import Var
from callserver.sounds import names
from callserver.voicemail.failures import RecordingFailures
from callserver.voicemail.model import Mailbox
from callserver.voicemail.service import VoicemailService

log = logging.getLogger(__name__)

INTRO = names.VM_INTRO  # Asterisk's "please leave your message after the tone..."


def mailbox_of(target: str) -> Mailbox:
    """`CS_VOICEMAIL` as a mailbox: `queue:x`, `agent:y`, or a bare queue name."""
    return Mailbox.parse(target if ":" in target else f"queue:{target}")


class VoicemailScript:
    def __init__(
        self,
        service: VoicemailService,
        *,
        recordings_dir: str,
        max_length: float = 120.0,
        silence: float = 5.0,
        intro: str = INTRO,
        sounds: OwnPromptNames | None = None,
        language: str = "en",
        failures: RecordingFailures | None = None,
    ) -> None:
        self.service = service
        self.recordings_dir = recordings_dir
        self.max_length = max_length
        self.silence = silence
        self.intro = intro
        self.sounds = sounds
        self.language = language
        self.failures = failures if failures is not None else RecordingFailures()

    async def __call__(self, session: AgiSession) -> None:
        call = inbound_call(session)
        try:
            target = await session.get_variable(Var.VOICEMAIL)
        except AgiHangup:
            return
        try:
            box = mailbox_of(target or "")
        except ValueError:
            log.error("voicemail for %s: CS_VOICEMAIL %r is not a mailbox", call.uniqueid, target)
            return
        result = await run_flow(
            session,
            self._flow(box),
            lookup=_nobody,
            prompts=FilePrompts(sounds=self.sounds),
            now=lambda: datetime.now(UTC),
            name="voicemail",
            recordings_dir=self.recordings_dir,
        )
        if result.recording_failed:
            self.failures.record(str(box), call.uniqueid, self.recordings_dir)
        elif isinstance(result.action, ToVoicemail):
            await self.service.deposit(
                call, str(box), result.action.recording, ivr_data={}, acd_data={}, customer_id=None
            )
        with contextlib.suppress(AgiHangup):
            await session.hangup()

    def _flow(self, box: Mailbox) -> FlowConfig:
        node = {
            "type": "voicemail",
            box.kind: box.name,
            "prompt": {"file": self.intro},
            "max_length": self.max_length,
            "silence": self.silence,
            "on_failure": "goodbye",
        }
        goodbye = {"type": "hangup", "prompt": {"file": names.VM_GOODBYE}, "reason": "voicemail not recorded"}
        return FlowConfig.model_validate(
            {"language": self.language, "start": "record", "nodes": {"record": node, "goodbye": goodbye}}
        )


async def _nobody(by: str, value: str) -> Sequence[Mapping[str, object]]:
    return ()
