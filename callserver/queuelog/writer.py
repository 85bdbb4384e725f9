"""The `queue_log` file, appended to as facts arrive: the I/O side of the mapper.

Each fact's lines go to the operating system in one `write` on an `O_APPEND` descriptor as they are
made (Asterisk's logger flushes each line too), so a reader tailing the file sees them at once; no
Python file object sits between (its encoder, buffer and flush cost half as much again as the
system call). With `fsync: always` they are also forced to disk, at the cost of a disk write per
fact on the event loop. Log rotation is safe: before each write the path is checked, and when
logrotate (or a person) moved or removed the file a new one is opened at the path. A line that
cannot be written is logged and dropped; the database still holds the facts, so the on-demand
export (`callserver queue-log`, `GET /api/queue-log`) can give it back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from callserver.facts.model import Fact

from .mapper import QueueLogMapper

log = logging.getLogger("callserver.queuelog")


class QueueLogFile:
    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._failing = False

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        stat = os.fstat(fd)
        self._fd, self._identity = fd, (stat.st_dev, stat.st_ino)

    def open_at_start(self) -> None:
        """Open now, so a path that cannot be written is reported at start-up, not at the first call."""
        try:
            self.open()
        except OSError as err:
            log.error("queue_log: cannot open %s (%s); the database keeps the facts", self.path, err)
            self._failing = True

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def _rotated(self) -> bool:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return True
        return (stat.st_dev, stat.st_ino) != self._identity

    def write(self, *lines: str) -> None:
        """Append lines (without their newlines) in one write, reopening the path first if it was
        rotated: a fact's lines (a call's end may have several) cost one check and one write."""
        try:
            if self._fd is None or self._rotated():
                self.close()
                self.open()
            assert self._fd is not None
            data = "".join([line + "\n" for line in lines]).encode()
            written = os.write(self._fd, data)
            while written < len(data):  # a regular file takes it all, short of a full disk
                data = data[written:]
                written = os.write(self._fd, data)
            if self.fsync:
                os.fsync(self._fd)
        except OSError as err:
            if not self._failing:
                log.error("queue_log: cannot write %s (%s); the database keeps the facts", self.path, err)
            self._failing = True
            self.close()
            return
        if self._failing:
            log.info("queue_log: writing %s again", self.path)
            self._failing = False


class QueueLogWriter:
    """A fact-bus subscriber: each fact's entries, appended to the file."""

    def __init__(self, mapper: QueueLogMapper, file: QueueLogFile) -> None:
        self.mapper = mapper
        self.file = file

    def prime(self, facts: Iterable[Fact]) -> None:
        """Facts from before this process started (today's, from the database): they give the
        mapper its state (who waits where, who is paused) and write nothing; their lines are in the
        file already."""
        for fact in facts:
            self.mapper.on_fact(fact)

    def on_fact(self, fact: Fact) -> None:
        entries = self.mapper.on_fact(fact)
        if entries:
            self.file.write(*(entry.line() for entry in entries))
