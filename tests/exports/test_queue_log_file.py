"""The queue_log file: appended line by line, readable at once, and reopened after log rotation."""

from __future__ import annotations

from pathlib import Path

from callserver.facts.model import AgentStatusChanged
from callserver.queuelog.mapper import QueueLogMapper
from callserver.queuelog.writer import QueueLogFile, QueueLogWriter

from .queue_log_reader import parse

T = 1_700_000_000.0


def writer(path: Path, *, fsync: bool = False) -> QueueLogWriter:
    return QueueLogWriter(QueueLogMapper({"a1": ["support"]}), QueueLogFile(path, fsync=fsync))


def test_each_line_is_in_the_file_as_soon_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "queue_log"
    log = writer(path, fsync=True)
    log.file.open_at_start()
    log.on_fact(AgentStatusChanged("a1", T, "available", ""))
    assert [line.event for line in parse(path.read_text())] == ["ADDMEMBER"]  # not closed, not flushed
    log.on_fact(AgentStatusChanged("a1", T + 1, "paused", "lunch"))
    assert [line.event for line in parse(path.read_text())] == ["ADDMEMBER", "PAUSEALL", "PAUSE"]
    log.file.close()


def test_a_rotated_file_is_left_alone_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    log = writer(path)
    log.on_fact(AgentStatusChanged("a1", T, "available", ""))
    path.rename(tmp_path / "queue_log.1")  # what logrotate does, without copytruncate
    log.on_fact(AgentStatusChanged("a1", T + 1, "logged_out", ""))
    assert [line.event for line in parse((tmp_path / "queue_log.1").read_text())] == ["ADDMEMBER"]
    assert [line.event for line in parse(path.read_text())] == ["REMOVEMEMBER"]
    path.unlink()  # removed outright: started again too
    log.on_fact(AgentStatusChanged("a1", T + 2, "available", ""))
    assert [line.event for line in parse(path.read_text())] == ["ADDMEMBER"]
    log.file.close()


def test_an_unwritable_path_stops_no_call_and_writing_resumes_once_it_can(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the folder should be")
    log = writer(blocker / "queue_log")
    log.file.open_at_start()  # logged, not raised: calls go on
    log.on_fact(AgentStatusChanged("a1", T, "available", ""))
    blocker.unlink()
    log.on_fact(AgentStatusChanged("a1", T + 1, "logged_out", ""))
    assert [line.event for line in parse((blocker / "queue_log").read_text())] == ["REMOVEMEMBER"]
    log.file.close()


def test_priming_builds_state_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    log = writer(path)
    log.prime([AgentStatusChanged("a1", T, "available", "")])
    log.on_fact(AgentStatusChanged("a1", T + 1, "paused", "lunch"))
    assert [line.event for line in parse(path.read_text())] == ["PAUSEALL", "PAUSE"]  # not a new ADDMEMBER
    log.file.close()
