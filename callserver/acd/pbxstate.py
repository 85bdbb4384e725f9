"""What callserver knows of the PBX's own life, to say how a call it did not see end has ended.

When the link is down, or the PBX restarts, channels vanish without a Hangup callserver can read.
Whoever finds such a call gone (resynchronisation) asks here for its `Ending`: cut by a PBX that
announced its shutdown (at that moment, exactly), cut by a PBX that restarted while the link was
down (no later than the last time the PBX was heard), or simply gone while the link was down (ended
some time after the PBX was last heard: an estimate). A channel hung up with a network cause was cut
too. Sans-I/O: times are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Ending

# Q.850 causes meaning the network, not a person, ended the call
NETWORK_CAUSES = frozenset({27, 38, 41, 42, 47, 102})
LINK_DOWN_REASON = "ended while the PBX link was down"


@dataclass(slots=True)
class _Shutdown:
    at: float
    restart: bool


# FullyBooted's Uptime is whole seconds; one more for the two clocks read a moment apart
UPTIME_RESOLUTION = 2.0


class PbxState:
    def __init__(self) -> None:
        self.last_heard = 0.0  # the PBX last said something on a link that is now down (0: not down)
        self._shutdown: _Shutdown | None = None
        self._restarted = False  # it came back with an uptime shorter than the link was down
        self.up_since: float | None = None  # when the PBX started, as it said at the last login

    def shutting_down(self, now: float, *, restart: bool) -> None:
        """The PBX said it is stopping: every channel it still has is cut now."""
        if self._shutdown is None:
            self._shutdown = _Shutdown(now, restart)

    def link_down(self, last_heard: float, now: float) -> None:
        self.last_heard = last_heard or now

    def booted(self, uptime: float, now: float) -> None:
        """At login the PBX says how long it has been up: less than the link was down is a restart.

        Asterisk gives the uptime in whole seconds, so the start time it implies is up to a second
        late; a restart is only read when the start moved by more than that.
        """
        up_since = now - uptime
        if self.up_since is not None:
            restarted = up_since > self.up_since + UPTIME_RESOLUTION
        else:
            restarted = bool(self.last_heard) and up_since - UPTIME_RESOLUTION > self.last_heard
        if self.last_heard and restarted:
            self._restarted = True
        if self.up_since is None or restarted:
            self.up_since = up_since

    def resynchronised(self) -> None:
        """Every vanished call has been ended: later ones start afresh."""
        self.last_heard = 0.0
        self._shutdown = None
        self._restarted = False

    @property
    def stopping(self) -> bool:
        return self._shutdown is not None

    def vanished(self, now: float) -> Ending:
        """How a call found gone at a resynchronisation at `now` ended, as far as can be told."""
        if self._shutdown is not None:
            what = "PBX restart" if self._shutdown.restart else "PBX shutdown"
            return Ending(self._shutdown.at, f"cut by the {what}", cut=True)
        if self._restarted:
            return Ending(self.last_heard or now, "cut by a PBX restart", estimated=True, cut=True)
        if self.last_heard:
            return Ending(self.last_heard, LINK_DOWN_REASON, estimated=True)
        # seen just now by a periodic check: it ended since the last listing, unseen
        return Ending(now, "ended without a hangup callserver could see", estimated=True)

    def hangup(self, cause: int, cause_text: str, now: float) -> Ending | None:
        """A Hangup event: None for an ordinary one, an `Ending` when the PBX or the network cut it."""
        if self._shutdown is not None:
            what = "PBX restart" if self._shutdown.restart else "PBX shutdown"
            return Ending(now, f"cut by the {what}", cut=True)
        if cause in NETWORK_CAUSES:
            text = f"{cause_text} " if cause_text else ""
            return Ending(now, f"cut by the network: {text}(cause {cause})", cut=True)
        return None
