"""Import of a lead list from CSV text: a pure function from lines to leads and a report.

Numbers are normalised to E.164 and their time zones derived with `phonenumbers` (or read from a
column). Every bad cell is reported with its line and column; duplicates and do-not-call hits are
reported too. All or nothing: when any row is wrong, no lead is returned, so nothing is half
imported. The caller (CLI, REST) stores the leads in one transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, timezone

from .dnc import DncRegistry
from .model import Lead, LeadState

UNKNOWN_ZONE = "Etc/Unknown"
MAX_ERRORS = 1000  # beyond this the report says how many more; the import is refused anyway


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which CSV columns hold what. `phones`: one or more number columns, the first one required."""

    phones: tuple[str, ...] = ("phone",)
    id: str | None = None
    time_zone: str | None = None
    priority: str | None = None
    region: str | None = None  # a column with the ISO country of national-format numbers
    fields: tuple[str, ...] | None = None  # kept on the lead for the screen-pop; None = all others


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class Duplicate:
    line: int
    number: str
    first_line: int | None  # None: the number was already in the campaign before this import


@dataclass(frozen=True, slots=True)
class DncHit:
    line: int
    number: str
    scope: str  # "" for the global list, else the campaign


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    leads: tuple[Lead, ...]
    duplicates: tuple[Duplicate, ...] = ()
    dnc: tuple[DncHit, ...] = ()
    errors: tuple[RowError, ...] = ()
    more_errors: int = 0
    skipped: int = field(default=0)  # duplicates left out

    @property
    def ok(self) -> bool:
        return not self.errors


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def normalise(raw: str, region: str | None) -> tuple[str, tuple[str, ...]]:
    """E.164 and the time zones of a number; raises ValueError saying what is wrong with it."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException as e:
        raise ValueError(f"{raw!r} is not a phone number ({e._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        where = f" for region {region}" if region and not raw.lstrip().startswith("+") else ""
        raise ValueError(f"{raw!r} is not a valid number{where}")
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    # the number is known valid: the prefix lookup alone is ten times cheaper than
    # `time_zones_for_number`, which validates again; non-geographic numbers take the long way
    zones = tuple(z for z in timezone.time_zones_for_geographical_number(parsed) if z != UNKNOWN_ZONE)
    if not zones:
        zones = tuple(z for z in timezone.time_zones_for_number(parsed) if z != UNKNOWN_ZONE)
    return e164, zones


def import_csv(
    lines: Iterable[str],
    mapping: ColumnMapping,
    *,
    list_name: str,
    default_region: str | None = None,
    dnc: DncRegistry | None = None,
    campaign: str = "",
    existing: Container[str] = (),
    progress: Callable[[int], None] | None = None,
    progress_every: int = 1000,
    first_seq: int = 0,
) -> ImportReport:
    """Read a CSV (header line first) into leads; see the module docstring for the guarantees."""
    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return ImportReport(0, (), errors=(RowError(1, "", "the file is empty: a header line is needed"),))
    col = {name: i for i, name in enumerate(header)}
    named = [*mapping.phones, mapping.id, mapping.time_zone, mapping.priority, mapping.region]
    missing = [n for n in named if n is not None and n not in col]
    if not mapping.phones:
        missing.append("(no phone column mapped)")
    if missing:
        return ImportReport(
            0,
            (),
            errors=tuple(RowError(1, n, "no such column in the header") for n in missing),
        )
    used = {n for n in named if n is not None}
    keep = mapping.fields if mapping.fields is not None else tuple(h for h in header if h not in used)
    bad_keep = [k for k in keep if k not in col]
    if bad_keep:
        return ImportReport(
            0, (), errors=tuple(RowError(1, k, "no such column in the header") for k in bad_keep)
        )

    leads: list[Lead] = []
    errors: list[RowError] = []
    more_errors = 0
    duplicates: list[Duplicate] = []
    hits: list[DncHit] = []
    seen: dict[str, int] = {}
    ids: dict[str, int] = {}
    rows = 0
    line = 1

    def fail(column: str, message: str) -> None:
        nonlocal more_errors
        if len(errors) < MAX_ERRORS:
            errors.append(RowError(line, column, message))
        else:
            more_errors += 1

    for record in reader:
        line = reader.line_num
        if not record or all(not c.strip() for c in record):
            continue
        rows += 1
        if progress is not None and rows % progress_every == 0:
            progress(rows)
        if len(record) != len(header):
            fail("", f"{len(record)} fields where the header has {len(header)}")
            continue
        region = default_region
        if mapping.region is not None:
            region = record[col[mapping.region]].strip().upper() or default_region
        numbers: list[str] = []
        zones: list[str] = []
        row_ok = True
        for i, name in enumerate(mapping.phones):
            raw = record[col[name]].strip()
            if not raw:
                if i == 0:
                    fail(name, "no number")
                    row_ok = False
                continue
            try:
                e164, nz = normalise(raw, region)
            except ValueError as e:
                fail(name, str(e))
                row_ok = False
                continue
            if e164 not in numbers:
                numbers.append(e164)
                zones += [z for z in nz if z not in zones]
        if mapping.time_zone is not None and (tz := record[col[mapping.time_zone]].strip()):
            if tz not in _zones():
                fail(mapping.time_zone, f"{tz!r} is not an IANA time zone")
                row_ok = False
            zones = [tz]
        elif row_ok and not zones:
            fail(mapping.phones[0], "no time zone is known for this number: give a time zone column")
            row_ok = False
        priority = 0
        if mapping.priority is not None and (p := record[col[mapping.priority]].strip()):
            try:
                priority = int(p)
            except ValueError:
                fail(mapping.priority, f"{p!r} is not a whole number")
                row_ok = False
        lead_id = record[col[mapping.id]].strip() if mapping.id is not None else f"{list_name}:{line}"
        if mapping.id is not None and not lead_id:
            fail(mapping.id, "no lead id")
            row_ok = False
        elif lead_id in ids:
            fail(mapping.id or "", f"lead id {lead_id!r} already used on line {ids[lead_id]}")
            row_ok = False
        ids.setdefault(lead_id, line)
        if not row_ok:
            continue
        main = numbers[0]
        if main in seen or main in existing:
            duplicates.append(Duplicate(line, main, seen.get(main)))
            continue
        seen[main] = line
        blocked = 0
        if dnc is not None:
            for n in numbers:
                entry = dnc.blocked(n, campaign)
                if entry is not None:
                    hits.append(DncHit(line, n, entry.scope))
                    blocked += 1
        lead = Lead(
            id=lead_id,
            numbers=tuple(numbers),
            time_zones=tuple(zones),
            fields={k: record[col[k]] for k in keep},
            priority=priority,
            list_name=list_name,
            seq=first_seq + len(leads),
        )
        if blocked == len(numbers):
            lead.state = LeadState.DNC
        leads.append(lead)
    if progress is not None:
        progress(rows)
    return ImportReport(
        rows=rows,
        leads=() if errors else tuple(leads),
        duplicates=tuple(duplicates),
        dnc=tuple(hits),
        errors=tuple(errors),
        more_errors=more_errors,
        skipped=len(duplicates),
    )
