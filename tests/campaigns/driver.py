"""A campaign engine on a virtual clock, for tests: build one, move time, feed PBX events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from callserver.campaigns.commands import Command, Dial
from callserver.campaigns.engine import CampaignEngine
from callserver.campaigns.facts import Fact
from callserver.campaigns.leads import LeadBook
from callserver.campaigns.model import Campaign, Lead, OutcomeCode, RetryPolicy
from callserver.campaigns.pacer import PredictiveSettings
from callserver.campaigns.rules import rule_set

NY = "America/New_York"
OUTCOMES = (
    OutcomeCode("sale", final=True, success=True),
    OutcomeCode("not_interested", final=True, refusal=True),
    OutcomeCode("call_back", retry_after=3600.0),
    OutcomeCode("remove", dnc=True),
)


def local(text: str, zone: str = NY) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def leads(n: int, zone: str = NY) -> list[Lead]:
    return [Lead(id=f"L{i}", numbers=(f"+1212555{i:04d}",), time_zones=(zone,), seq=i) for i in range(n)]


def campaign(**kw: object) -> Campaign:
    base: dict[str, object] = {
        "name": "spring",
        "caller_id": "+12025550100",
        "caller_name": "Acme",
        "outcome_codes": OUTCOMES,
        "info_message": "acme-info",
    }
    base.update(kw)
    return Campaign(**base)  # type: ignore[arg-type]


@dataclass
class Run:
    engine: CampaignEngine
    now: float
    commands: list[Command] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        c: Campaign,
        lead_list: list[Lead],
        *,
        start: str = "2025-03-04T10:00",
        predictive: PredictiveSettings | None = None,
    ) -> Run:
        book = LeadBook(lead_list, retry=c.retry if isinstance(c.retry, RetryPolicy) else RetryPolicy())
        engine = CampaignEngine(c, book, rule_set(c.rule_set), predictive=predictive)
        return cls(engine, local(start))

    def take(self, cmds: list[Command]) -> list[Command]:
        self.commands += cmds
        self.facts += self.engine.pop_facts()
        return cmds

    def advance(self, seconds: float) -> list[Command]:
        """Move the clock, firing every engine deadline on the way."""
        end = self.now + seconds
        out: list[Command] = []
        while (deadline := self.engine.next_deadline()) is not None and deadline <= end:
            self.now = max(self.now, deadline)
            out += self.take(self.engine.on_timer(self.now))
        self.now = end
        return out

    def dials(self, cmds: list[Command] | None = None) -> list[Dial]:
        return [c for c in (self.commands if cmds is None else cmds) if isinstance(c, Dial)]

    def of(self, kind: type[object]) -> list[object]:
        return [f for f in self.facts if isinstance(f, kind)]
