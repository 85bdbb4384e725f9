"""Wrap-up after a call: the outcome codes agents choose from (per queue, later per campaign)."""

from .codes import OutcomeBook, OutcomeCode, OutcomeList, outcome_book

__all__ = ["OutcomeBook", "OutcomeCode", "OutcomeList", "outcome_book"]
