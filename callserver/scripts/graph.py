"""The step graph of a script: what can be reached, loops with no question, questions surely asked.

Pure functions over a Script, used by the checks in `validate.py`; unknown targets are ignored here
(they are reported there).
"""

from __future__ import annotations

from collections import deque

from callserver.scripts.model import Script


def _edges(script: Script) -> dict[str, list[str]]:
    return {
        sid: list(dict.fromkeys(t for t in step.targets() if t in script.steps))
        for sid, step in script.steps.items()
    }


def reachable(script: Script) -> list[str]:
    """Steps reachable from the start, in the order a breadth-first walk meets them."""
    edges = _edges(script)
    if script.start not in edges:
        return []
    seen, order, todo = {script.start}, [script.start], deque([script.start])
    while todo:
        for target in edges[todo.popleft()]:
            if target not in seen:
                seen.add(target)
                order.append(target)
                todo.append(target)
    return order


def question_free_loops(script: Script) -> list[list[str]]:
    """One cycle (as a list of step ids) per group of question-free steps that lead round in circles.

    A person could press "next" round such a loop forever without being asked anything. Groups are
    the strongly connected components of the graph restricted to steps without a question.
    """
    silent = {sid for sid, step in script.steps.items() if step.question is None}
    edges = {
        sid: [t for t in targets if t in silent] for sid, targets in _edges(script).items() if sid in silent
    }
    loops: list[list[str]] = []
    for group in _components(edges):
        first = min(group, key=list(script.steps).index)
        if len(group) > 1 or first in edges[first]:
            loops.append(_cycle(first, group, edges))
    return sorted(loops, key=lambda loop: list(script.steps).index(loop[0]))


def _components(edges: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit on long scripts)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                group: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def _cycle(first: str, group: set[str], edges: dict[str, list[str]]) -> list[str]:
    """A shortest way from `first` back to itself inside `group`."""
    came_from: dict[str, str] = {}
    todo = deque([first])
    while todo:
        node = todo.popleft()
        for target in edges[node]:
            if target not in group:
                continue
            if target == first:
                path = [node]
                while path[-1] != first:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if target not in came_from:
                came_from[target] = node
                todo.append(target)
    return [first]  # pragma: no cover - a component of more than one step always has a cycle


def must_be_asked(script: Script, steps: list[str]) -> dict[str, set[str]]:
    """For each of `steps` (the reachable ones), the questions asked on every way from the start to it.

    A forward "must" data-flow: what arrives at a step is the intersection, over the steps leading
    to it, of what they had plus their own question; the start has nothing.
    """
    names = {s.question.name for s in script.steps.values() if s.question is not None}
    preds: dict[str, list[str]] = {sid: [] for sid in steps}
    for sid in steps:
        for target in script.steps[sid].targets():
            if target in preds:
                preds[target].append(sid)
    asked: dict[str, set[str]] = {sid: set(names) for sid in steps}
    if script.start in asked:
        asked[script.start] = set()
    changed = True
    while changed:
        changed = False
        for sid in steps:
            if sid == script.start:
                continue
            incoming = [asked[p] | _own(script, p) for p in preds[sid]]
            new = set.intersection(*incoming) if incoming else set()
            if new != asked[sid]:
                asked[sid], changed = new, True
    return asked


def _own(script: Script, step_id: str) -> set[str]:
    question = script.steps[step_id].question
    return {question.name} if question is not None else set()
