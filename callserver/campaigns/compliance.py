"""The rule engine of one campaign: may this lead be dialled now, and if not, why and from when.

It joins the jurisdiction's dial rules with the campaign's own calling windows, and owns the
campaign's abandon meter with the legal window it is measured over. Pure: time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .abandon import AbandonMeter, WindowCounts
from .model import DAY, Campaign
from .rules import CallingHours, DialContext, DialRule, Refusal, RuleSet

# without a legal cap (e.g. France), abandons are still kept under this house limit over a day
HOUSE_CAP = 0.03
HOUSE_WINDOW = DAY
# a rule's `next_at` may land inside another rule's refusal: re-check at most this often
MAX_RECHECKS = 12


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    refusals: tuple[Refusal, ...] = ()
    next_at: float | None = None  # when every rule allows it (None: never, or allowed now)

    @property
    def reason(self) -> str:
        return "; ".join(f"{r.rule}: {r.reason}" for r in self.refusals)


class Compliance:
    def __init__(self, campaign: Campaign, rules: RuleSet) -> None:
        self.rules = rules
        own: tuple[DialRule, ...] = ()
        if campaign.windows is not None:
            own = (CallingHours(campaign.windows, name="campaign_hours"),)
        self.dial_rules: tuple[DialRule, ...] = own + rules.dial_rules
        self.cap = rules.abandon.cap if rules.abandon else HOUSE_CAP
        self.window = rules.abandon.window if rules.abandon else HOUSE_WINDOW
        self.count_false_positives = rules.abandon.include_amd_false_positives if rules.abandon else True
        self.connect_within = min(
            campaign.connect_grace,
            rules.connect_within if rules.connect_within is not None else campaign.connect_grace,
        )
        self.ring_timeout = max(campaign.ring_timeout, rules.min_ring or 0.0)
        self.info_message = rules.info_message or bool(campaign.info_message)
        self.meter = AbandonMeter(max(self.window, DAY))

    def check(self, ctx: DialContext) -> list[Refusal]:
        return [r for rule in self.dial_rules if (r := rule.check(ctx)) is not None]

    def verdict(self, ctx: DialContext) -> Verdict:
        refusals = self.check(ctx)
        if not refusals:
            return Verdict(True)
        first = tuple(refusals)
        at = ctx.now
        for _ in range(MAX_RECHECKS):
            if any(r.next_at is None for r in refusals):
                return Verdict(False, first, None)
            at = max(r.next_at for r in refusals if r.next_at is not None)
            refusals = self.check(replace(ctx, now=at))
            if not refusals:
                return Verdict(False, first, at)
        return Verdict(False, first, at)

    def window_counts(self, now: float) -> WindowCounts:
        return self.meter.counts(now, self.window)
