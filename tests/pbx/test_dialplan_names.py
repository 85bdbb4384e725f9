"""The dialplan names the code uses and the ones `asterisk/extensions_callserver.conf` defines agree.

Every context and channel variable is spelt once, in `callserver/pbx/dialplan.py`; a context the
code names but the file lacks fails on a real Asterisk at the first call, and one the file defines
but the code never names is dead configuration.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from callserver.pbx.dialplan import AGENT_LEG_CONTEXTS, AGI_GLOBAL, Context, Var

from ..helpers import ROOT

CONF = ROOT / "asterisk" / "extensions_callserver.conf"
PACKAGE = ROOT / "callserver"
NAMES_MODULE = PACKAGE / "pbx" / "dialplan.py"


def conf_contexts() -> set[str]:
    sections = re.findall(r"^\[([^\]]+)\]", CONF.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {s for s in sections if s != "globals"}


def string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string constant in a module except docstrings (prose may name a context)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_every_context_the_code_names_is_in_the_dialplan_file_and_the_other_way_round() -> None:
    named = {c.value for c in Context}
    defined = conf_contexts()
    assert named - defined == set(), "named in pbx/dialplan.py but missing from the .conf"
    assert defined - named == set(), "defined in the .conf but unknown to pbx/dialplan.py"


def test_every_variable_the_code_names_is_used_by_the_dialplan_or_read_back() -> None:
    text = CONF.read_text(encoding="utf-8")
    in_conf = set(re.findall(r"\bCS_[A-Z_]+\b", text))
    # set by callserver and read back by callserver only (re-adoption): need not appear in the file
    read_back_only = {Var.QUEUE.value, Var.CALL.value, Var.AGENT.value, Var.VOICEMAIL.value}
    named = {v.value for v in Var}
    assert in_conf - named == set(), "the .conf uses variables pbx/dialplan.py does not know"
    assert named - in_conf - read_back_only == set(), "variables nobody reads"
    assert AGI_GLOBAL in text


def test_no_module_spells_a_context_or_variable_of_its_own() -> None:
    pattern = re.compile(r"^(callserver-[a-z-]+|CS_[A-Z_]+)$")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == NAMES_MODULE:
            continue
        for line, value in string_literals(path):
            if pattern.match(value):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {value!r}")
    assert offenders == [], "\n".join(offenders)


def test_agent_leg_contexts_are_where_the_dialplan_puts_agent_legs() -> None:
    text = CONF.read_text(encoding="utf-8")
    for context in AGENT_LEG_CONTEXTS:
        assert f"[{context.value}]" in text


def test_dialplan_choices_lead_to_existing_contexts() -> None:
    defined = conf_contexts()
    # a queued caller (CS_QUEUE set) is held; otherwise Goto(callserver-${CS_NEXT},s,1), and
    # Goto(callserver-agent-${CS_ACCEPT},s,1) for agent legs
    queued = f'GotoIf($["${{{Var.QUEUE}}}" != ""]?{Context.HOLD.value},s,1)'
    assert queued in CONF.read_text(encoding="utf-8")
    for context in (Context.HOLD, Context.DIAL, Context.UNAVAILABLE):
        assert f"callserver-{context.step}" in defined
    for context in (Context.AGENT_BRIDGE, Context.AGENT_DIAL, Context.AGENT_REFUSED):
        assert f"callserver-agent-{context.agent_choice}" in defined
