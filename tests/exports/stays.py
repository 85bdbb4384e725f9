"""Checks the data of a queue_log against the meaning the documentation gives each field: a caller's
hold, call and wait times are the time between its lines, positions are those it entered with."""

from __future__ import annotations

from dataclasses import dataclass

from .queue_log_reader import Line

ENDINGS = {"COMPLETECALLER", "COMPLETEAGENT", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
EXITS = {"ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"}


@dataclass
class Stay:
    queue: str
    entered: int
    position: int
    connected: Line | None = None
    ended: Line | None = None


def stays(lines: list[Line]) -> dict[str, list[Stay]]:
    """Each caller's stays in queues, checked line by line (AssertionError naming the line)."""
    found: dict[str, list[Stay]] = {}
    for line in lines:
        if line.event == "ENTERQUEUE":
            previous = found.get(line.callid, [])
            assert not previous or previous[-1].ended is not None, f"entered twice without leaving: {line}"
            found.setdefault(line.callid, []).append(Stay(line.queue, line.epoch, line.number("position")))
            continue
        if line.event not in ENDINGS | EXITS | {"CONNECT"}:
            continue
        stay = found[line.callid][-1]
        assert stay.ended is None, f"a line after the stay ended: {line}"
        assert line.queue == stay.queue, f"not the queue entered: {line}"
        if line.event == "CONNECT":
            assert stay.connected is None
            assert line.number("holdtime") == line.epoch - stay.entered, line
            stay.connected = line
        elif line.event in ENDINGS:
            assert stay.connected is not None, f"ended a call nobody answered: {line}"
            assert line.number("holdtime") == stay.connected.number("holdtime"), line
            assert line.number("calltime") == line.epoch - stay.connected.epoch, line
            assert line.number("origposition") == stay.position, line
            stay.ended = line
        else:
            assert stay.connected is None, f"left the queue after being answered: {line}"
            assert line.number("waittime") == line.epoch - stay.entered, line
            assert line.number("origposition") == stay.position, line
            assert line.number("position") >= 1, line
            stay.ended = line
    return found
