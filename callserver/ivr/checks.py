"""Checks on digits a caller typed: length, pattern, card numbers (Luhn) and DDMMYYYY dates.

Kept apart from the engine so they can be tested, and reused by other digit-collecting code, alone.
"""

from __future__ import annotations

import re
from datetime import date

from callserver.ivr.model import CollectNode


def digits_valid(node: CollectNode, text: str) -> bool:
    """Length, then the node's pattern, then its Luhn or DDMMYYYY check."""
    if not node.min_length <= len(text) <= node.max_length:
        return False
    if node.pattern is not None and re.fullmatch(node.pattern, text) is None:
        return False
    if node.check == "luhn":
        return luhn_ok(text)
    if node.check == "date":
        return date_ok(text)
    return True


def luhn_ok(text: str) -> bool:
    if not text.isdigit() or len(text) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(text)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def date_ok(text: str) -> bool:
    """DDMMYYYY naming a real day."""
    if len(text) != 8 or not text.isdigit():
        return False
    try:
        date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return False
    return True
