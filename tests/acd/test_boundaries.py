"""The ACD's public surface: outside `acd/`, code uses the service's verbs and views, not the engine.

The composition root builds the engine (and hands it to the service), and the offline capacity
simulator drives an engine of its own on a virtual clock; nothing else imports the engine's parts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import callserver

# queue_options: names and defaults the configuration shares; specs: configuration -> engine terms
PUBLIC = {"service", "views", "model", "control", "metrics", "expr", "queue_options", "specs"}
DRIVE_THE_ENGINE = {"app.py", "capacity"}


def _acd_imports(path: Path, root: Path) -> set[str]:
    """The `callserver.acd.<module>` names a module imports (absolute or relative)."""
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            if base == "callserver.acd":
                found |= {alias.name for alias in node.names}
            elif base.startswith("callserver.acd."):
                found.add(base.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("callserver.acd.")}
    return found


def test_outside_acd_only_the_service_views_and_shared_types_are_imported() -> None:
    root = Path(callserver.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in ("acd", *DRIVE_THE_ENGINE):
            continue
        for name in sorted(_acd_imports(path, root) - PUBLIC):
            offenders.append(f"{relative} imports callserver.acd.{name}")
    assert offenders == []
