"""Checks against the configuration and of the step graph: every message, with its file, line and step."""

from __future__ import annotations

import dataclasses

import pytest

from callserver.scripts.problems import unknown
from callserver.scripts.read import load_script
from callserver.scripts.validate import check_script
from tests.scripts.helpers import BILLING, CONTEXT, problems_of, xml

ASK = '<ask-yes-no name="ok"><label>OK?</label></ask-yes-no>'
HANDOFF = '<handoff><schedule-callback queue="billing"/></handoff>'


def test_the_billing_example_has_no_problem_at_all() -> None:
    script, problems = load_script(BILLING)
    assert problems == []
    assert script is not None
    assert check_script(script, CONTEXT) == []


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # ---- the graph ----
        (
            '<step id="a">\n<next to="bb"/></step>\n<step id="b"><end/></step>',
            "t.xml:5: step 'a': unknown step 'bb' (did you mean 'b'?)",
        ),
        (
            f'<step id="a">{ASK}\n<branch when="data.ok" to="zz"/><end/></step>',
            "t.xml:5: step 'a': unknown step 'zz' (known: a)",
        ),
        (
            '<step id="a"><end/></step>\n<step id="orphan"><end/></step>',
            "t.xml:5: step 'orphan': unreachable from start step 'a'",
        ),
        (
            '<step id="a"><next to="b"/></step>\n<step id="b"><next to="c"/></step>\n'
            '<step id="c"><branch when="call.self_service" to="b"/><end/></step>',
            "t.xml:5: step 'b': loop without a question: b -> c -> b",
        ),
        ('<step id="a"><next to="a"/></step>', "t.xml:4: step 'a': loop without a question: a -> a"),
        # ---- values read ----
        (
            '<step id="a">\n<say>Dear {customer.nmae}</say><end/></step>',
            "t.xml:5: step 'a': unknown customer field 'nmae' (did you mean 'name'?)",
        ),
        (
            '<step id="a">\n<say>{call.dnsi}</say><end/></step>',
            "t.xml:5: step 'a': unknown call field 'dnsi' (did you mean 'dnis'?)",
        ),
        (
            f'<step id="a">{ASK}\n<branch when="data.okk == true" to="a"/><end/></step>',
            "t.xml:5: step 'a': data.okk: unknown question 'okk' (did you mean 'ok'?)",
        ),
        (
            '<step id="a">\n<ask-text name="t"><label>For {customer.shoe}</label></ask-text><end/></step>',
            "t.xml:5: step 'a': unknown customer field 'shoe' (known: account, balance, email, id, language, "
            "name, payment_plan, vip)",
        ),
        (
            '<step id="a">\n<set-outcome code="resolved" when="customer.segmnt"/><end/></step>',
            "t.xml:5: step 'a': unknown customer field 'segmnt' (known: account, balance, email, id, "
            "language, name, payment_plan, vip)",
        ),
        (
            '<step id="a">\n<say>We know {data.later}</say><next to="b"/></step>\n'
            '<step id="b"><ask-text name="later"><label>x</label></ask-text><end/></step>',
            "t.xml:5: step 'a': warning: data.later may not be answered yet here: question 'later' is "
            "asked at "
            "step 'b', which is not on every way to this point",
        ),
        # ---- conditions that can never hold ----
        (
            f'<step id="a">{ASK}\n<branch when="data.ok == \'yes\'" to="a"/><end/></step>',
            "t.xml:5: step 'a': condition 'data.ok == 'yes'': data.ok is a yes/no answer: compare it with "
            "== or "
            "!= and true or false",
        ),
        (
            '<step id="a"><ask-choice name="c"><label>x</label><option value="card">Card</option>'
            '<option value="bank">Bank</option></ask-choice>\n<branch when="data.c == \'cash\'" to="a"/>'
            "<end/>"
            "</step>",
            "t.xml:5: step 'a': condition 'data.c == 'cash'': 'cash' is not an option of question 'c' "
            "(options: card, bank)",
        ),
        (
            '<step id="a"><ask-choice name="c"><label>x</label><option value="card">Card</option>'
            "</ask-choice>\n"
            '<branch when="data.c &gt; 3" to="a"/><end/></step>',
            "t.xml:5: step 'a': condition 'data.c > 3': data.c is a choice: compare it with == or != and one "
            "of card",
        ),
        (
            '<step id="a"><ask-number name="n"><label>x</label></ask-number>\n'
            '<branch when="data.n == \'two\'" to="a"/><end/></step>',
            "t.xml:5: step 'a': condition 'data.n == 'two'': data.n is a number: compare it with a number",
        ),
        (
            '<step id="a"><ask-date name="d"><label>x</label></ask-date>\n'
            '<branch when="data.d &gt; \'tomorrow\'" to="a"/><end/></step>',
            "t.xml:5: step 'a': condition 'data.d > 'tomorrow'': data.d is a date: compare it with a "
            "quoted day "
            "such as '2026-03-31'",
        ),
        (
            '<step id="a"><ask-text name="t"><label>x</label></ask-text>\n'
            '<branch when="data.t == true" to="a"/><end/></step>',
            "t.xml:5: step 'a': condition 'data.t == true': data.t is a text: compare it with a quoted text",
        ),
        (
            '<step id="a">\n<ask-choice name="c"><label>x</label><option value="a">A</option>\n'
            '<option value="a">Again</option></ask-choice><end/></step>',
            "t.xml:6: step 'a': option 'a' is given twice",
        ),
        # ---- actions ----
        (
            '<step id="a">\n<set-field field="emial" value="x"/><end/></step>',
            "t.xml:5: step 'a': unknown customer field 'emial' (did you mean 'email'?)",
        ),
        (
            '<step id="a">\n<set-field field="balance" value="0"/><end/></step>',
            "t.xml:5: step 'a': customer field 'balance' cannot be set by a script (writable: email, "
            "language, "
            "payment_plan)",
        ),
        (
            '<step id="a">\n<set-outcome code="sold"/><end/></step>',
            "t.xml:5: step 'a': unknown outcome code 'sold' (did you mean 'resolved'?)",
        ),
        (
            '<step id="a">\n<schedule-callback queue="biling"/><end/></step>',
            "t.xml:5: step 'a': unknown queue 'biling' (did you mean 'billing'?)",
        ),
        (
            '<step id="a">\n<schedule-callback agent="alcie"/><end/></step>',
            "t.xml:5: step 'a': unknown agent 'alcie' (did you mean 'alice'?)",
        ),
        (
            '<step id="a">\n<schedule-callback/><end/></step>',
            "t.xml:5: step 'a': a callback needs a queue, an agent, or both",
        ),
        (
            '<step id="a"><ask-date name="d"><label>x</label></ask-date>\n'
            '<schedule-callback queue="billing" date="data.d" after="PT2H"/><end/></step>',
            "t.xml:5: step 'a': give 'date' or 'after', not both",
        ),
        (
            f'<step id="a">{ASK}\n<schedule-callback queue="billing" date="data.ok"/><end/></step>',
            "t.xml:5: step 'a': data.ok is a yes-no answer, not a date",
        ),
        (
            '<step id="a">\n<schedule-callback queue="billing" number="{customer.mobile}"/><end/></step>',
            "t.xml:5: step 'a': unknown customer field 'mobile' (known: account, balance, email, id, "
            "language, name, payment_plan, vip)",
        ),
        (
            '<step id="a">\n<transfer-to-queue queue="sales"/><end/></step>',
            "t.xml:5: step 'a': unknown queue 'sales' (known: billing, general, technical)",
        ),
        (
            '<step id="a">\n<transfer-to-agent agent="zoe"/><end/></step>',
            "t.xml:5: step 'a': unknown agent 'zoe' (known: alice, bruno)",
        ),
        (
            '<step id="a">\n<transfer-to-queue queue="general"/><next to="b"/></step>\n<step id="b"><end/>'
            "</step>",
            "t.xml:5: step 'a': a transfer hands the call over: the step must <end/>",
        ),
        (
            '<step id="a">\n<create-task title="Call back" queue="backoffice"/><end/></step>',
            "t.xml:5: step 'a': unknown queue 'backoffice' (known: billing, general, technical)",
        ),
        (
            '<step id="a">\n<create-task title="Call back"/><end/></step>',
            "t.xml:5: step 'a': a task needs a queue, a skill requirement, or both",
        ),
        (
            '<step id="a">\n<create-task title="x" require="billing &gt;= "/><end/></step>',
            "t.xml:5: step 'a': require: missing level after '>=' at column 12",
        ),
        (
            '<step id="a">\n<create-task title="x" require="billng &gt;= 3"/><end/></step>',
            "t.xml:5: step 'a': require: unknown skill 'billng' at column 1 (did you mean 'billing'?)",
        ),
        (
            '<step id="a">\n<create-task title="{data.nothing}" queue="billing"/><end/></step>',
            "t.xml:5: step 'a': data.nothing: unknown question 'nothing' (none are configured)",
        ),
    ],
)
def test_checks_name_file_line_and_step(steps: str, expected: str) -> None:
    assert expected in problems_of(xml(steps))


