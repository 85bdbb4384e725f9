"""One `queue_log` line: the verbs callserver writes and the text layout Asterisk's logger uses.

Asterisk writes `epoch|callid|queuename|agent|event|data` where `data` is the verb's own fields
joined by `|`; a verb without data still ends with the `|` that opens its (empty) data. Fields are
free text to Asterisk, so a `|` or a line break inside a value would shift every reader's columns:
they are replaced here, as Asterisk does for caller names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

NONE = "NONE"  # Asterisk's word for "no call" / "no queue" / "no agent"
MANAGER = "MANAGER"  # the callid Asterisk writes for member changes made over AMI


class Verb(StrEnum):
    """The verbs callserver writes: app_queue's own, then those QueueMetrics adds."""

    ENTERQUEUE = "ENTERQUEUE"  # url|callerid|position
    RINGNOANSWER = "RINGNOANSWER"  # ringtime in milliseconds
    RINGCANCELED = "RINGCANCELED"  # ringtime in milliseconds (the caller left while it rang)
    CONNECT = "CONNECT"  # holdtime|bridged uniqueid|ringtime
    COMPLETECALLER = "COMPLETECALLER"  # holdtime|calltime|origposition
    COMPLETEAGENT = "COMPLETEAGENT"  # holdtime|calltime|origposition
    ABANDON = "ABANDON"  # position|origposition|waittime
    EXITWITHTIMEOUT = "EXITWITHTIMEOUT"  # position|origposition|waittime
    EXITWITHKEY = "EXITWITHKEY"  # key|position|origposition|waittime
    BLINDTRANSFER = "BLINDTRANSFER"  # extension|context|holdtime|calltime|origposition
    ATTENDEDTRANSFER = "ATTENDEDTRANSFER"  # BRIDGE|target|holdtime|calltime|origposition
    ADDMEMBER = "ADDMEMBER"  # "PAUSED" or empty
    REMOVEMEMBER = "REMOVEMEMBER"  # empty
    PAUSE = "PAUSE"  # reason
    UNPAUSE = "UNPAUSE"  # reason (empty)
    PAUSEALL = "PAUSEALL"  # reason
    UNPAUSEALL = "UNPAUSEALL"  # empty
    # read by QueueMetrics, written by its tools or a dialplan's QueueLog()
    DID = "DID"  # the number the caller dialled, just before ENTERQUEUE
    CALLSTATUS = "CALLSTATUS"  # the agent's outcome code for the call
    INFO = "INFO"  # key|value: what else is known about the call
    CALLERONHOLD = "CALLERONHOLD"  # empty
    CALLEROFFHOLD = "CALLEROFFHOLD"  # seconds the caller was held


@dataclass(frozen=True, slots=True)
class Entry:
    """One line; `at` is whole Unix seconds, as Asterisk's `time(NULL)`."""

    at: int
    callid: str
    queue: str
    agent: str
    verb: Verb
    data: tuple[str, ...] = ()

    def line(self) -> str:
        """The line as Asterisk's logger writes it, without the newline (the epoch and the verb
        need no cleaning: a number and one of ours)."""
        t = _CLEANED
        data = "|".join([v.translate(t) for v in self.data])
        return (
            f"{self.at}|{self.callid.translate(t)}|{self.queue.translate(t)}|{self.agent.translate(t)}|"
            f"{self.verb.value}|{data}"
        )


# `|` becomes `_` (as app_queue does for caller names), line breaks and other control characters a
# space; one C-level pass (`str.translate`) rather than a Python step per character, which was
# most of the cost of a queue_log line
_CLEANED = str.maketrans({**{chr(c): " " for c in range(32)}, "\x7f": " ", "|": "_"})


def clean(value: str) -> str:
    """A value that cannot break the line."""
    return value.translate(_CLEANED)
