"""What the IVR learnt from a caller, for the agent who takes the call next.

Derived from the flow and the way the caller went through it (the path, the data gathered): the
language, each menu's choice (the key pressed, or none when the menu fell back), the digits typed
into collect nodes that are not private, and the self-service done on the way (lookups and what
they found, messages read out such as a balance). The result is plain JSON-ready data; it travels
with the call as call data under `IVR_KEY` and the screen-pop shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from callserver.ivr.model import CollectNode, FlowConfig, LookupNode, MenuNode, SayNode

IVR_KEY = "ivr"  # the call data key that carries the summary (not a requirement name: no dot)


def summarise(
    name: str,
    flow: FlowConfig,
    path: Sequence[str],
    data: Mapping[str, str],
    outcome: str,
    customer_found: bool,
    keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The summary of one run: see the module docstring for what it holds.

    `keys` (menu node -> key pressed) tells a fallback from a key leading to the same node;
    without it the key is inferred from the way taken.
    """
    choices: list[dict[str, Any]] = []
    entered: dict[str, str] = {}
    self_service: list[dict[str, str]] = []
    for i, node_id in enumerate(path):
        node = flow.nodes.get(node_id)
        after = path[i + 1] if i + 1 < len(path) else None
        if isinstance(node, MenuNode):
            if keys is not None:
                key = keys.get(node_id)  # None: the menu fell back (no key, or no valid one)
            else:
                key = next((k for k, target in node.options.items() if target == after), None)
            if after is not None:
                choices.append({"menu": node_id, "key": key, "to": after})
        elif isinstance(node, CollectNode) and not node.private and node.variable in data:
            entered[node.variable] = data[node.variable]
        elif isinstance(node, LookupNode) and after is not None:
            self_service.append({"node": node_id, "kind": "lookup", "result": _lookup_result(node, after)})
        elif isinstance(node, SayNode) and after is not None:
            self_service.append({"node": node_id, "kind": "said", "result": "heard"})
    return {
        "flow": name,
        "language": data.get("language", flow.language),
        "choices": choices,
        "entered": entered,
        "self_service": self_service,
        "customer_found": customer_found,
        "outcome": outcome,
        "path": list(path),
    }


def _lookup_result(node: LookupNode, after: str) -> str:
    if after == node.found:
        return "found"
    if node.several is not None and after == node.several and after != node.not_found:
        return "several"
    return "not_found"


__all__ = ["IVR_KEY", "summarise"]
