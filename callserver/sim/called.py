"""People and machines the simulator's trunk reaches when callserver dials out (campaigns).

Each dial of an outside number draws who is there, from `simulator.outbound`: a person, an
answering machine, nobody, a busy line or a number that does not exist, with ring times, how long
a person waits in silence before hanging up, how long they talk, and what Asterisk's `AMD()` will
decide about them (and after how long). Tests fix a number's behaviour with `set_called`.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, replace

from callserver.config import SimOutbound


class Kind(enum.Enum):
    PERSON = "person"
    MACHINE = "machine"
    NOBODY = "nobody"
    BUSY = "busy"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class CalledParty:
    """Who answers one dial, drawn up front (simulator seconds, not yet scaled)."""

    kind: Kind
    answer_after: float  # rings before answering; for busy/invalid, before the refusal
    patience: float  # a person in silence this long hangs up
    talk: float  # a person, once bridged to someone
    length: float  # a machine's greeting and recording before it hangs up
    greeting: float  # a machine's greeting, up to the beep
    amd_says: str  # HUMAN or MACHINE: what AMD() will decide
    amd_delay: float

    @property
    def answers(self) -> bool:
        return self.kind in (Kind.PERSON, Kind.MACHINE)


def _draw(rng: random.Random, span: tuple[float, float]) -> float:
    return rng.uniform(*span)


class CalledParties:
    def __init__(self, config: SimOutbound, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.fixed: dict[str, dict[str, object]] = {}

    def set_called(self, number: str, **behaviour: object) -> None:
        """Fix how `number` answers: `kind` ("person"...), `answer_after`, `talk`, `patience`,
        `amd_says` ("HUMAN"/"MACHINE"), `amd_delay`... (unset fields are drawn)."""
        if "kind" in behaviour:
            behaviour["kind"] = Kind(behaviour["kind"])
        self.fixed[number] = behaviour

    def draw(self, number: str) -> CalledParty:
        c, rng = self.config, self.rng
        fixed = self.fixed.get(number, {})
        kind = fixed.get("kind")
        if not isinstance(kind, Kind):
            kind = rng.choices(list(Kind), weights=[c.person, c.machine, c.nobody, c.busy, c.invalid])[0]
        person = kind is Kind.PERSON
        if kind is Kind.PERSON:
            answer = _draw(rng, c.person_answer)
        elif kind is Kind.MACHINE:
            answer = _draw(rng, c.machine_answer)
        elif kind is Kind.BUSY:
            answer = _draw(rng, c.busy_after)
        elif kind is Kind.INVALID:
            answer = _draw(rng, c.invalid_after)
        else:
            answer = float("inf")
        wrong = rng.random() < (c.amd_false_positive if person else c.amd_false_negative)
        says = "HUMAN" if person != wrong else "MACHINE"
        party = CalledParty(
            kind=kind,
            answer_after=answer,
            patience=_draw(rng, c.patience),
            talk=_draw(rng, c.talk),
            length=_draw(rng, c.machine_length),
            greeting=_draw(rng, c.greeting),
            amd_says=says,
            amd_delay=_draw(rng, c.amd_person_delay if says == "HUMAN" else c.amd_machine_delay),
        )
        overrides = {k: v for k, v in fixed.items() if k != "kind"}
        return replace(party, **overrides) if overrides else party  # type: ignore[arg-type]
