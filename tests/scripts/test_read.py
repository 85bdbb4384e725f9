"""From a schema-valid file to the model: texts, questions, actions, and faults in what the XSD cannot "
"parse."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from callserver.scripts.model import (
    AskAmount,
    AskChoice,
    AskDate,
    AskNumber,
    Audience,
    CallbackSpec,
    DateBound,
    SetFieldSpec,
    TaskSpec,
)
from tests.scripts.helpers import parse, problems_of, xml


def test_texts_are_read_with_white_space_collapsed_and_notes_kept_for_agents() -> None:
    script, _ = parse(
        xml(
            '<step id="a" title="Hello" audience="agent">\n'
            "  <say>Hello\n      {customer.name},   welcome.</say>\n"
            "  <note>  Check the account first. </note>\n"
            "<end/></step>"
        )
    )
    assert script is not None
    step = script.steps["a"]
    assert (step.title, step.audience) == ("Hello", Audience.AGENT)
    assert [(t.template.source, t.agent_only, t.line) for t in step.texts] == [
        ("Hello {customer.name}, welcome.", False, 5),
        ("Check the account first.", True, 7),
    ]


def test_questions_keep_their_constraints() -> None:
    script, _ = parse(
        xml(
            '<step id="a"><ask-choice name="c" required="false"><label>Pick</label><hint>one</hint>'
            '<option value="x">Ex</option><option value="y">Why</option></ask-choice><next to="b"/></step>\n'
            '<step id="b"><ask-number name="n" min="-1.5" max="9" decimals="2"><label>N</label></ask-number>'
            '<next to="c"/></step>\n'
            '<step id="c"><ask-amount name="m" min="0"><label>M</label></ask-amount><next to="d"/></step>\n'
            '<step id="d"><ask-date name="d" min="today-3" max="2026-12-31"><label>D</label></ask-date>'
            "<end/></step>"
        )
    )
    assert script is not None
    choice, number, amount, day = (script.steps[s].question for s in "abcd")
    assert isinstance(choice, AskChoice)
    assert (choice.required, [o.value for o in choice.options]) == (False, ["x", "y"])
    assert choice.hint is not None and choice.hint.source == "one"
    assert isinstance(number, AskNumber)
    assert (number.min, number.max, number.decimals) == (Decimal("-1.5"), Decimal(9), 2)
    assert isinstance(amount, AskAmount)
    assert (amount.min, amount.max) == (Decimal(0), None)
    assert isinstance(day, AskDate)
    assert (day.min, day.max) == (DateBound(None, -3), DateBound(date(2026, 12, 31)))
    assert day.min is not None and day.min.resolve(date(2026, 3, 2)) == date(2026, 2, 27)
    assert (str(day.min), str(day.max), str(DateBound(None))) == ("today-3", "2026-12-31", "today")


def test_actions_are_read_with_their_delays_and_notes() -> None:
    script, _ = parse(
        xml(
            '<step id="a">'
            '<set-field field="email" value="{data.x}" when="call.self_service"/>'
            '<schedule-callback queue="billing" after="P1DT2H30M" number="{call.caller}"><note>n</note>'
            "</schedule-callback>"
            '<create-task title="T" require="billing &gt;= 3"/>'
            "<end/></step>"
        )
    )
    assert script is not None
    set_field, callback, task = script.steps["a"].actions
    assert isinstance(set_field, SetFieldSpec) and set_field.when is not None
    assert isinstance(callback, CallbackSpec)
    assert callback.after == timedelta(days=1, hours=2, minutes=30)
    assert callback.note is not None and callback.note.source == "n"
    assert isinstance(task, TaskSpec) and task.require == "billing >= 3"


def test_handoff_label_defaults_to_talk_to_someone() -> None:
    script, _ = parse(
        xml('<step id="a"><end/></step>', head='<handoff><schedule-callback queue="billing"/></handoff>')
    )
    assert script is not None and script.handoff is not None
    assert script.handoff.label == "Talk to someone"


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            '<step id="a">\n<say>Hello {customer.name</say><end/></step>',
            "t.xml:5: step 'a': in text 'Hello {customer.name': unbalanced '{' or '}' (write {{ or }} for "
            "a brace)",
        ),
        (
            '<step id="a">\n<say>{agent.name}</say><end/></step>',
            "t.xml:5: step 'a': in text '{agent.name}': 'agent.name' is not customer.<field>, call.<field> "
            "or data.<name>",
        ),
        (
            '<step id="a">\n<say>{customer.balance|shout}</say><end/></step>',
            "t.xml:5: step 'a': in text '{customer.balance|shout}': 'shout' is not a say-as "
            "(text, number, currency, digits, date)",
        ),
        (
            '<step id="a"><branch when="call.x" to="a"/>\n<branch when="customer.vip ==" to="a"/><end/>'
            "</step>",
            "t.xml:5: step 'a': condition 'customer.vip ==': condition ends too early",
        ),
        (
            '<step id="a">\n<set-outcome code="resolved" when="balance &gt; 3"/><end/></step>',
            "t.xml:5: step 'a': condition 'balance > 3': 'balance' is not customer.<field>, call.<field> "
            "or data.<name>",
        ),
        (
            '<step id="a">\n<ask-text name="t" pattern="([a-z"><label>x</label></ask-text><end/></step>',
            "t.xml:5: step 'a': pattern '([a-z' is not a regular expression: unterminated character set "
            "at position 1",
        ),
        (
            '<step id="a">\n<ask-text name="t" min-length="9" max-length="3"><label>x</label></ask-text>'
            "<end/></step>",
            "t.xml:5: step 'a': min-length 9 is greater than max-length 3",
        ),
        (
            '<step id="a">\n<ask-amount name="m" min="10" max="1"><label>x</label></ask-amount><end/></step>',
            "t.xml:5: step 'a': min 10 is greater than max 1",
        ),
        (
            '<step id="a">\n<ask-date name="d" min="today+5" max="today"><label>x</label></ask-date><end/>'
            "</step>",
            "t.xml:5: step 'a': min today+5 is after max today",
        ),
        (
            '<step id="a">\n<ask-date name="d" min="2026-05-01" max="2026-04-01"><label>x</label></ask-date>'
            "<end/></step>",
            "t.xml:5: step 'a': min 2026-05-01 is after max 2026-04-01",
        ),
        (
            '<step id="a">\n<ask-date name="d" max="2026-02-30"><label>x</label></ask-date><end/></step>',
            "t.xml:5: step 'a': max '2026-02-30' is not a real day",
        ),
        (
            '<step id="a">\n<ask-choice name="c"><label>x</label><option value="a">{oops</option>'
            "</ask-choice>"
            "<end/></step>",
            "t.xml:5: step 'a': in text '{oops': unbalanced '{' or '}' (write {{ or }} for a brace)",
        ),
    ],
)
def test_faults_in_conditions_templates_and_bounds_name_line_and_step(steps: str, expected: str) -> None:
    assert expected in problems_of(xml(steps))


def test_a_fault_in_the_handoff_names_no_step() -> None:
    found = problems_of(
        xml(
            '<step id="a"><end/></step>',
            head='\n<handoff><create-task title="{x.y}" queue="billing"/></handoff>',
        )
    )
    assert found == ["t.xml:4: in text '{x.y}': 'x.y' is not customer.<field>, call.<field> or data.<name>"]


def test_one_fault_makes_no_script() -> None:
    script, problems = parse(xml('<step id="a"><say>{oops</say><end/></step>'))
    assert script is None
    assert len(problems) == 1
