"""What a broken or hostile AMI peer can do to the log: a bounded number of lines, each free of raw
peer bytes, and a translator whose memory of reported problems does not grow with the garbage."""

from __future__ import annotations

import logging
import re

import pytest

from callserver.ami.adapter import AmiLink
from callserver.ami.translator import AmiTranslator
from callserver.pbx.events import ChannelCreated
from tests.ami.fake_ami import NEWCHANNEL, FakeAmi
from tests.ami.test_link import Recorder, fake, make_link  # noqa: F401 - fixtures

PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
GARBAGE = 3000


def _garbage(i: int) -> bytes:
    return b"\x1b[31m\x00\xff" + str(i).encode() + b" \xe9\xe8 no colon\r\n"


async def test_distinct_garbage_lines_give_a_bounded_number_of_clean_warnings(
    fake: FakeAmi,  # noqa: F811
    make_link,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    link: AmiLink
    events: Recorder
    link, events = make_link(fake.port)
    await link.start()
    with caplog.at_level(logging.WARNING, logger="callserver.ami"):
        fake.push(b"".join(_garbage(i) + b"\r\n" for i in range(GARBAGE)))
        fake.push(NEWCHANNEL)
        await events.next(ChannelCreated)
    lines = [r.getMessage() for r in caplog.records]
    print(f"{GARBAGE} distinct garbage AMI lines: {len(lines)} warning line(s)")
    assert 1 <= len(lines) <= 3
    assert all(PRINTABLE.match(line) for line in lines), lines
    assert link.connected


def test_translator_reports_each_kind_of_problem_once_and_remembers_a_bounded_amount(
    caplog: pytest.LogCaptureFixture,
) -> None:
    translator = AmiTranslator()
    hangup = {"Event": "Hangup", "Channel": "PJSIP/x", "Uniqueid": "1.1", "Linkedid": "1.1"}
    with caplog.at_level(logging.WARNING, logger="callserver.ami"):
        for i in range(GARBAGE):
            bad = {**hangup, "Cause": f"\x1b]0;{i}\x07\x00\xff", "Uniqueid": f"\x00{i}" * 50}
            assert translator.translate(bad) is None
    lines = [r.getMessage() for r in caplog.records]
    print(f"{GARBAGE} malformed Hangup events: {len(lines)} warning line(s)")
    assert len(lines) == 1
    assert PRINTABLE.match(lines[0]) and len(lines[0]) < 400
    assert translator.remembered() <= 64
