"""Reader for the recorded Asterisk transcripts in ../shared/ami-traces (reusable by any test).

`*.ami.log` files are records `# +<seconds> <TAG>` followed by the exact wire bytes; this module
drops the record headers and NOTE records and returns the AMI messages, parsed with the same
wire parser the live link uses.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

from callserver.ami.wire import Frame, parse_message

_RECORD = re.compile(rb"^# \+([0-9.]+) ([A-Z]+)\r?\n", re.MULTILINE)


def traces_dir() -> Path | None:
    """$CALLSERVER_TRACES, else ../shared/ami-traces beside the repository; None if absent."""
    env = os.environ.get("CALLSERVER_TRACES")
    candidate = Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "ami-traces"
    return candidate.resolve() if candidate.is_dir() else None


def ami_logs(directory: Path) -> list[Path]:
    """Every raw AMI transcript, the gzip one included, in name order."""
    return sorted([*directory.glob("*.ami.log"), *directory.glob("*.ami.log.gz")])


@dataclass(frozen=True, slots=True)
class Record:
    at: float
    tag: str  # BANNER, RECV, SENT, NOTE, CLOSED
    data: bytes


def read_records(path: Path) -> list[Record]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    heads = list(_RECORD.finditer(raw))
    records = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(raw)
        records.append(Record(float(head[1]), head[2].decode(), raw[head.end() : end]))
    return records


def split_messages(data: bytes) -> list[str]:
    """Cut a wire byte stream into AMI messages at blank lines."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    return [chunk for chunk in text.split("\n\n") if chunk.strip()]


def wire_stream(path: Path, tag: str = "RECV") -> bytes:
    """The pure bytes in one direction (RECV: what Asterisk sent), record headers and NOTEs gone."""
    return b"".join(r.data for r in read_records(path) if r.tag == tag)


def messages(path: Path, tag: str = "RECV") -> list[Frame]:
    """Every message Asterisk sent (tag RECV) or the client sent (SENT), parsed."""
    return [parse_message(m) for m in split_messages(wire_stream(path, tag))]
