"""A campaign's configuration (`CampaignConfig`, from the REST API or the YAML seed) in the engine's
terms: the one translation, as `acd/specs.py` is for queues and agents."""

from __future__ import annotations

from callserver.config import WEEKDAYS, CampaignConfig

from .model import (
    DAY,
    DEFAULT_RETRIES,
    AmdSettings,
    AttemptResult,
    CallingWindows,
    Campaign,
    DialMode,
    LeadOrder,
    MachineHandling,
    OutcomeCode,
    RetryPolicy,
    RetryRule,
    TimeWindow,
)


def windows_of(config: CampaignConfig) -> CallingWindows | None:
    if not config.windows:
        return None
    days: dict[int, tuple[TimeWindow, ...]] = {}
    for window in config.windows:
        for day in window.days:
            index = WEEKDAYS.index(day)
            days[index] = (*days.get(index, ()), TimeWindow(window.start, window.end))
    return CallingWindows(days, skip_public_holidays=config.skip_holidays)


def campaign_of(config: CampaignConfig) -> Campaign:
    rules = dict(DEFAULT_RETRIES)
    for result, rule in config.retry.rules.items():
        rules[AttemptResult(result)] = RetryRule(rule.delay, rule.max_attempts)
    a = config.amd
    return Campaign(
        name=config.name,
        mode=DialMode(config.mode),
        skills=frozenset(config.skills),
        agents=frozenset(config.agents),
        caller_id=config.caller_id,
        caller_name=config.caller_name,
        outcome_codes=tuple(
            OutcomeCode(
                o.code,
                o.label or o.code.replace("_", " ").capitalize(),
                final=o.final,
                refusal=o.refusal,
                success=o.success,
                dnc=o.dnc,
                retry_after=o.retry_after,
            )
            for o in config.outcome_codes
        ),
        windows=windows_of(config),
        retry=RetryPolicy(
            rules=rules,
            max_attempts=config.retry.max_attempts,
            period=config.retry.period_days * DAY,
            default_retry_after=config.retry.default_retry_after,
        ),
        rule_set=config.rule_set,
        inbound_priority=config.inbound_priority,
        amd=AmdSettings(
            enabled=a.enabled,
            initial_silence=a.initial_silence,
            greeting=a.greeting,
            after_greeting_silence=a.after_greeting_silence,
            total_analysis_time=a.total_analysis_time,
            min_word_length=a.min_word_length,
            between_words_silence=a.between_words_silence,
            maximum_number_of_words=a.maximum_number_of_words,
            silence_threshold=a.silence_threshold,
            maximum_word_length=a.maximum_word_length,
            false_positive_estimate=a.false_positive_estimate,
        ),
        machine_handling=MachineHandling(config.machine_handling),
        machine_message=config.machine_message,
        info_message=config.info_message,
        ring_timeout=config.ring_timeout,
        max_lines_per_agent=config.max_lines_per_agent,
        trunk=config.trunk,
        dials_per_second=config.dials_per_second,
        abandon_target=config.abandon_target,
        min_predictive_agents=config.min_predictive_agents,
        learn_dials=config.learn_dials,
        preview_auto_dial=config.preview_auto_dial,
        lead_order=LeadOrder(config.lead_order),
        connect_grace=config.connect_grace,
    )


def works_for(config: CampaignConfig, agent_id: str, skills: dict[str, int]) -> bool:
    """Whether an agent works this campaign: named in `agents`, or holding every skill in
    `skills`; a campaign naming neither takes every agent."""
    if config.agents and agent_id in config.agents:
        return True
    if config.skills:
        return all(s in skills for s in config.skills)
    return not config.agents
