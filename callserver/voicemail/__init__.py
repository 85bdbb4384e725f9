"""Voicemail: messages callers leave in a queue's or an agent's mailbox, worked as ACD tasks.

`model.py` holds the record and its status machine, `store.py` the repository over the main
store's `voicemails` table, `service.py` deposits a message, routes it to an agent through the ACD
and follows it to its outcome, `audio.py` turns a recording into WAV for the browser.
"""

from callserver.voicemail.model import Mailbox, Voicemail, VoicemailStatus, VoicemailWaiting
from callserver.voicemail.service import VoicemailService
from callserver.voicemail.store import VoicemailStore

__all__ = [
    "Mailbox",
    "Voicemail",
    "VoicemailService",
    "VoicemailStatus",
    "VoicemailStore",
    "VoicemailWaiting",
]
