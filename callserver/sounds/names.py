"""Every sound name callserver plays, defined once: the Asterisk core sounds it relies on, and the
prompts it produces itself, with their words in each language they exist in.

Code never spells a sound name of its own: it imports one from here. A test checks that every core
name below is in Asterisk 22's core list and that the dialplan file plays nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# -- Asterisk core sounds (callserver/sounds/core-sounds-en.txt) --------------------------------
BEEP = "beep"  # RECORD FILE ... BEEP plays it before recording
VM_INTRO = "vm-intro"  # "please leave your message after the tone..."
VM_GOODBYE = "vm-goodbye"  # a queue's default message before hang-up
SS_NOSERVICE = "ss-noservice"  # [callserver-unavailable]
QUEUE_THEREARE = "queue-thereare"  # [callserver-announce]: position ...
QUEUE_HOLDTIME = "queue-holdtime"  # ... and estimated wait
QUEUE_MINUTES = "queue-minutes"
AUTH_THANKYOU = "auth-thankyou"  # [callserver-callback]

CORE_USED = frozenset(
    {BEEP, VM_INTRO, VM_GOODBYE, SS_NOSERVICE, QUEUE_THEREARE, QUEUE_HOLDTIME, QUEUE_MINUTES, AUTH_THANKYOU}
)


# -- prompts callserver produces (`callserver prompts build`) -----------------------------------
@dataclass(frozen=True, slots=True)
class OwnPrompt:
    """A prompt the project synthesises into its sounds folder as `<language>/<name>`."""

    name: str
    texts: Mapping[str, str]  # language -> what is said


ACCEPT_CALL = OwnPrompt(
    "press-1",
    {
        "en": "You have a call. Press 1 to take it.",
        "fr": "Vous avez un appel. Tapez 1 pour le prendre.",
    },
)
VOICEMAIL_FAILED = OwnPrompt(
    "voicemail-failed",
    {
        "en": "We are sorry, your message cannot be recorded at the moment.",
        "fr": "Nous sommes désolés, votre message ne peut pas être enregistré pour le moment.",
    },
)

CAMPAIGN_INFO = OwnPrompt(
    "campaign-info",
    {
        "en": "Hello. We called you, and we are sorry that no one was free to speak with you."
        " You can call us back on the number that follows.",
        "fr": "Bonjour. Nous vous avons appelé et sommes désolés que personne n'ait été disponible"
        " pour vous parler. Vous pouvez nous rappeler au numéro qui suit.",
    },
)
CAMPAIGN_MACHINE = OwnPrompt(
    "campaign-machine",
    {
        "en": "Hello, we tried to reach you and will try again. You can also call us back on the"
        " number shown. Thank you.",
        "fr": "Bonjour, nous avons essayé de vous joindre et rappellerons. Vous pouvez aussi nous"
        " rappeler au numéro affiché. Merci.",
    },
)

OWN_PROMPTS: tuple[OwnPrompt, ...] = (ACCEPT_CALL, VOICEMAIL_FAILED, CAMPAIGN_INFO, CAMPAIGN_MACHINE)


def own_prompt(name: str) -> OwnPrompt:
    """The project prompt called `name`; KeyError names the ones that exist."""
    for prompt in OWN_PROMPTS:
        if prompt.name == name:
            return prompt
    raise KeyError(f"no callserver prompt {name!r} (known: {', '.join(p.name for p in OWN_PROMPTS)})")
