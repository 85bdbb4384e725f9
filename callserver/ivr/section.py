"""The `ivr` section of the settings, parsed and checked against the settings' queues.

Kept apart from `validate.py` because it needs the customer record's fields (`runner.py`, which
plays flows over FastAGI): importing the IVR engine must not import the FastAGI session or the store.
"""

from __future__ import annotations

from pathlib import Path

from callserver.config import Settings
from callserver.ivr.model import IvrConfig
from callserver.ivr.runner import CUSTOMER_FIELDS
from callserver.ivr.validate import validate_flows

# what `customer.*` may name: the customer record, and the account figures the lookup adds
KNOWN_CUSTOMER_FIELDS = frozenset(CUSTOMER_FIELDS | {"balance"})


def flows_of(settings: Settings, sounds_dir: Path | None = None) -> tuple[IvrConfig | None, list[str]]:
    """The settings' flows and one line per fault (None: no `ivr` section, or an error in it)."""
    if settings.ivr is None:
        return None, []
    return validate_flows(
        settings.ivr,
        "ivr",
        queues={q.name for q in settings.queues},
        customer_fields=set(KNOWN_CUSTOMER_FIELDS),
        sounds_dir=sounds_dir,
    )
