"""The published XSD and the faults of form it finds, each reported with file, line and step."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from callserver.scripts.model import AskText, Audience
from callserver.scripts.read import MAX_BYTES, load_script, schema_text
from tests.scripts.helpers import BILLING, parse, problems_of, xml


def test_published_schema_is_a_valid_xsd_shipped_with_the_package() -> None:
    schema = etree.XMLSchema(etree.fromstring(schema_text()))
    assert schema.validate(etree.parse(str(BILLING)))


def test_schema_refuses_a_document_of_another_shape() -> None:
    schema = etree.XMLSchema(etree.fromstring(schema_text()))
    doc = etree.fromstring(b'<script xmlns="urn:callserver:script:1" id="x" version="1" start="a"/>')
    assert not schema.validate(doc)


def test_defaults_written_in_the_schema_reach_the_model() -> None:
    script, problems = parse(
        xml('<step id="a"><ask-text name="t"><label>Name?</label></ask-text><end/></step>')
    )
    assert problems == []
    assert script is not None
    assert (script.language, script.currency, script.web, script.complete_before_wrapup) == (
        "en",
        "EUR",
        False,
        False,
    )
    step = script.steps["a"]
    assert step.audience is Audience.ALL
    assert isinstance(step.question, AskText)
    assert (step.question.required, step.question.min_length, step.question.max_length) == (True, 0, 500)
    assert step.question.multiline is False


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            '<step id="a">\n<say>Hi</say>\n<bogus/>\n<end/></step>',
            "t.xml:6: step 'a': Element 'bogus': This element is not expected.",
        ),
        (
            '<step id="a">\n<ask-text name="t" typo="1"><label>x</label></ask-text><end/></step>',
            "t.xml:5: step 'a': Element 'ask-text', attribute 'typo': The attribute 'typo' is not allowed.",
        ),
        (
            '<step id="a">\n<ask-number name="n" min="ten"><label>x</label></ask-number><end/></step>',
            "t.xml:5: step 'a': Element 'ask-number', attribute 'min': 'ten' is not a valid value of the "
            "atomic type 'xs:decimal'.",
        ),
        (
            '<step id="a"><next to="b"/></step>\n<step id="a"><end/></step>',
            "t.xml:5: step 'a': step id 'a' is used twice",
        ),
        (
            '<step id="a"><ask-yes-no name="q"><label>x</label></ask-yes-no><next to="b"/></step>\n'
            '<step id="b"><ask-text name="q"><label>y</label></ask-text><end/></step>',
            "t.xml:5: step 'b': question name 'q' is used twice",
        ),
        (
            '<step id="a">\n<say>Hi</say>\n</step>',
            "t.xml:4: step 'a': Element 'step': Missing child element(s).",
        ),
        (
            '<step id="a">\n<schedule-callback queue="billing" after="P1M"/><end/></step>',
            "t.xml:5: step 'a': Element 'schedule-callback', attribute 'after': [facet 'pattern'] The value "
            "'P1M' is not accepted by the pattern",
        ),
        (
            '<step id="1st"><end/></step>',
            "t.xml:4: step '1st': Element 'step', attribute 'id': [facet 'pattern'] The value '1st' is not "
            "accepted by the pattern",
        ),
        (
            '<step id="a"><ask-date name="d" max="next week"><label>x</label></ask-date><end/></step>',
            "t.xml:4: step 'a': Element 'ask-date', attribute 'max': [facet 'pattern'] The value 'next week'",
        ),
        (
            '<step id="a"><ask-choice name="c"><label>x</label></ask-choice><end/></step>',
            "t.xml:4: step 'a': Element 'ask-choice': Missing child element(s). Expected is one of ( "
            "hint, option ).",
        ),
        (
            '<step id="a"><branch when="call.self_service" to="b"/><say>late</say><end/></step>',
            "t.xml:4: step 'a': Element 'say': This element is not expected.",
        ),
    ],
)
def test_schema_faults_name_line_and_step(steps: str, expected: str) -> None:
    found = problems_of(xml(steps))
    assert any(line.startswith(expected) for line in found), found


def test_fault_outside_any_step_names_only_the_line() -> None:
    data = b'<script xmlns="urn:callserver:script:1" id="t" start="a">\n<title>T</title>\n</script>'
    found = problems_of(data)
    assert "t.xml:1: Element 'script': The attribute 'version' is required but missing." in found


def test_every_schema_fault_is_reported_not_only_the_first() -> None:
    found = problems_of(xml('<step id="a"><bad1/><end/></step>\n<step id="b"><bad2/><end/></step>'))
    assert [line.split(":")[1] for line in found] == ["4", "5"]


def test_xml_that_is_not_well_formed_names_the_line() -> None:
    found = problems_of(xml('<step id="a">\n<say>Hi</sya>\n<end/></step>'))
    assert len(found) == 1
    assert found[0].startswith("t.xml:5: not well-formed XML: Opening and ending tag mismatch: say")


def test_doctype_and_entities_are_refused_without_being_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE script [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>\n'
        b'<script xmlns="urn:callserver:script:1" id="t" version="1" start="a"><title>&b;</title>'
        b'<step id="a"><end/></step></script>'
    )
    assert problems_of(bomb) == ["t.xml:1: a DOCTYPE is not allowed in a script"]


def test_root_in_another_namespace_is_refused_by_name() -> None:
    found = problems_of(b'<script id="t" version="1" start="a"><title>T</title></script>')
    assert found == ['t.xml:1: the root must be <script xmlns="urn:callserver:script:1">, not <script>']


def test_a_file_too_large_is_refused_before_parsing() -> None:
    found = problems_of(b" " * (MAX_BYTES + 1))
    assert found == [f"t.xml: file is larger than {MAX_BYTES} bytes"]


def test_an_unreadable_file_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    script, problems = load_script(tmp_path / "missing.xml")
    assert script is None
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'missing.xml'}: cannot read file: No such file or directory"
    ]
