"""Dialogue-script records as JSON and CSV, mapped field by field: a stored run for the pop's contact
history and the export (which the reports reuse), a callback request for the agent's card.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from callserver.callbacks.model import ScheduledCallback
from callserver.store.records import ScriptRunRecord

CSV_COLUMNS = (
    "run_id",
    "contact_id",
    "script_id",
    "version",
    "channel",
    "agent_id",
    "customer_id",
    "status",
    "outcome",
    "started_at",
    "ended_at",
    "path",
    "position",
    "step",
    "question",
    "kind",
    "label",
    "value",
    "shown",
    "answered_by",
    "answered_at",
)


def run_json(r: ScriptRunRecord) -> dict[str, Any]:
    """A stored run as the pop's contact history and the JSON export show it."""
    return {
        "run_id": r.run_id,
        "call_id": r.call_id,
        "script_id": r.script_id,
        "version": r.version,
        "channel": r.channel,
        "agent_id": r.agent_id,
        "status": r.status,
        "title": r.title,
        "outcome": r.outcome,
        "started_at": r.started_at.isoformat(),
        "ended_at": None if r.ended_at is None else r.ended_at.isoformat(),
        "answers": [
            {"position": a.position, "label": a.label, "shown": a.shown, "by": a.by, "at": a.at.isoformat()}
            for a in r.answers
        ],
    }


def export_json(r: ScriptRunRecord) -> dict[str, Any]:
    data = run_json(r)
    data.update(customer_id=r.customer_id, path=list(r.path), step=r.step)
    data["answers"] = [
        {
            "position": a.position,
            "step": a.step,
            "question": a.question,
            "kind": a.kind,
            "label": a.label,
            "value": a.value,
            "shown": a.shown,
            "by": a.by,
            "at": a.at.isoformat(),
        }
        for a in r.answers
    ]
    return data


def export_csv(runs: list[ScriptRunRecord]) -> str:
    """One row per answer (a run without answers: one row with the answer columns empty)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in runs:
        head = [
            r.run_id,
            r.call_id,
            r.script_id,
            r.version,
            r.channel,
            r.agent_id or "",
            "" if r.customer_id is None else r.customer_id,
            r.status,
            r.outcome or "",
            r.started_at.isoformat(),
            "" if r.ended_at is None else r.ended_at.isoformat(),
            " > ".join(r.path),
        ]
        if not r.answers:
            writer.writerow([*head, *[""] * 9])
        for a in r.answers:
            row = [a.position, a.step, a.question, a.kind, a.label, a.value, a.shown, a.by, a.at.isoformat()]
            writer.writerow([*head, *row])
    return out.getvalue()


def callback_json(item: ScheduledCallback) -> dict[str, Any]:
    return {
        "id": item.id,
        "task_id": item.task_id,
        "kind": item.kind.value,
        "queue": item.queue,
        "due_at": item.due_at.isoformat(),
        "number": item.number,
        "title": item.title,
        "note": item.note,
        "reserved_for": item.reserved_for,
        "status": item.status.value,
        "agent_id": item.agent_id,
        "outcome": item.outcome,
        "customer_id": item.customer_id,
        "script_id": item.handover.get("script_id"),
        "lines": [{"question": q, "answer": a} for q, a in item.lines],
    }
