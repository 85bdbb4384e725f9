"""The browser editor's server side: checking a draft, drawing its tree of steps, previewing it as an
agent or a customer, and saving it as the next version of its file.

The file stays the source of truth: a save writes `<dir>/<id>.xml` (version incremented, the
text otherwise as the person wrote it) after copying the version it replaces to
`<dir>/versions/<id>/<id>.v<N>.xml`, and only a draft that reads and checks without errors is
saved. A save based on an older version than the file's is refused, so two editors cannot
overwrite each other. The catalog then serves the new version to runs that start from now on.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, assert_never

from callserver.scripts import present
from callserver.scripts.answers import AnswerError
from callserver.scripts.catalog import VERSIONS_DIR, ScriptCatalog, read_checked
from callserver.scripts.commands import (
    Command,
    CreateTask,
    End,
    ScheduleCallback,
    SetCustomerField,
    SetOutcome,
    TransferToAgent,
    TransferToQueue,
)
from callserver.scripts.engine import NavigationError, RunContext, ScriptRun
from callserver.scripts.model import (
    CUSTOMER,
    AgentTransferSpec,
    CallbackSpec,
    QueueTransferSpec,
    Script,
    ScriptContext,
    SetFieldSpec,
    SetOutcomeSpec,
    TaskSpec,
)
from callserver.scripts.problems import Problem
from callserver.scripts.read import read_script
from callserver.scripts.record import RunStateError

MAX_MOVES = 200
PREVIEW_AGENT = "preview"
_ROOT_TAG = re.compile(rb"<script\b[^>]*>", re.DOTALL)
_VERSION = re.compile(rb"""(\bversion\s*=\s*)(["'])\s*\d+\s*\2""")
_SAMPLES: dict[str, object] = {"amount": Decimal("42.10"), "number": Decimal(1), "yes-no": False, "text": ""}


class EditorError(Exception):
    """A draft that cannot be saved; `problems` say where, `status` the HTTP status."""

    def __init__(self, message: str, problems: list[Problem] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.problems = problems or []
        self.status = status


@dataclass(frozen=True, slots=True)
class Saved:
    script: Script
    path: Path
    replaced: Path | None  # where the previous version was kept


def problem_json(p: Problem) -> dict[str, Any]:
    return {"line": p.line, "step": p.step, "message": p.message, "warning": p.warning, "text": str(p)}


def tree(script: Script) -> list[dict[str, Any]]:
    """The steps in file order, each with its question, its actions and where it may lead."""
    out = []
    for step in script.steps.values():
        question = step.question
        out.append(
            {
                "id": step.id,
                "title": step.title or "",
                "line": step.line,
                "audience": step.audience.value,
                "start": step.id == script.start,
                "question": None
                if question is None
                else {"name": question.name, "kind": question.kind, "label": question.label.source},
                "actions": [_action(a) for a in step.actions],
                "branches": [{"when": b.when.source, "to": b.to} for b in step.branches],
                "next": step.next,
                "ends": step.next is None,
            }
        )
    return out


def _action(action: object) -> str:
    match action:
        case SetFieldSpec():
            return f"set {action.field}"
        case SetOutcomeSpec():
            return f"outcome {action.code}"
        case CallbackSpec():
            return f"callback {action.queue or ''}".strip()
        case QueueTransferSpec():
            return f"transfer to queue {action.queue}"
        case AgentTransferSpec():
            return f"transfer to agent {action.agent}"
        case TaskSpec():
            return f"task {action.queue or ''}".strip()
    return "action"


class ScriptFiles:
    """The scripts folder as the editor sees it."""

    def __init__(self, catalog: ScriptCatalog, context: ScriptContext, field_types: dict[str, str]) -> None:
        self.catalog = catalog
        self.context = context
        self.field_types = field_types

    @property
    def folder(self) -> Path:
        if self.catalog.folder is None:
            raise EditorError("no scripts folder is configured (scripts.dir)", status=409)
        return self.catalog.folder

    def source(self, script_id: str) -> tuple[str, Path] | None:
        path = self.catalog.files.get(script_id) or self.folder / f"{script_id}.xml"
        if not path.is_file():
            return None
        return path.read_text(encoding="utf-8"), path

    def versions(self, script_id: str) -> list[int]:
        folder = self.folder / VERSIONS_DIR / script_id
        found = []
        for path in folder.glob(f"{script_id}.v*.xml") if folder.is_dir() else []:
            number = path.name.removeprefix(f"{script_id}.v").removesuffix(".xml")
            if number.isdigit():
                found.append(int(number))
        return sorted(found)

    def check(self, text: str) -> tuple[Script | None, list[Problem]]:
        return read_checked(text.encode("utf-8"), "draft.xml", self.context)

    def save(self, script_id: str, text: str) -> Saved:
        """Write `text` as the next version of `script_id` (see the module docstring)."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,63}", script_id):
            raise EditorError("a script id is a letter then letters, digits, _ or -")
        data = text.encode("utf-8")
        script, problems = read_checked(data, f"{script_id}.xml", self.context)
        if script is None:
            raise EditorError("the script has errors", problems)
        if script.id != script_id:
            raise EditorError(f"the draft is script '{script.id}', not '{script_id}'")
        folder = self.folder
        path = folder / f"{script_id}.xml"
        replaced: Path | None = None
        if path.is_file():
            current, _ = read_script(path.read_bytes(), str(path))
            current_version = current.version if current is not None else 0
            if current is not None and script.version != current_version:
                raise EditorError(
                    f"the file is at version {current_version} and the draft was based on version "
                    f"{script.version}: reload it before saving",
                    status=409,
                )
            data = with_version(data, current_version + 1)
            replaced = folder / VERSIONS_DIR / script_id / f"{script_id}.v{current_version}.xml"
        saved, problems = read_checked(data, str(path), self.context)
        if saved is None:  # cannot happen for a draft that checked, but never write one that fails
            raise EditorError("the script has errors", problems)
        if replaced is not None and not replaced.exists():
            replaced.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(replaced, path.read_bytes())
        _write_atomically(path, data)
        self.catalog.replace(saved, path)
        return Saved(saved, path, replaced)

    def preview(
        self, text: str, audience: str, moves: list[dict[str, Any]], customer: dict[str, object] | None
    ) -> dict[str, Any]:
        """Run the draft in memory as an agent or a customer would, through `moves`; nothing is
        carried out, the commands are listed instead."""
        script, problems = self.check(text)
        if script is None:
            raise EditorError("the script has errors", problems)
        now = datetime.now(UTC)
        agent = None if audience == "customer" else PREVIEW_AGENT
        by = CUSTOMER if agent is None else PREVIEW_AGENT
        try:
            run = ScriptRun(
                script,
                RunContext("preview", agent=agent, customer=customer or self.sample_customer(), call={}),
                now,
            )
        except RunStateError as err:
            raise EditorError(str(err)) from None
        done: list[str] = []
        error: str | None = None
        for move in moves[:MAX_MOVES]:
            op = move.get("op")
            try:
                if op == "next":
                    if script.steps[run.step].question is not None:
                        run.answer(run.step, move.get("value"), by=by, now=now)
                    done += [describe(c) for c in run.forward(by=by, now=now)]
                elif op == "back":
                    run.back(by=by, now=now)
                elif op == "talk":
                    done += [describe(c) for c in run.talk_to_someone(by=by, now=now)]
                else:
                    raise NavigationError(f"unknown move '{op}'")
            except (AnswerError, NavigationError, RunStateError) as err:
                error = str(err)
                break
        view: dict[str, Any]
        if run.status.value != "active":
            view = {"status": run.status.value}
        elif agent is None:
            view = present.public_view(run, now)
        else:
            view = present.agent_view(run, now, "preview")
        return {"view": view, "commands": done, "error": error, "moves": len(moves[:MAX_MOVES])}

    def sample_customer(self) -> dict[str, object]:
        sample: dict[str, object] = {"id": 0, "name": "Sample Customer", "account": "000000", "vip": False}
        for name, kind in self.field_types.items():
            sample.setdefault(name, date.today() if kind == "date" else _SAMPLES.get(kind, ""))
        return sample


def describe(command: Command) -> str:
    """What a preview would have done, in a line."""
    match command:
        case SetCustomerField():
            return f"set customer field {command.field} to '{command.value}'"
        case SetOutcome():
            return f"set the outcome {command.code}"
        case ScheduleCallback():
            when = command.due.isoformat() if command.due else "as soon as possible"
            who = command.agent or f"queue {command.queue or 'of the call'}"
            return f"schedule a callback by {who}, {when}, with {len(command.handover.lines)} answer(s)"
        case CreateTask():
            return f"create the task '{command.title}' for queue {command.queue or 'of the call'}"
        case TransferToQueue():
            return f"transfer the call to queue {command.queue}"
        case TransferToAgent():
            return f"transfer the call to agent {command.agent}"
        case End():
            return f"end the run: {command.status.value}"
        case _:
            assert_never(command)


def with_version(data: bytes, version: int) -> bytes:
    """`data` with the root element's version attribute set to `version`, nothing else changed."""
    root = _ROOT_TAG.search(data, _root_start(data))
    if root is None:
        raise EditorError("no <script> element found")
    tag = root.group(0)
    changed, count = _VERSION.subn(
        lambda m: m.group(1) + m.group(2) + str(version).encode() + m.group(2), tag, 1
    )
    if count != 1:
        raise EditorError("the <script> element has no version attribute")
    return data[: root.start()] + changed + data[root.end() :]


def _root_start(data: bytes) -> int:
    """Where the root element starts: past the XML declaration, comments and processing
    instructions (a comment may well mention `<script`)."""
    at = 0
    while True:
        at = data.index(b"<", at)
        if data.startswith(b"<!--", at):
            at = data.index(b"-->", at) + 3
        elif data.startswith(b"<?", at):
            at = data.index(b"?>", at) + 2
        else:
            return at


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xml", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["EditorError", "Saved", "ScriptFiles", "problem_json", "tree", "with_version"]
