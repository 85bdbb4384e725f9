"""An independent reader of Asterisk's queue_log, written from the documented layout (Asterisk's
queue log documentation and app_queue's calls to its logger), to check what callserver writes.

It shares no code with callserver: a line is `epoch|callid|queuename|agent|event` then the event's
own data fields, each verb with a fixed count and meaning; anything else is an error naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass

# the data fields of each verb, in order; INT marks a field that must be a whole number
INT = "int"
LAYOUT: dict[str, tuple[tuple[str, str], ...]] = {
    "ENTERQUEUE": (("url", "text"), ("callerid", "text"), ("position", INT)),
    "RINGNOANSWER": (("ringtime_ms", INT),),
    "RINGCANCELED": (("ringtime_ms", INT),),
    "CONNECT": (("holdtime", INT), ("bridged_uniqueid", "text"), ("ringtime", INT)),
    "COMPLETECALLER": (("holdtime", INT), ("calltime", INT), ("origposition", INT)),
    "COMPLETEAGENT": (("holdtime", INT), ("calltime", INT), ("origposition", INT)),
    "ABANDON": (("position", INT), ("origposition", INT), ("waittime", INT)),
    "EXITWITHTIMEOUT": (("position", INT), ("origposition", INT), ("waittime", INT)),
    "EXITEMPTY": (("position", INT), ("origposition", INT), ("waittime", INT)),
    "EXITWITHKEY": (("key", "text"), ("position", INT), ("origposition", INT), ("waittime", INT)),
    "BLINDTRANSFER": (
        ("extension", "text"),
        ("context", "text"),
        ("holdtime", INT),
        ("calltime", INT),
        ("origposition", INT),
    ),
    "ATTENDEDTRANSFER": (
        ("method", "text"),
        ("target", "text"),
        ("holdtime", INT),
        ("calltime", INT),
        ("origposition", INT),
    ),
    "ADDMEMBER": (("paused", "text"),),
    "REMOVEMEMBER": (("empty", "text"),),
    "PAUSE": (("reason", "text"),),
    "UNPAUSE": (("reason", "text"),),
    "PAUSEALL": (("reason", "text"),),
    "UNPAUSEALL": (("empty", "text"),),
    # QueueMetrics' own verbs
    "DID": (("did", "text"),),
    "CALLSTATUS": (("status", "text"),),
    "INFO": (("key", "text"), ("value", "text")),
    "CALLERONHOLD": (("empty", "text"),),
    "CALLEROFFHOLD": (("held", INT),),
}


@dataclass(frozen=True)
class Line:
    epoch: int
    callid: str
    queue: str
    agent: str
    event: str
    data: dict[str, str]

    def number(self, name: str) -> int:
        return int(self.data[name])


def parse_line(text: str, where: str = "line") -> Line:
    fields = text.split("|")
    if len(fields) < 6:
        raise ValueError(f"{where}: {len(fields)} fields, a queue_log line has at least 6: {text!r}")
    epoch, callid, queue, agent, event, *data = fields
    if not epoch.isdigit():
        raise ValueError(f"{where}: the time {epoch!r} is not Unix seconds")
    if event not in LAYOUT:
        raise ValueError(f"{where}: unknown event {event!r}")
    layout = LAYOUT[event]
    if len(data) != len(layout):
        raise ValueError(
            f"{where}: {event} has {len(data)} data fields, the layout says {len(layout)}: {text!r}"
        )
    for (name, kind), value in zip(layout, data, strict=True):
        if kind == INT and not value.lstrip("-").isdigit():
            raise ValueError(f"{where}: {event} {name} {value!r} is not a whole number")
    for value in (callid, queue, agent):
        if not value:
            raise ValueError(f"{where}: empty callid, queue or agent: {text!r}")
    return Line(
        int(epoch), callid, queue, agent, event, {n: v for (n, _k), v in zip(layout, data, strict=True)}
    )


def parse(text: str) -> list[Line]:
    """Every line of a queue_log file; it must end with a newline."""
    if text and not text.endswith("\n"):
        raise ValueError("the last line has no newline")
    return [parse_line(line, f"line {n}") for n, line in enumerate(text.splitlines(), 1)]
