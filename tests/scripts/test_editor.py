"""The editor's server side: a draft's tree, a preview that lists what would be done, and saving
as the next version of the file, which keeps the previous one and refuses a stale base or errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from callserver.scripts.catalog import ScriptCatalog
from callserver.scripts.editor import EditorError, ScriptFiles, tree, with_version
from tests.scripts.helpers import BILLING, CONTEXT

TYPES = {"balance": "amount", "payment_plan": "text"}


def files(tmp_path: Path) -> ScriptFiles:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "billing.xml").write_bytes(BILLING.read_bytes())
    return ScriptFiles(ScriptCatalog(folder=folder), CONTEXT, TYPES)


def test_the_version_is_changed_in_the_root_element_only() -> None:
    text = (
        b'<?xml version="1.0"?>\n<!-- <script version="9"> in a comment -->\n'
        b"<script\n  xmlns='urn:callserver:script:1' id='x' version = '4' start='a'>"
        b'<title>t</title><step id="a"><note>version="4"</note><end/></step></script>'
    )
    changed = with_version(text, 5)
    assert changed == text.replace(b"version = '4'", b"version = '5'")


def test_saving_writes_the_next_version_and_keeps_the_previous_one(tmp_path: Path) -> None:
    editor = files(tmp_path)
    found = editor.source("billing")
    assert found is not None
    original, path = found
    draft = original.replace("There is nothing to pay", "Nothing is due")
    saved = editor.save("billing", draft)
    assert saved.script.version == 2 and saved.path == path
    assert path.read_text(encoding="utf-8") == draft.replace('version="1" start', 'version="2" start')
    assert saved.replaced == path.parent / "versions" / "billing" / "billing.v1.xml"
    assert saved.replaced.read_text(encoding="utf-8") == original
    assert editor.versions("billing") == [1]
    assert editor.catalog.scripts["billing"].version == 2
    # a draft still based on version 1 would undo the save just made: refused, nothing written
    with pytest.raises(EditorError) as stale:
        editor.save("billing", draft.replace("Nothing is due", "Zero"))
    assert stale.value.status == 409 and "reload it" in str(stale.value)
    assert "Zero" not in path.read_text(encoding="utf-8")


def test_a_draft_with_errors_or_another_id_is_not_saved(tmp_path: Path) -> None:
    editor = files(tmp_path)
    original = BILLING.read_text(encoding="utf-8")
    with pytest.raises(EditorError) as bad:
        editor.save("billing", original.replace('to="plan_day"', 'to="plan_dya"'))
    assert next(p.message for p in bad.value.problems) == "unknown step 'plan_dya' (did you mean 'plan_day'?)"
    with pytest.raises(EditorError, match="the draft is script 'billing', not 'other'"):
        editor.save("other", original)
    assert not (tmp_path / "scripts" / "versions").exists()
    new = original.replace('id="billing"', 'id="retention"')
    saved = editor.save("retention", new)
    assert saved.script.version == 1 and saved.replaced is None


def test_the_tree_and_a_preview_as_agent_and_as_customer(tmp_path: Path) -> None:
    editor = files(tmp_path)
    text = BILLING.read_text(encoding="utf-8")
    script, problems = editor.check(text)
    assert script is not None and problems == []
    steps = {s["id"]: s for s in tree(script)}
    assert steps["greet"]["start"] and steps["take_card"]["audience"] == "agent"
    assert steps["plan_day"]["actions"] == ["set payment_plan", "outcome follow-up", "callback billing"]
    assert steps["balance_due"]["branches"] == [{"when": "data.wants_plan == true", "to": "plan_months"}]

    moves = [{"op": "next"}, {"op": "next", "value": "yes"}, {"op": "next", "value": "6"}]
    agent = editor.preview(text, "agent", moves, None)
    assert agent["view"]["step"] == "plan_day" and agent["error"] is None
    customer = editor.preview(text, "customer", [*moves, {"op": "talk"}], None)
    assert customer["view"] == {"status": "handed_off"}
    assert customer["commands"] == [
        "schedule a callback by queue billing, as soon as possible, with 2 answer(s)",
        "end the run: handed_off",
    ]
    refused = editor.preview(text, "customer", [{"op": "next"}, {"op": "next", "value": "maybe"}], None)
    assert refused["error"] == "Answer yes or no." and refused["view"]["title"] == "Balance"
