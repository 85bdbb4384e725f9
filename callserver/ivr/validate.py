"""Checks that need the whole flow: targets, reachability, input-free loops, queues, references.

`validate_flows` returns the parsed configuration (None when there is an error) and one
`path: problem` line per fault, warnings included; `section.flows_of` applies it to the `ivr`
section of the settings, which is what check-config, start-up and the other users of the flows call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from callserver.ivr.expr import parse_condition, refs
from callserver.ivr.model import (
    INPUT_NODES,
    NODE_TYPES,
    SPEAKING_NODES,
    BranchNode,
    CollectNode,
    FlowConfig,
    HoursNode,
    IvrConfig,
    PromptConfig,
    QueueNode,
    SayNode,
    SetNode,
    VoicemailNode,
    edges,
    text_variants,
)
from callserver.ivr.say import Field, parse_template

WARNING = "warning: "
CALL_FIELDS = frozenset({"caller", "dnis", "channel", "uniqueid", "language"})
_PROMPT_FIELDS = ("prompt", "invalid", "no_input")
_UNION_MEMBER = re.compile(r"^(str|int|float|bool|date|dict\[.*\]|list\[.*\]|function-\w+\[.*\])$")


def is_warning(line: str) -> bool:
    """Whether a problem line of `validate_flows` is a warning (it leaves the flows usable)."""
    return line.partition(": ")[2].startswith(WARNING)


def validate_flows(
    raw: Any,
    source: str,
    *,
    queues: set[str],
    customer_fields: set[str],
    sounds_dir: Path | None = None,
) -> tuple[IvrConfig | None, list[str]]:
    """Parse and check the IVR section; `source` is its path (`ivr`), prefixed to every line.

    Lines starting with `warning: ` after the path (a sound file missing from `sounds_dir`) do not
    make the result None; any other line does.
    """
    try:
        config = IvrConfig.model_validate(raw if raw is not None else {"flows": {}})
    except ValidationError as err:
        return None, _pydantic_lines(source, err)
    problems: list[str] = []
    if config.default_flow is not None and config.default_flow not in config.flows:
        problems.append(f"{source}.default_flow: unknown flow '{config.default_flow}'")
    seen_dnis: dict[str, str] = {}
    for name, flow in config.flows.items():
        where = f"{source}.flows.{name}"
        for i, number in enumerate(flow.dnis):
            if number in seen_dnis:
                problems.append(f"{where}.dnis[{i}]: '{number}' already leads to flow '{seen_dnis[number]}'")
            seen_dnis[number] = name
        problems.extend(_check_flow(where, flow, queues, customer_fields, sounds_dir))
    errors = [p for p in problems if not is_warning(p)]
    return (None if errors else config), problems


def _pydantic_lines(source: str, err: ValidationError) -> list[str]:
    """One line per field; the several failures of a union (`str | dict`) are joined into one."""
    by_path: dict[str, list[str]] = {}
    for item in err.errors():
        path = source
        loc = list(item["loc"])
        for i, part in enumerate(loc):
            if isinstance(part, int):
                path += f"[{part}]"
            elif part in NODE_TYPES and i >= 2 and loc[i - 2] == "nodes":
                continue  # the discriminator tag pydantic inserts after a node's name
            elif _UNION_MEMBER.match(str(part)):
                continue
            else:
                path += f".{part}"
        messages = by_path.setdefault(path, [])
        message = str(item["msg"]).removeprefix("Value error, ")
        if message not in messages:
            messages.append(message)
    lines: list[str] = []
    for path, messages in by_path.items():
        if len(messages) > 1 and all(m.startswith("Input should be ") for m in messages):
            messages = [
                "Input should be " + " or ".join(m.removeprefix("Input should be ") for m in messages)
            ]
        lines.extend(f"{path}: {m}" for m in messages)
    return lines


def _check_flow(
    where: str,
    flow: FlowConfig,
    queues: set[str],
    customer_fields: set[str],
    sounds_dir: Path | None,
) -> list[str]:
    problems: list[str] = []
    nodes = flow.nodes
    if flow.start not in nodes:
        problems.append(f"{where}.start: unknown node '{flow.start}'")
    data_names = _data_names(flow)
    for node_id, node in nodes.items():
        at = f"{where}.nodes.{node_id}"
        for field, target in edges(node):
            if target not in nodes:
                problems.append(f"{at}.{field}: unknown node '{target}'")
        if isinstance(node, SPEAKING_NODES) and node.prompt is None:
            problems.append(f"{at}.prompt: missing prompt: give 'text' or 'file'")
        if (
            isinstance(node, QueueNode | VoicemailNode)
            and node.queue is not None
            and node.queue not in queues
        ):
            problems.append(f"{at}.queue: unknown queue '{node.queue}'")
        if isinstance(node, HoursNode) and node.schedule is not None and node.schedule not in flow.schedules:
            problems.append(f"{at}.schedule: unknown schedule '{node.schedule}'")
        for field, ref in _references(node):
            problem = _check_ref(ref, customer_fields, data_names)
            if problem:
                problems.append(f"{at}.{field}: {problem}")
        for field in _PROMPT_FIELDS:
            prompt = getattr(node, field, None)
            if (
                isinstance(prompt, PromptConfig)
                and prompt.file
                and sounds_dir is not None
                and not _sound_exists(sounds_dir, prompt.file, flow.language)
            ):
                problems.append(f"{at}.{field}.file: {WARNING}no sound '{prompt.file}' in {sounds_dir}")
    if flow.start in nodes:
        reachable = _reachable(flow)
        for node_id in nodes:
            if node_id not in reachable:
                problems.append(f"{where}.nodes.{node_id}: unreachable from start '{flow.start}'")
    for cycle in _silent_cycles(flow):
        shown = " -> ".join([*cycle, cycle[0]])
        problems.append(f"{where}.nodes.{cycle[0]}: loop without caller input: {shown}")
    return problems


def _data_names(flow: FlowConfig) -> set[str]:
    names = {"customer_id"}
    for node in flow.nodes.values():
        if isinstance(node, SetNode):
            names.update(node.values)
        elif isinstance(node, CollectNode):
            names.add(node.variable)
    return names


def _references(node: Any) -> Iterable[tuple[str, str]]:
    if isinstance(node, BranchNode):
        for i, case in enumerate(node.cases):
            for ref in refs(parse_condition(case.when)):
                yield f"cases[{i}].when", ref
    templates: list[tuple[str, str]] = []
    if isinstance(node, SayNode):
        templates += [(f"text{suffix}", t) for suffix, t in text_variants(node.text)]
    if isinstance(node, SetNode):
        templates += [(f"values.{k}", v) for k, v in node.values.items() if isinstance(v, str)]
    for field in _PROMPT_FIELDS:
        prompt = getattr(node, field, None)
        if isinstance(prompt, PromptConfig) and prompt.text is not None:
            templates += [(f"{field}.text{suffix}", t) for suffix, t in text_variants(prompt.text)]
    for field, text in templates:
        for part in parse_template(text):
            if isinstance(part, Field):
                yield field, part.ref


def _check_ref(ref: str, customer_fields: set[str], data_names: set[str]) -> str | None:
    namespace, _, name = ref.partition(".")
    if namespace == "customer" and name not in customer_fields:
        return f"unknown customer field '{name}' (known: {', '.join(sorted(customer_fields))})"
    if namespace == "call" and name not in CALL_FIELDS:
        return f"unknown call field '{name}' (known: {', '.join(sorted(CALL_FIELDS))})"
    if namespace == "data" and name not in data_names:
        return f"'data.{name}' is never set or collected in this flow"
    return None


def _sound_exists(sounds_dir: Path, name: str, language: str) -> bool:
    for folder in (sounds_dir / language, sounds_dir):
        path = folder / name
        if any(path.parent.glob(f"{path.name}.*")):
            return True
    return False


def _reachable(flow: FlowConfig) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        todo.extend(target for _, target in edges(flow.nodes[node_id]))
    return seen


def _silent_cycles(flow: FlowConfig) -> list[list[str]]:
    """Cycles made only of nodes that never wait for a key: the caller would be stuck in them."""
    silent = {n for n, node in flow.nodes.items() if not isinstance(node, INPUT_NODES)}
    graph = {n: list(dict.fromkeys(t for _, t in edges(flow.nodes[n]) if t in silent)) for n in silent}
    cycles: list[list[str]] = []
    done: set[str] = set()
    for root in flow.nodes:
        if root in silent and root not in done:
            _visit(root, graph, [], done, cycles)
    return cycles


def _visit(
    node: str, graph: dict[str, list[str]], stack: list[str], done: set[str], cycles: list[list[str]]
) -> None:
    """Depth-first search; a target already on the stack closes a cycle."""
    stack.append(node)
    for target in graph[node]:
        if target in stack:
            cycle = stack[stack.index(target) :]
            if not any(set(c) == set(cycle) and len(c) == len(cycle) for c in cycles):
                cycles.append(cycle)
        elif target not in done:
            _visit(target, graph, stack, done, cycles)
    stack.pop()
    done.add(node)
