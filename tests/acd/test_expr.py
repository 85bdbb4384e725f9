"""Skill requirements: parsing, error columns, truth tables, binding call data and the compiled test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callserver.acd.expr import (
    And,
    Const,
    DataTest,
    Not,
    Or,
    RequirementError,
    SkillCmp,
    check,
    parse,
)

# --- parsing and precedence --------------------------------------------------------------------


def test_bare_skill_means_level_at_least_one() -> None:
    assert parse("french").expr == SkillCmp("french", ">=", 1)


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    expr = parse("not a or b and c").expr
    assert expr == Or((Not(SkillCmp("a", ">=", 1)), And((SkillCmp("b", ">=", 1), SkillCmp("c", ">=", 1)))))


def test_parentheses_override_precedence() -> None:
    expr = parse("french >= 5 and (mortgage >= 3 or loans >= 7)").expr
    assert expr == And(
        (SkillCmp("french", ">=", 5), Or((SkillCmp("mortgage", ">=", 3), SkillCmp("loans", ">=", 7))))
    )


def test_requirement_lists_the_skills_and_data_it_reads() -> None:
    req = parse(
        'billing >= 3 and (call.language != "fr" or french >= 5) and (not customer.vip or billing >= 7)'
    )
    assert req.skills == {"billing", "french"}
    assert req.data_refs == {"call.language", "customer.vip"}
    assert req.text.startswith("billing >= 3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('call.language == "fr"', DataTest("call.language", "==", "fr")),
        ("call.language == 'fr'", DataTest("call.language", "==", "fr")),
        ("customer.vip", DataTest("customer.vip", "truthy")),
        ("call.priority >= 3", DataTest("call.priority", ">=", 3)),
        ("call.score < -1.5", DataTest("call.score", "<", -1.5)),
        ("customer.flag == true", DataTest("customer.flag", "==", True)),
        ("customer.segment == null", DataTest("customer.segment", "==", None)),
        ('call.product in ("mortgage", "loans")', DataTest("call.product", "in", ("mortgage", "loans"))),
        ('call.note == "say \\"hi\\""', DataTest("call.note", "==", 'say "hi"')),
        ("customer.address.city", DataTest("customer.address.city", "truthy")),
    ],
)
def test_data_references_and_literals_parse(text: str, expected: DataTest) -> None:
    assert parse(text).expr == expected


def test_true_and_false_are_expressions() -> None:
    assert parse("true").expr == Const(True)
    assert parse("not false").expr == Not(Const(False))


def test_operators_need_no_spaces() -> None:
    assert parse("french>=5 and(loans<2)").expr == And(
        (SkillCmp("french", ">=", 5), SkillCmp("loans", "<", 2))
    )


# --- errors, each with its column ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "empty expression", 1),
        ("   ", "empty expression", 1),
        ("french >= >= 5", "unexpected token '>='", 11),
        ("(french >= 5", "unclosed '('", 1),
        ("french >= 5)", "unmatched ')'", 12),
        ("french >= 5 loans", "unexpected token 'loans'", 13),
        ("french >= 5 and", "missing operand after 'and'", 16),
        ("french and or loans", "unexpected token 'or'", 12),
        ("not", "missing operand after 'not'", 4),
        ("()", "missing operand after '('", 2),
        ("french >=", "missing level after '>='", 10),
        ('french >= "5"', "skill 'french' compared with \"5\"; skill levels are whole numbers 0-10", 11),
        ("french == true", "skill 'french' compared with true; skill levels are whole numbers 0-10", 11),
        ("french > german", "skill 'french' compared with german; skill levels are whole numbers 0-10", 10),
        ("french >= 4.5", "skill level must be a whole number, not 4.5", 11),
        ("french in (1, 2)", "'in' needs a call.* or customer.* reference, not skill 'french'", 8),
        ("xyz.language == 'fr'", "unknown prefix 'xyz.' (expected 'call.' or 'customer.')", 1),
        ("a and agent.team", "unknown prefix 'agent.' (expected 'call.' or 'customer.')", 7),
        ("call >= 3", "'call' needs a field, e.g. 'call.<name>'", 1),
        ("call. == 1", "expected a name after '.'", 6),
        ("call.priority >= 'high'", "'>=' needs a number, not 'high'", 18),
        ("call.priority < null", "'<' needs a number, not null", 17),
        ("call.language == fr", "expected a value, found name 'fr' (strings need quotes)", 18),
        ("call.language ==", "missing value after '=='", 17),
        ("call.product in ()", "empty list after 'in'", 18),
        ("call.product in 'a'", "expected '(' after 'in'", 17),
        ("call.product in ('a', 'b'", "unclosed '('", 17),
        ("call.product in ('a' 'b')", "unexpected token \"'b'\"", 22),
        ('call.language == "fr', "unterminated string", 18),
        ("call.priority > 1.2.3", "bad number '1.2.3'", 17),
        ("call.priority > 12abc", "bad number '12abc'", 17),
        ("french = 5", "unexpected character '=' (did you mean '=='?)", 8),
        ("french && loans", "unexpected character '&' (use 'and')", 8),
        ("french @", "unexpected character '@'", 8),
        ("5 <= french", "unexpected token '5'", 1),
    ],
)
def test_syntax_error_names_the_problem_and_column(text: str, message: str, column: int) -> None:
    with pytest.raises(RequirementError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.column, caught.value.text) == (message, column, text)


def test_error_text_points_a_caret_at_the_column() -> None:
    with pytest.raises(RequirementError) as caught:
        parse("french >= >= 5")
    assert str(caught.value) == "unexpected token '>=' at column 11\n  french >= >= 5\n            ^"


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unclosed"):
        parse("(a")


# --- truth tables ------------------------------------------------------------------------------

AGENTS = {
    "french_expert": {"french": 8, "mortgage": 1},
    "french_mortgage": {"french": 5, "mortgage": 3},
    "french_loans": {"french": 6, "loans": 7},
    "beginner": {"french": 2, "mortgage": 9, "loans": 9},
    "nobody": {},
}


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("french", {"french_expert", "french_mortgage", "french_loans", "beginner"}),
        ("french >= 5", {"french_expert", "french_mortgage", "french_loans"}),
        ("french > 5", {"french_expert", "french_loans"}),
        ("french == 5", {"french_mortgage"}),
        ("french != 5", {"french_expert", "french_loans", "beginner", "nobody"}),
        ("french < 5", {"beginner", "nobody"}),
        ("french <= 5", {"french_mortgage", "beginner", "nobody"}),
        ("loans == 0", {"french_expert", "french_mortgage"} | {"nobody"}),
        ("not mortgage", {"french_loans", "nobody"}),
        ("french >= 5 and (mortgage >= 3 or loans >= 7)", {"french_mortgage", "french_loans"}),
        ("french >= 5 and mortgage >= 3 or loans >= 7", {"french_mortgage", "french_loans", "beginner"}),
        ("true", set(AGENTS)),
        ("false", set()),
    ],
)
def test_truth_table_over_agents(text: str, who: set[str]) -> None:
    req = parse(text)
    assert {name for name, skills in AGENTS.items() if req.matches(skills)} == who
    bound = req.bind({})
    assert {name for name, skills in AGENTS.items() if bound.test(skills)} == who


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"call.product": "loans"}, True),
        ({"call.product": "mortgage"}, True),
        ({"call.product": "cards"}, False),
        ({}, False),
    ],
)
def test_in_list_matches_any_listed_value(data: dict[str, object], expected: bool) -> None:
    assert parse('call.product in ("mortgage", "loans")').matches({}, data) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("customer.vip", True, True),
        ("customer.vip", "yes", True),
        ("customer.vip", 0, False),
        ("customer.vip", "", False),
        ("customer.vip", None, False),
        ("call.priority >= 3", 3, True),
        ("call.priority >= 3", 2.5, False),
        ("call.priority >= 3", "9", False),
        ("call.priority >= 3", True, False),
        ("call.priority == 1", True, False),
        ("call.flag == true", 1, False),
        ("call.flag == true", True, True),
        ("call.priority == 2", 2.0, True),
        ("customer.segment == null", None, True),
        ('customer.segment != "retail"', None, True),
        ('customer.segment != "retail"', "retail", False),
    ],
)
def test_data_comparisons_keep_types_apart(text: str, value: object, expected: bool) -> None:
    ref = text.split()[0]
    assert parse(text).matches({}, {ref: value}) is expected


# --- binding call data -------------------------------------------------------------------------

LANGUAGE = 'call.language == "fr" and french >= 5 or call.language != "fr" and english >= 3'


def test_binding_folds_data_and_keeps_the_skill_part() -> None:
    req = parse(LANGUAGE)
    assert req.bind({"call.language": "fr"}).key == "french >= 5"
    assert req.bind({"call.language": "de"}).key == "english >= 3"
    assert req.bind({"call.language": "fr"}).skills == {"french"}


def test_binding_can_fold_to_always_true_or_false() -> None:
    req = parse('call.language == "fr" or call.priority >= 8')
    everyone = req.bind({"call.language": "fr"})
    no_one = req.bind({"call.language": "en", "call.priority": 2})
    assert (everyone.key, everyone.constant, everyone.test({})) == ("true", True, True)
    assert (no_one.key, no_one.constant, no_one.test({"french": 10})) == ("false", False, False)
    assert req.bind({}).constant is False
    assert parse("french").bind({}).constant is None


def test_missing_data_is_none_so_absent_customer_is_not_vip() -> None:
    req = parse("billing >= 3 and (not customer.vip or billing >= 7)")
    assert req.bind({}).key == "billing >= 3"
    assert req.bind({"customer.vip": True}).key == "billing >= 7"
    assert req.matches({"billing": 4}) is True
    assert req.matches({"billing": 4}, {"customer.vip": True}) is False


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("french >= 5 and loans >= 2", "loans >= 2 and french >= 5"),
        ("french > 4", "french >= 5"),
        ("french <= 4", "french < 5"),
        ("not french >= 5", "french < 5"),
        ("not (french >= 5 and loans)", "loans < 1 or french < 5"),
        ("french and french and (loans or french)", "(french or loans) and french"),
        ("a and (b and c)", "(c and a) and b"),
        ("a or (b or c)", "c or b or a"),
        ("french >= 3 and french >= 5", "french >= 5"),
        ("french >= 3 or french >= 5", "french >= 3"),
        ("french < 3 and french < 5", "french < 3"),
        ("french and true", "french"),
        ('french or call.language == "fr"', "french or false"),
    ],
)
def test_equivalent_bound_requirements_share_a_key(first: str, second: str) -> None:
    one, other = parse(first).bind({"call.language": "en"}), parse(second).bind({"call.language": "en"})
    assert one.key == other.key
    assert one == other
    assert hash(one) == hash(other)


def test_different_data_giving_the_same_skill_test_share_a_key() -> None:
    req = parse('call.product in ("mortgage", "loans") and mortgage >= 3 or loans >= 7')
    assert req.bind({"call.product": "cards"}).key == parse("loans >= 7").bind({}).key


def test_conjuncts_are_the_top_level_and_terms() -> None:
    bound = parse("french >= 5 and (mortgage >= 3 or loans >= 7) and customer.vip").bind({"customer.vip": 1})
    terms = bound.conjuncts()
    skill_terms = {(t.skill, t.op, t.level) for t in terms if isinstance(t, SkillCmp)}
    assert skill_terms == {("french", ">=", 5)}
    assert [t for t in terms if isinstance(t, Or)] == [
        Or((SkillCmp("loans", ">=", 7), SkillCmp("mortgage", ">=", 3)))
    ]
    assert parse("french or loans").bind({}).conjuncts() == (
        Or((SkillCmp("french", ">=", 1), SkillCmp("loans", ">=", 1))),
    )
    assert parse("true").bind({}).conjuncts() == ()


def test_unbound_conjuncts_keep_data_terms() -> None:
    terms = parse('french >= 5 and call.language == "fr"').conjuncts()
    assert terms == (SkillCmp("french", ">=", 5), DataTest("call.language", "==", "fr"))


def test_best_level_is_the_highest_referenced_skill_the_agent_has() -> None:
    bound = parse("french >= 5 and (mortgage >= 3 or loans >= 7)").bind({})
    assert bound.best_level({"french": 6, "loans": 8, "golf": 10}) == 8
    assert bound.best_level({"golf": 10}) == 0
    assert parse("true").bind({}).best_level({"french": 3}) == 0


def test_bound_key_parses_back_to_the_same_requirement() -> None:
    bound = parse(LANGUAGE).bind({"call.language": "fr"})
    again = parse(bound.key).bind({})
    assert again.key == bound.key


# --- check -------------------------------------------------------------------------------------


def test_check_reports_unknown_skill_with_column_and_suggestion() -> None:
    req = parse("frnech >= 5 and loans >= 2")
    assert check(req, known_skills={"french", "loans"}) == [
        "unknown skill 'frnech' at column 1 (did you mean 'french'?)"
    ]
    assert check(parse("golf"), known_skills={"french"}) == ["unknown skill 'golf' at column 1"]


def test_check_reports_unknown_data_only_when_data_names_are_given() -> None:
    req = parse('french and call.lang == "fr"')
    assert check(req, known_skills={"french"}) == []
    assert check(req, known_skills={"french"}, known_data={"call.language", "customer.vip"}) == [
        "unknown data 'call.lang' at column 12 (did you mean 'call.language'?)"
    ]


def test_check_reports_comparisons_no_level_can_change() -> None:
    req = parse("french > 10 or loans >= 0 or billing < 11 or mortgage >= 10")
    assert check(req, known_skills={"french", "loans", "billing", "mortgage"}) == [
        "'french > 10' never holds (levels are 0-10) at column 1",
        "'loans >= 0' always holds (levels are 0-10) at column 16",
        "'billing < 11' always holds (levels are 0-10) at column 30",
    ]


def test_check_finds_nothing_in_a_sound_requirement() -> None:
    req = parse('billing >= 3 and (call.language != "fr" or french >= 5)')
    assert check(req, known_skills={"billing", "french"}, known_data={"call.language"}) == []


# --- bound test agrees with direct evaluation ----------------------------------------------------

SKILLS = ("french", "mortgage", "loans", "billing")
REFS = ("call.language", "call.priority", "customer.vip", "customer.segment")
OPS = ("==", "!=", "<", "<=", ">", ">=")
WORDS = ("fr", "en", "retail", "", "it's")

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 6),
    st.sampled_from([0.5, 2.0, 2.5]),
    st.sampled_from(WORDS),
)


def _quote(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    return repr(value)


numbers = st.one_of(st.integers(-2, 6), st.sampled_from([0.5, 2.5]))
skill_terms = st.one_of(
    st.sampled_from(SKILLS),
    st.builds(
        lambda s, o, n: f"{s} {o} {n}", st.sampled_from(SKILLS), st.sampled_from(OPS), st.integers(0, 11)
    ),
)
data_terms = st.one_of(
    st.sampled_from(REFS),
    st.builds(
        lambda r, o, v: f"{r} {o} {_literal(v)}", st.sampled_from(REFS), st.sampled_from(("==", "!=")), values
    ),
    st.builds(lambda r, o, v: f"{r} {o} {_literal(v)}", st.sampled_from(REFS), st.sampled_from(OPS), numbers),
    st.builds(
        lambda r, vs: f"{r} in ({', '.join(_literal(v) for v in vs)})",
        st.sampled_from(REFS),
        st.lists(values, min_size=1, max_size=3),
    ),
)
leaves = st.one_of(skill_terms, data_terms, st.sampled_from(["true", "false"]))


def _wrap(text: str, parens: bool) -> str:
    return f"({text})" if parens else text


expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda e, p: "not " + _wrap(e, p), inner, st.booleans()),
        st.builds(
            lambda es, op, ps: f" {op} ".join(_wrap(e, p) for e, p in zip(es, ps, strict=False)),
            st.lists(inner, min_size=2, max_size=4),
            st.sampled_from(("and", "or")),
            st.lists(st.booleans(), min_size=4, max_size=4),
        ),
    ),
    max_leaves=12,
)
agent_skills = st.dictionaries(st.sampled_from((*SKILLS, "golf")), st.integers(0, 10))
call_data = st.dictionaries(st.sampled_from(REFS), values)


@settings(max_examples=400, deadline=None)
@given(text=expressions, skills=agent_skills, data=call_data)
def test_bound_test_agrees_with_direct_evaluation(
    text: str, skills: dict[str, int], data: dict[str, object]
) -> None:
    req = parse(text)
    bound = req.bind(data)
    assert bound.test(skills) == req.matches(skills, data)
    assert bound.skills <= req.skills
    again = parse(bound.key).bind({})
    assert again.key == bound.key
    assert again.test(skills) == bound.test(skills)
