"""One write path: call rows change only in the store's fact mapping, reached through the bus and
the FactWriter. This reads the source, so a side door added later fails here, not in production."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "callserver"
CALL_TABLES = {"Call", "CallOffer", "CallEvent"}
FACT_MAPPING = PACKAGE / "store" / "facts.py"
VOICEMAIL_REPOSITORY = PACKAGE / "voicemail" / "store.py"


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(PACKAGE.rglob("*.py"))]


def _model_imports(tree: ast.Module) -> set[str]:
    """Names a module imports from callserver.store.models ("*" for the module itself)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("store.models"):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith("store"):
            names |= {"*" for a in node.names if a.name == "models"}
        elif isinstance(node, ast.Import):
            names |= {"*" for a in node.names if a.name == "callserver.store.models"}
    return names


def side_doors(name: str, tree: ast.Module) -> list[str]:
    """Rows of the call tables made, or UPDATE/INSERT/DELETE statements on them, in one module."""
    tables = CALL_TABLES & _model_imports(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func, target = node.func, node.args[0] if node.args else None
        called = (
            func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        )
        if called in tables:
            found.append(f"{name}:{node.lineno} makes a {called} row")
        if called in {"update", "insert", "delete"} and isinstance(target, ast.Name) and target.id in tables:
            found.append(f"{name}:{node.lineno} runs {called}({target.id})")
    return found


def test_only_the_store_imports_its_tables_and_voicemail_only_its_own() -> None:
    found = []
    for path, tree in _modules():
        if path.is_relative_to(PACKAGE / "store"):
            continue
        allowed = {"VoicemailRow"} if path == VOICEMAIL_REPOSITORY else set()
        if extra := _model_imports(tree) - allowed:
            found.append(f"{path.relative_to(PACKAGE)} imports {sorted(extra)} from the store's models")
    assert found == []


def test_call_rows_are_created_and_changed_only_by_the_fact_mapping() -> None:
    found = []
    for path, tree in _modules():
        if path != FACT_MAPPING:
            found += side_doors(str(path.relative_to(PACKAGE)), tree)
    assert found == []


def test_a_side_door_would_be_seen() -> None:
    source = (
        "from sqlalchemy import update\n"
        "from callserver.store.models import Call\n"
        "async def save(s):\n"
        "    await s.execute(update(Call).values(wrapup_note='x'))\n"
        "    s.add(Call(id='c1'))\n"
    )
    assert sorted(side_doors("door.py", ast.parse(source))) == [
        "door.py:4 runs update(Call)",
        "door.py:5 makes a Call row",
    ]
