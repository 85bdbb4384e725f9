"""What a queue's configuration chooses, and the default of each choice, defined once.

The configuration schema (`config.QueueRules`) and the engine's `QueueSpec` both take their
defaults from here, so a queue written with nothing but a name behaves the same whether the
server, a capacity scenario or a test built it. Pure names and numbers: importing this module
imports no engine, which is why the configuration (the ground floor) may use it.
"""

from __future__ import annotations

from enum import StrEnum

from ..sounds.names import VM_GOODBYE


class Strategy(StrEnum):
    """How a queue picks among the free agents who match a call."""

    LONGEST_IDLE = "longest_idle"
    LEAST_OCCUPIED = "least_occupied"
    FEWEST_CALLS = "fewest_calls"
    BEST_SKILL = "best_skill"
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    RING_ALL = "ring_all"


STRATEGY = Strategy.LONGEST_IDLE
MAX_WAIT = 300.0  # seconds in the queue before `on_timeout`
RING_TIMEOUT = 15.0  # seconds an agent's phone rings before the offer moves on
WRAPUP = 0.0  # seconds of wrap-up after each call, when neither the queue nor the server gives one
WRAPUP_EXTENSION = 120.0  # seconds an agent may extend a wrap-up by, unless the queue says
PRIORITY = 0
VIP_PRIORITY = 0
PAUSE_AFTER_NO_ANSWERS = 1  # offers in a row an agent may let ring out before being paused
TASK_PRIORITY = -1000  # voicemail tasks wait behind live calls unless raised
TIMEOUT_MESSAGE = VM_GOODBYE  # what a caller hears when the queue lets them go with nothing else
