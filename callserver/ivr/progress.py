"""Where each caller is in an IVR flow right now, for the supervisor's live view.

The inbound script reports every node entered and the end of the run; the registry keeps only the
current node per call (`where`), and hands each change to one listener the composition root wires
to the live monitor and to the fact bus (as `IvrNodeEntered` / `IvrLeft`, for the event log and
the IVR reports). Nothing is published from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IvrProgress:
    """A caller entered `node` of `flow` (or, with `ended`, left the IVR from `node`)."""

    call_id: str
    flow: str
    node: str
    at: float
    ended: bool = False
    outcome: str | None = None  # set when `ended`: queue, voicemail, transfer, ended, hangup
    caller_num: str = ""  # who is calling: the monitor names callers by number, never by call id


class IvrPresence:
    """In-memory `where[call_id] = node` for calls inside a flow; one per server process."""

    def __init__(
        self, clock: Callable[[], float], on_progress: Callable[[IvrProgress], None] | None = None
    ) -> None:
        self._clock = clock
        self._on_progress = on_progress
        self._where: dict[str, tuple[str, str, float]] = {}  # call -> (flow, node, entered at)
        self._callers: dict[str, str] = {}  # call -> caller number

    @property
    def where(self) -> dict[str, str]:
        """A copy: call id -> current node, for the web to read."""
        return {call_id: node for call_id, (_, node, _) in self._where.items()}

    def details(self) -> list[IvrProgress]:
        """Every call in a flow with its node and when it entered it, oldest first."""
        items = [
            IvrProgress(c, f, n, at, caller_num=self._callers.get(c, ""))
            for c, (f, n, at) in self._where.items()
        ]
        return sorted(items, key=lambda p: p.at)

    def tracker(self, call_id: str, flow: str, caller_num: str = "") -> Callable[[str], None]:
        """The `on_node` callback for one run of `flow` by `call_id` (calling from `caller_num`)."""
        self._callers[call_id] = caller_num

        def entered(node: str) -> None:
            at = self._clock()
            self._where[call_id] = (flow, node, at)
            self._emit(IvrProgress(call_id, flow, node, at, caller_num=caller_num))

        return entered

    def left(self, call_id: str, outcome: str) -> None:
        """The call left the IVR (to a queue, a mailbox, a transfer, or hung up)."""
        flow, node, _ = self._where.pop(call_id, ("", "", 0.0))
        caller = self._callers.pop(call_id, "")
        self._emit(
            IvrProgress(call_id, flow, node, self._clock(), ended=True, outcome=outcome, caller_num=caller)
        )

    def _emit(self, progress: IvrProgress) -> None:
        if self._on_progress is not None:
            self._on_progress(progress)
