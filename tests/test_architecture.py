"""The import rules of docs/architecture.md, checked on the code as it is.

- engines (the sans-I/O parts of acd/, ivr/, scripts/, campaigns/) import no I/O library and no
  adapter package: a test or a day-long simulation drives them on a virtual clock;
- `pbx/` and `facts/` sit below every capability and import none of them;
- `config.py` imports no engine, only pure name modules (cross-checks that need an engine live in
  `checks.py`);
- nothing imports the composition root `app.py` but the CLI.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from .helpers import ROOT

PACKAGE = ROOT / "callserver"

IO_LIBRARIES = {
    "asyncio",
    "socket",
    "selectors",
    "subprocess",
    "threading",
    "aiohttp",
    "aiomqtt",
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "alembic",
    "panoramisk",
    "pyttsx3",
}
ADAPTER_PACKAGES = {
    "callserver.ami",
    "callserver.agi",
    "callserver.store",
    "callserver.web",
    "callserver.mqtt",
    "callserver.sim",
    "callserver.speech",
    "callserver.app",
    "callserver.cli",
}
# the I/O side of each capability: everything else in these packages is engine
CAPABILITY_ADAPTERS = {
    "callserver.acd": {"service", "resync", "adapter", "inputs", "control", "agentleg"},
    "callserver.ivr": {"runner", "lookup", "prompts", "prompt_build"},
    "callserver.scripts": {"adapter", "desk", "selfservice", "customers", "catalog", "editor"},
    "callserver.callbacks": {"service"},
    "callserver.campaigns": {
        "service",
        "adapter",
        "api",
        "store",
        "dialler",
        "importer",
        "core",
        "supervision",
        "desk",
        "blending",
    },
    "callserver.history": set(),
    "callserver.queuelog": {"writer", "export", "command"},
    "callserver.reports": {"writer", "service", "command", "query"},
}
GROUND = ("callserver.pbx", "callserver.facts")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            # `from . import x` names a submodule when x is one
            yield from (
                f"{target}.{alias.name}" for alias in node.names if is_module(f"{target}.{alias.name}")
            )


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def engine_modules() -> list[Path]:
    found = []
    for path in modules():
        name = module_name(path)
        for package, adapters in CAPABILITY_ADAPTERS.items():
            if within(name, package) and name.rsplit(".", 1)[-1] not in adapters:
                found.append(path)
    return found


def test_engines_import_no_io_and_no_adapter() -> None:
    engines = engine_modules()
    assert len(engines) > 30  # the lists above still name real modules
    offenders = [
        f"{module_name(path)} imports {target}"
        for path in engines
        for target in imports(path)
        if target.split(".")[0] in IO_LIBRARIES or any(within(target, a) for a in ADAPTER_PACKAGES)
    ]
    assert offenders == []


def test_pbx_and_facts_import_no_capability() -> None:
    offenders = [
        f"{module_name(path)} imports {target}"
        for path in modules()
        if any(within(module_name(path), g) for g in GROUND)
        for target in imports(path)
        if within(target, "callserver") and not any(within(target, g) for g in GROUND)
    ]
    assert offenders == []


def test_config_imports_no_engine() -> None:
    # pure names and defaults: dialplan contexts, what a queue's configuration may choose
    allowed = {"callserver.pbx.dialplan", "callserver.acd", "callserver.acd.queue_options"}
    offenders = [
        target
        for target in imports(PACKAGE / "config.py")
        if within(target, "callserver") and target not in allowed
    ]
    assert offenders == []


def test_nothing_but_the_cli_imports_the_composition_root() -> None:
    offenders = [
        module_name(path)
        for path in modules()
        if path.name not in ("app.py", "cli.py")
        for target in imports(path)
        if target == "callserver.app" or target.startswith("callserver.app.")
    ]
    assert offenders == []
