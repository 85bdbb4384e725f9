"""CSV list import: normalisation, time zones, per-cell errors, duplicates, DNC, all or nothing."""

from __future__ import annotations

from callserver.campaigns.dnc import DncRegistry
from callserver.campaigns.lists import ColumnMapping, import_csv
from callserver.campaigns.model import LeadState

MAPPING = ColumnMapping(phones=("phone", "mobile"), id="ref", priority="prio")


def lines(text: str) -> list[str]:
    return text.strip("\n").splitlines(keepends=True)


def test_numbers_become_e164_with_their_time_zones() -> None:
    report = import_csv(
        lines(
            """
ref,name,phone,mobile,prio
A1,Ann,+1 212 555 0100,,5
A2,Bob,(213) 555-0101,+1 312 555 0199,
"""
        ),
        MAPPING,
        list_name="spring",
        default_region="US",
    )
    assert report.ok
    a1, a2 = report.leads
    assert (a1.id, a1.numbers, a1.time_zones, a1.priority) == (
        "A1",
        ("+12125550100",),
        ("America/New_York",),
        5,
    )
    assert a2.numbers == ("+12135550101", "+13125550199")
    assert a2.time_zones == ("America/Los_Angeles", "America/Chicago")
    assert a1.fields == {"name": "Ann"}
    assert a1.list_name == "spring"


def test_a_time_zone_column_overrides_the_number() -> None:
    mapping = ColumnMapping(phones=("phone",), time_zone="tz")
    report = import_csv(lines("phone,tz\n+33 6 12 34 56 78,America/Martinique\n"), mapping, list_name="l")
    assert report.ok
    assert report.leads[0].time_zones == ("America/Martinique",)


def test_bad_cells_are_reported_by_line_and_column_and_nothing_is_imported() -> None:
    text = """
ref,name,phone,mobile,prio
A1,Ann,+1 212 555 0100,,1
A2,Bob,not a number,,2
A3,Cid,+1 212 555 0102,+1 000,x
A4,Dee,,,3
"""
    report = import_csv(lines(text), MAPPING, list_name="l", default_region="US")
    assert not report.ok
    assert report.leads == ()
    found = {(e.line, e.column) for e in report.errors}
    assert found == {(3, "phone"), (4, "mobile"), (4, "prio"), (5, "phone")}
    assert str(report.errors[0]).startswith("line 3, column phone: 'not a number'")


def test_line_numbers_count_physical_lines_of_quoted_fields() -> None:
    text = 'phone,note\n+12125550100,"two\nlines"\nbad,x\n'
    report = import_csv(lines(text), ColumnMapping(), list_name="l")
    assert [(e.line, e.column) for e in report.errors] == [(4, "phone")]


def test_missing_columns_are_reported_on_the_header_line() -> None:
    report = import_csv(lines("name,tel\nAnn,+12125550100\n"), MAPPING, list_name="l")
    assert {(e.line, e.column) for e in report.errors} == {
        (1, "phone"),
        (1, "mobile"),
        (1, "ref"),
        (1, "prio"),
    }


def test_wrong_field_count_and_repeated_ids_are_errors() -> None:
    text = "ref,phone\nA1,+12125550100\nA1,+12125550101\nA3,+12125550102,extra\n"
    report = import_csv(lines(text), ColumnMapping(phones=("phone",), id="ref"), list_name="l")
    messages = {(e.line, e.column): e.message for e in report.errors}
    assert "already used on line 2" in messages[(3, "ref")]
    assert "3 fields" in messages[(4, "")]


def test_duplicates_are_reported_and_left_out() -> None:
    text = "phone\n+12125550100\n+1 (212) 555-0100\n+12125550101\n+12125550199\n"
    report = import_csv(lines(text), ColumnMapping(), list_name="l", existing={"+12125550199"})
    assert report.ok
    assert [lead.numbers[0] for lead in report.leads] == ["+12125550100", "+12125550101"]
    assert [(d.line, d.first_line) for d in report.duplicates] == [(3, 2), (5, None)]


def test_dnc_listed_numbers_are_reported_and_their_leads_kept_blocked() -> None:
    dnc = DncRegistry()
    dnc.add("+12125550100", now=0.0, source="import")
    dnc.add("+12125550101", now=0.0, source="supervisor", campaign="spring")
    text = "phone\n+12125550100\n+12125550101\n+12125550102\n"
    report = import_csv(lines(text), ColumnMapping(), list_name="l", dnc=dnc, campaign="spring")
    assert [(h.line, h.scope) for h in report.dnc] == [(2, ""), (3, "spring")]
    assert [lead.state for lead in report.leads] == [LeadState.DNC, LeadState.DNC, LeadState.NEW]


def test_progress_is_reported_while_importing() -> None:
    rows = "phone\n" + "".join(f"+1212555{i:04d}\n" for i in range(2500))
    seen: list[int] = []
    report = import_csv(
        lines(rows), ColumnMapping(), list_name="l", progress=seen.append, progress_every=1000
    )
    assert report.ok
    assert len(report.leads) == 2500
    assert seen == [1000, 2000, 2500]


def test_an_unknown_time_zone_and_an_empty_file_are_errors() -> None:
    mapping = ColumnMapping(phones=("phone",), time_zone="tz")
    report = import_csv(lines("phone,tz\n+12125550100,Mars/Olympus\n"), mapping, list_name="l")
    assert [(e.line, e.column) for e in report.errors] == [(2, "tz")]
    assert not import_csv([], ColumnMapping(), list_name="l").ok
