"""Asterisk core sounds that callserver names in code (the dialplan names its own in the .conf files).

Each must exist in every installation: `asterisk/README.md` lists them with the sound packages.
"""

from __future__ import annotations

GOODBYE = "vm-goodbye"  # played before hanging up on a caller no queue could keep
