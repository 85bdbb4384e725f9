"""Channel names by uniqueid, learnt from PBX events: one index every component shares.

AMI actions take a channel name (or the ChannelId we gave an originated leg); events and our own
records key channels by uniqueid. The index follows channel creation, bridge entry and hang-up, and
learns from resynchronisation listings (which also drop the channels gone unseen), so a name is
known for every live channel we have seen, and its size is the PBX's channel count when nothing was
missed: the periodic check compares the two before listing anything.
"""

from __future__ import annotations

from .events import BridgeEntered, ChannelCreated, ChannelHungUp
from .hub import Subscriptions


class ChannelNames:
    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def subscriptions(self) -> Subscriptions:
        return (
            Subscriptions("channel-names")
            .on(ChannelCreated, self._created)
            .on(BridgeEntered, self._bridged)
            .on(ChannelHungUp, self._gone)
        )

    def _created(self, event: ChannelCreated) -> None:
        self._names[event.uniqueid] = event.channel

    def _bridged(self, event: BridgeEntered) -> None:
        self._names.setdefault(event.uniqueid, event.channel)

    def _gone(self, event: ChannelHungUp) -> None:
        self._names.pop(event.uniqueid, None)

    def learn(self, uniqueid: str, channel: str) -> None:
        """A name seen outside the event stream (a CoreShowChannels listing)."""
        self._names.setdefault(uniqueid, channel)

    def known(self) -> set[str]:
        """The uniqueids known now (taken before asking for a listing, for `forget_missing`)."""
        return set(self._names)

    def forget_missing(self, known_before: set[str], listed: set[str]) -> int:
        """Channels known before a listing was asked for but not in it are gone (their Hangup was
        missed, e.g. while the link was down); returns how many were dropped."""
        gone = known_before - listed
        for uniqueid in gone:
            self._names.pop(uniqueid, None)
        return len(gone)

    def get(self, uniqueid: str) -> str | None:
        return self._names.get(uniqueid)

    def name(self, uniqueid: str) -> str:
        """The channel's name when seen, else the uniqueid itself (AMI actions accept either)."""
        return self._names.get(uniqueid, uniqueid)

    def is_live_name(self, channel: str) -> bool:
        return channel in self._names.values()

    def __len__(self) -> int:
        return len(self._names)
