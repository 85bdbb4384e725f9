"""Past campaign activity written into a store before the server starts, through the one write path
(facts applied by the store), so a test starts with a campaign that has a history."""

from __future__ import annotations

from typing import Any

from callserver.config import CampaignConfig, Settings
from callserver.facts.campaign import (
    AttemptAmd,
    AttemptEnded,
    AttemptStarted,
    CampaignSaved,
    LeadRecord,
    LeadsImported,
)
from callserver.facts.model import Fact
from callserver.store.store import Store


def past_attempts(
    campaign: str, start: float, *, people: int, machines: int, nobody: int, abandoned: int = 0
) -> list[Fact]:
    """Dials of the past hour: `people` answered by a person (the first `abandoned` of them
    dropped), `machines` taken for machines by AMD, `nobody` rang out."""
    facts: list[Fact] = []
    kinds = ["person"] * people + ["machine"] * machines + ["nobody"] * nobody
    for i, kind in enumerate(kinds):
        t = start + i * 10.0
        att = f"{campaign}-past-{i}"
        facts.append(AttemptStarted(att, campaign, t, f"past{i}", "+12125559999", None))
        if kind == "nobody":
            facts.append(
                AttemptEnded(
                    att,
                    campaign,
                    t + 25,
                    f"past{i}",
                    "+12125559999",
                    "no_answer",
                    t,
                    t + 1,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    False,
                    False,
                    "network",
                )
            )
            continue
        person = kind == "person"
        dropped = person and i < abandoned
        facts.append(AttemptAmd(att, campaign, t + 10, "human" if person else "machine", 2.0))
        facts.append(
            AttemptEnded(
                att,
                campaign,
                t + (60 if person else 12),
                f"past{i}",
                "+12125559999",
                ("abandoned" if dropped else "connected") if person else "machine",
                t,
                t + 1,
                t + 8,
                "human" if person else "machine",
                2.0,
                t + 10 if person else None,
                None if dropped or not person else t + 10.5,
                None if dropped or not person else "agent1",
                dropped,
                dropped,
                "customer",
            )
        )
    return facts


async def seed(
    settings: Settings, config: dict[str, Any], leads: list[tuple[str, str]], facts: list[Fact], at: float
) -> None:
    store = await Store.open(settings.database_url())
    try:
        body = CampaignConfig.model_validate(config).model_dump(mode="json")
        records = tuple(
            LeadRecord(lead_id, (number,), ("America/New_York",), {"name": lead_id}, 0, i, "new")
            for i, (lead_id, number) in enumerate(leads)
        )
        await store.apply(
            [
                CampaignSaved(config["name"], at, body, "test"),
                LeadsImported(config["name"], at, "seeded", records, len(records), 0, 0, "test"),
                *facts,
            ]
        )
    finally:
        await store.close()
