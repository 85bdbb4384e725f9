"""Outcome codes: named lists from the configuration, and which list a queue's calls use.

A list is defined once under `outcomes:` and named by the queues (and, later, campaigns) that use
it, so the same codes mean the same thing wherever they are recorded. Queues naming none use the
default list made of `web.outcome_codes`, which no agent is forced to choose from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..config import OutcomeCodeConfig, OutcomeListConfig, Settings

DEFAULT_LIST = "default"


@dataclass(frozen=True, slots=True)
class OutcomeCode:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class OutcomeList:
    name: str
    codes: tuple[OutcomeCode, ...]
    required: bool

    def has(self, code: str) -> bool:
        return any(c.code == code for c in self.codes)

    def problem(self, code: str) -> str | None:
        """Why `code` cannot be sent as this list's outcome ("" is no code), or None when it can."""
        if not code:
            return "choose an outcome: this queue requires one" if self.required else None
        if not self.has(code):
            return f"'outcome' must be one of: {', '.join(c.code for c in self.codes)}"
        return None


def label_of(code: str) -> str:
    text = code.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def _codes(items: Iterable[OutcomeCodeConfig | str]) -> tuple[OutcomeCode, ...]:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(OutcomeCode(item, label_of(item)))
        else:
            out.append(OutcomeCode(item.code, item.label or label_of(item.code)))
    return tuple(out)


class OutcomeBook:
    """Every outcome list by name, and the list each queue uses."""

    def __init__(
        self, lists: Mapping[str, OutcomeList], queues: Mapping[str, str], default: OutcomeList
    ) -> None:
        self.lists = dict(lists)
        self.default = default
        self._queues = dict(queues)

    def for_queue(self, queue: str | None) -> OutcomeList:
        name = self._queues.get(queue or "")
        return self.lists[name] if name is not None else self.default

    def knows(self, code: str) -> bool:
        """Is `code` in any list (a supervisor correcting a call of any queue)?"""
        return self.default.has(code) or any(lst.has(code) for lst in self.lists.values())


def outcome_book(settings: Settings) -> OutcomeBook:
    lists = {name: _list(name, conf) for name, conf in settings.outcomes.items()}
    default = OutcomeList(DEFAULT_LIST, _codes(settings.web.outcome_codes), required=False)
    queues = {q.name: q.outcomes for q in settings.queues if q.outcomes is not None}
    return OutcomeBook(lists, queues, default)


def _list(name: str, conf: OutcomeListConfig) -> OutcomeList:
    return OutcomeList(name, _codes(conf.codes), conf.required)
