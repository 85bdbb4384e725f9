"""The customers CSV format, read and written: the seed file, `callserver customers import|export`
and the API's import and export all go through here, so they accept and produce the same thing.

Columns (header row, any order, names case-insensitive): `name` and `phones` are required;
`account`, `language`, `vip`, `notes`, `email` are optional; a column named like one of the
configured extra fields (`customers.fields`: a balance, a payment plan) is read as that field, of
its type; other columns are ignored. Several phones are separated by `;` or
`|`. Every problem names its line and column, so a file of thousands of rows can be fixed in one
pass: the reader reports them all instead of stopping at the first.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from callserver.store.fieldtypes import FieldValueError, canonical
from callserver.store.phones import PhoneError, to_e164
from callserver.store.records import CustomerRecord

REQUIRED = ("name", "phones")
COLUMNS = ("name", "phones", "account", "language", "vip", "notes", "email")  # export order
_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2})?$")
_TRUE = {"1", "true", "yes", "y", "vip"}
_FALSE = {"", "0", "false", "no", "n"}
_PHONE_SPLIT = re.compile(r"[;|]")
LIMITS = {"name": 200, "account": 64, "email": 254, "notes": 4000}


@dataclass(frozen=True, slots=True)
class CsvProblem:
    """One fault in a file: where (line, column number and name) and what."""

    line: int
    column: int | None
    field: str | None
    message: str

    def text(self, source: str) -> str:
        if self.line == 0:  # the file as a whole (it cannot be read)
            return f"{source}: {self.message}"
        if self.column is None:
            return f"{source}:{self.line}: {self.message}"
        return f"{source}:{self.line}:{self.column}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One valid line of a customers file; phones are (E.164, as written)."""

    line: int
    name: str
    phones: tuple[tuple[str, str], ...]
    account: str | None
    language: str | None
    vip: bool
    notes: str
    email: str | None
    extra: tuple[tuple[str, str], ...] = ()  # (field, canonical value) of the configured extra fields


@dataclass(slots=True)
class CsvRead:
    rows: list[CustomerRow]
    problems: list[CsvProblem]

    def messages(self, source: str) -> list[str]:
        return [p.text(source) for p in self.problems]


def read_csv(
    handle: TextIO,
    region: str | None,
    *,
    on_line: Callable[[int], None] | None = None,
    extra: Mapping[str, str] | None = None,
) -> CsvRead:
    """Every row of `handle` checked; `on_line(n)` is told of each line read (progress bars);
    `extra` names the configured extra fields and their types (an empty cell leaves one as it is)."""
    out = CsvRead([], [])
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as err:
        out.problems.append(CsvProblem(1, None, None, f"unreadable CSV: {err}"))
        return out
    if header is None:
        out.problems.append(CsvProblem(1, None, None, "empty file: expected a header row"))
        return out
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        out.problems.append(CsvProblem(1, None, None, f"missing column(s) {', '.join(missing)}"))
        return out
    where = {name: i for i, name in reversed(list(enumerate(names)))}
    extra_columns = {name: kind for name, kind in (extra or {}).items() if name in where}
    try:
        for record in reader:
            line = reader.line_num
            if on_line is not None:
                on_line(line)
            if not any(cell.strip() for cell in record):
                continue  # blank lines are not customers
            if len(record) > len(names):
                out.problems.append(
                    CsvProblem(
                        line, len(names) + 1, "(extra)", f"{len(record)} fields, the header has {len(names)}"
                    )
                )
                continue
            row = _row(line, record, where, region, out.problems, extra_columns)
            if row is not None:
                out.rows.append(row)
    except (csv.Error, UnicodeDecodeError) as err:
        out.problems.append(CsvProblem(reader.line_num, None, None, f"unreadable CSV: {err}"))
    return out


def read_path(
    path: Path,
    region: str | None,
    *,
    on_line: Callable[[int], None] | None = None,
    extra: Mapping[str, str] | None = None,
) -> CsvRead:
    """`read_csv` on a file; an unreadable file is one problem on line 0."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as err:
        return CsvRead([], [CsvProblem(0, None, None, f"cannot read file: {err.strerror}")])
    with handle:
        return read_csv(handle, region, on_line=on_line, extra=extra)


def _row(
    line: int,
    record: list[str],
    where: dict[str, int],
    region: str | None,
    problems: list[CsvProblem],
    extra: Mapping[str, str],
) -> CustomerRow | None:
    def cell(name: str) -> str:
        i = where.get(name)
        return record[i].strip() if i is not None and i < len(record) else ""

    before = len(problems)

    def bad(name: str, message: str) -> None:
        problems.append(CsvProblem(line, where[name] + 1, name, message))

    name = cell("name")
    if not name:
        bad("name", "is empty")
    phones: list[tuple[str, str]] = []
    for raw in (p.strip() for p in _PHONE_SPLIT.split(cell("phones"))):
        if not raw:
            continue
        try:
            number = to_e164(raw, region)
        except PhoneError as err:
            bad("phones", str(err))
            continue
        if number not in (n for n, _ in phones):
            phones.append((number, raw))
    if not phones and len(problems) == before:
        bad("phones", "no phone number")
    vip = cell("vip").lower()
    if vip not in _TRUE | _FALSE:
        bad("vip", f"must be yes/no, got '{cell('vip')}'")
    language = cell("language")
    if language and not _LANGUAGE.match(language):
        bad("language", f"'{language}' is not a language code like fr or en-GB")
    for field, limit in LIMITS.items():
        if field in where and len(cell(field)) > limit:
            bad(field, f"longer than {limit} characters")
    values: list[tuple[str, str]] = []
    for field, kind in extra.items():
        if not cell(field):
            continue
        try:
            values.append((field, canonical(kind, cell(field))))
        except FieldValueError as err:
            bad(field, str(err))
    if len(problems) > before:
        return None
    return CustomerRow(
        line=line,
        name=name,
        phones=tuple(phones),
        account=cell("account") or None,
        language=language or None,
        vip=vip in _TRUE,
        notes=cell("notes"),
        email=cell("email") or None,
        extra=tuple(values),
    )


def csv_lines(records: Iterable[CustomerRecord], *, header: bool = True) -> Iterator[str]:
    """Customers as CSV text, one line at a time (what `read_csv` reads back)."""
    sink = _Line()
    writer = csv.writer(sink, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
        yield sink.take()
    for c in records:
        phones = ";".join(c.phones)
        vip = "yes" if c.vip else "no"
        writer.writerow([c.name, phones, c.account or "", c.language or "", vip, c.notes, c.email or ""])
        yield sink.take()


class _Line:
    """A write-only text sink for csv.writer that hands back what was written."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self._parts)
        self._parts.clear()
        return text


__all__ = [
    "COLUMNS",
    "CsvProblem",
    "CsvRead",
    "CustomerRow",
    "csv_lines",
    "read_csv",
    "read_path",
]
