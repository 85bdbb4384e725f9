"""Which agents' phones the PBX can reach, from what it says about SIP contacts and devices.

Asterisk qualifies each registered contact and reports `ContactStatus` (class system) per contact,
and the resulting `DeviceStateChange` (class call) per device: `PJSIP/1001` becomes UNAVAILABLE
when none of its contacts answers. Either one tells whether a call to the agent's endpoint can ring
at all. This turns them into one answer per device and says which agents it concerns; sans-I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

# DeviceStateChange states that mean nothing can ring there (UNKNOWN says nothing either way)
UNREACHABLE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID"})
SILENT_DEVICE_STATES = frozenset({"UNKNOWN"})
# ContactStatus values: Reachable, Unreachable, Unknown, Created, Removed, Updated, NonQualified
CONTACT_DOWN = frozenset({"unreachable", "removed"})
CONTACT_SILENT = frozenset({"unknown"})

PJSIP = "PJSIP/"


class PhoneBook:
    """Agent endpoints by device name, and the last word the PBX gave on each device."""

    def __init__(self) -> None:
        self._agents_on: dict[str, list[str]] = {}
        self._contacts: dict[str, dict[str, bool]] = {}  # device -> contact URI -> up

    def index(self, endpoints: Iterable[tuple[str, str]]) -> None:
        """(agent id, endpoint) pairs: the dial strings agents take calls on now."""
        self._agents_on = {}
        for agent_id, endpoint in endpoints:
            self._agents_on.setdefault(endpoint, []).append(agent_id)

    def agents_on(self, device: str) -> list[str]:
        return self._agents_on.get(device, [])

    def device_state(self, device: str, state: str) -> bool | None:
        """Reachable (True/False) as a device state says it, None when it says nothing."""
        state = state.upper()
        if state in SILENT_DEVICE_STATES or device not in self._agents_on:
            return None
        return state not in UNREACHABLE_DEVICE_STATES

    def contact_status(self, endpoint: str, uri: str, status: str) -> tuple[str, bool | None]:
        """(device, reachable) after one contact of `endpoint` changed: reachable while any
        contact of the endpoint is; None when the status says nothing."""
        device = PJSIP + endpoint
        status = status.lower()
        if status in CONTACT_SILENT or device not in self._agents_on:
            return device, None
        contacts = self._contacts.setdefault(device, {})
        if status == "removed":
            contacts.pop(uri, None)
        else:
            contacts[uri] = status not in CONTACT_DOWN
        return device, any(contacts.values())