@pytest.mark.parametrize(
    ("attrs", "head", "steps", "expected"),
    [
        ("", "", '<step id="b"><end/></step>', "t.xml:2: start: unknown step 'a' (known: b)"),
        ('language="xx"', "", '<step id="a"><end/></step>', "t.xml:2: unknown language 'xx'"),
        ('currency="ABC"', "", '<step id="a"><end/></step>', "t.xml:2: unknown currency 'ABC'"),
        (
            'web="true"',
            "",
            '<step id="a"><next to="b"/></step>\n<step id="b" audience="agent"><end/></step>',
            "t.xml:5: step 'b': a web script that reaches a step for agents needs a <handoff> for the "
            "customer",
        ),
        (
            'web="true"',
            HANDOFF,
            '<step id="a" audience="agent"><end/></step>',
            "t.xml:2: start: step 'a' is for agents, and web=\"true\"",
        ),
        (
            'web="true"',
            HANDOFF,
            '<step id="a">\n<transfer-to-queue queue="billing"/><end/></step>',
            "t.xml:5: step 'a': a transfer needs a call, which a web run has not: give this step "
            'audience="agent"',
        ),
        (
            'web="true"',
            '\n<handoff><schedule-callback queue="billing" when="call.self_service"/></handoff>',
            '<step id="a"><end/></step>',
            "t.xml:4: a handoff always happens when asked for: remove 'when'",
        ),
        (
            'web="true"',
            '\n<handoff><schedule-callback agent="self"/></handoff>',
            '<step id="a"><end/></step>',
            't.xml:4: no agent runs a web script: a handoff cannot use agent="self"',
        ),
        (
            'web="true"',
            '\n<handoff><create-task title="x" require="frnch"/></handoff>',
            '<step id="a"><end/></step>',
            "t.xml:4: require: unknown skill 'frnch' at column 1 (did you mean 'french'?)",
        ),
        (
            "",
            "\n" + HANDOFF,
            '<step id="a"><end/></step>',
            't.xml:4: warning: the handoff is only used on the web, and this script has web="false"',
        ),
    ],
)
def test_script_level_checks(attrs: str, head: str, steps: str, expected: str) -> None:
    assert expected in problems_of(xml(steps, attrs=attrs, head=head))


