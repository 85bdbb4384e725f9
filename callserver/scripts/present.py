"""A run's current step as JSON: the whole view for an agent's panel, and a customer's view for the
public page that says no more than the script shows (no step ids, no question names, no run or
customer ids, no agents' notes). Mapped explicitly, field by field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callserver.scripts.engine import ScriptRun
from callserver.scripts.view import QuestionView, StepView

Json = dict[str, Any]


def _question(q: QuestionView, *, public: bool) -> Json:
    data: Json = {
        "kind": q.kind,
        "label": q.label,
        "hint": q.hint,
        "required": q.required,
        "options": [{"value": o.value, "label": o.label} for o in q.options],
        "min": q.min,
        "max": q.max,
        "decimals": q.decimals,
        "min_length": q.min_length,
        "max_length": q.max_length,
        "pattern": q.pattern,
        "multiline": q.multiline,
        "answer": q.answer,
        "shown": q.shown,
    }
    if not public:
        data["name"] = q.name
    return data


def _common(view: StepView, *, public: bool) -> Json:
    return {
        "status": view.status.value,
        "title": view.title,
        "position": view.position,
        "texts": [{"kind": t.kind, "text": t.text} for t in view.texts],
        "question": None if view.question is None else _question(view.question, public=public),
        "ends": view.ends,
        "can_back": view.can_back,
    }


def agent_view(run: ScriptRun, now: datetime, call_id: str) -> Json:
    """Everything the agent's panel shows: the step, the way so far, what is still required."""
    view = run.view(now)
    data = _common(view, public=False)
    data.update(
        run_id=run.run_id,
        call_id=call_id,
        script_id=run.script.id,
        version=run.script.version,
        script_title=run.script.title,
        step=view.step,
        path=[
            {"step": step, "title": run.script.steps[step].title or step, "position": i}
            for i, step in enumerate(run.path)
        ],
        answers=[
            {"position": a.position, "label": a.label, "shown": a.shown, "by": a.by} for a in run.answers
        ],
        pending=[{"kind": p.kind, "message": p.message} for p in view.pending],
        complete_before_wrapup=run.script.complete_before_wrapup,
        outcome=run.outcome,
    )
    return data


def public_view(run: ScriptRun, now: datetime) -> Json:
    """A customer's page: what the script shows them, and nothing that identifies anything inside."""
    view = run.view(now)
    data = _common(view, public=True)
    data["handoff_label"] = view.handoff_label
    return data