def test_an_answer_read_after_its_question_on_every_way_is_fine() -> None:
    steps = (
        f'<step id="a">{ASK}<branch when="data.ok" to="b"/><next to="c"/></step>\n'
        '<step id="b"><say>{data.ok}</say><next to="c"/></step>\n'
        '<step id="c"><say>{data.ok}</say><end/></step>'
    )
    assert problems_of(xml(steps)) == []


def test_an_answer_asked_on_one_way_only_is_a_warning_where_the_ways_meet() -> None:
    steps = (
        f'<step id="a">{ASK}<branch when="data.ok" to="b"/><next to="c"/></step>\n'
        '<step id="b"><ask-text name="why"><label>Why?</label></ask-text><next to="c"/></step>\n'
        '<step id="c"><say>{data.why}</say><end/></step>'
    )
    assert problems_of(xml(steps)) == [
        "t.xml:6: step 'c': warning: data.why may not be answered yet here: question 'why' is asked at step "
        "'b', which is not on every way to this point"
    ]


def test_a_loop_through_a_question_is_fine() -> None:
    steps = (
        f'<step id="a">{ASK}<branch when="data.ok == false" to="b"/><end/></step>\n'
        '<step id="b"><next to="a"/></step>'
    )
    assert problems_of(xml(steps)) == []


def test_names_unknown_to_an_empty_configuration_say_none_are_configured() -> None:
    empty = dataclasses.replace(CONTEXT, queues=frozenset())
    found = problems_of(xml('<step id="a">\n<transfer-to-queue queue="billing"/><end/></step>'), empty)
    assert found == ["t.xml:5: step 'a': unknown queue 'billing' (none are configured)"]


def test_problems_come_in_file_order() -> None:
    found = problems_of(
        xml(
            '<step id="a">\n<set-outcome code="x1"/><next to="b"/></step>\n'
            '<step id="b">\n<set-outcome code="x2"/><end/></step>'
        )
    )
    assert [line.split(":")[1] for line in found] == ["5", "7"]


def test_a_long_list_of_known_names_is_not_recited() -> None:
    many = frozenset({"billing", *(f"q{i:02d}" for i in range(20))})
    assert unknown("queue", "sales", many) == "unknown queue 'sales'"
    assert unknown("queue", "biling", many) == "unknown queue 'biling' (did you mean 'billing'?)"
