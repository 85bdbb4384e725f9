"""Reads a script file: XML well-formedness, then the published schema, then the model.

lxml does the parsing and the XSD validation (every schema fault is reported, with its line and
the step it is in); this module only turns a valid document into `model` objects, parsing the
conditions and templates on the way. Attribute defaults come from the schema itself (lxml fills
them in), so the XSD is the one place they are written. Files may come from a browser editor:
no DTD, no entities, no network, and a size limit.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

from lxml import etree

from callserver.ivr.expr import parse_condition
from callserver.ivr.say import parse_template
from callserver.scripts.model import (
    NAMESPACE,
    ActionSpec,
    AgentTransferSpec,
    AskAmount,
    AskChoice,
    AskDate,
    AskNumber,
    AskText,
    AskYesNo,
    Audience,
    Branch,
    CallbackSpec,
    DateBound,
    Handoff,
    Option,
    Question,
    QueueTransferSpec,
    Script,
    SetFieldSpec,
    SetOutcomeSpec,
    Step,
    TaskSpec,
    Template,
    Text,
    When,
)
from callserver.scripts.problems import Problem

MAX_BYTES = 1_000_000
_NS = f"{{{NAMESPACE}}}"
_DELAY = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")
_DUPLICATE = re.compile(
    r"Element '([\w-]+)': Duplicate key-sequence \['(.*)'\] in unique identity-constraint"
)
_SPACES = re.compile(r"\s+")
_SOME_DAY = date(2000, 1, 1)


def schema_text() -> bytes:
    """The published XSD, as shipped in the package."""
    return resources.files("callserver.scripts").joinpath("script.xsd").read_bytes()


def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(schema_text(), _safe_parser()))


def _safe_parser(schema: etree.XMLSchema | None = None) -> etree.XMLParser:
    return etree.XMLParser(
        schema=schema,
        attribute_defaults=schema is not None,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def load_script(path: Path) -> tuple[Script | None, list[Problem]]:
    """Read one file; (None, problems) when it cannot be used. See `read_script`."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        return None, [Problem(source, None, None, f"cannot read file: {err.strerror}")]
    return read_script(data, source)


def read_script(data: bytes, source: str) -> tuple[Script | None, list[Problem]]:
    """Parse and schema-check `data`; the script, or None with one Problem per fault.

    Only faults of form are found here; `validate.check_script` checks references against the
    configuration.
    """
    if len(data) > MAX_BYTES:
        return None, [Problem(source, None, None, f"file is larger than {MAX_BYTES} bytes")]
    try:
        doc = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as err:
        line = err.lineno if isinstance(err.lineno, int) and err.lineno > 0 else None
        return None, [Problem(source, line, None, f"not well-formed XML: {err.msg}")]
    tree = doc.getroottree()
    if tree.docinfo.doctype:
        return None, [Problem(source, 1, None, "a DOCTYPE is not allowed in a script")]
    if doc.tag != f"{_NS}script":
        found = etree.QName(doc).localname if isinstance(doc.tag, str) else str(doc.tag)
        return None, [
            Problem(
                source, doc.sourceline, None, f'the root must be <script xmlns="{NAMESPACE}">, not <{found}>'
            )
        ]
    schema = _schema()
    if not schema.validate(doc):
        return None, [_schema_problem(source, tree, e) for e in schema.error_log]
    # parsed again through the schema so that lxml fills in the defaults the XSD declares
    root = etree.fromstring(data, _safe_parser(schema))
    return _Builder(source).script(root)


def _schema_problem(source: str, tree: etree._ElementTree, entry: etree._LogEntry) -> Problem:
    message = entry.message.replace(_NS, "")
    duplicate = _DUPLICATE.match(message)
    if duplicate:
        kind = "step id" if duplicate[1] == "step" else "question name"
        message = f"{kind} '{duplicate[2]}' is used twice"
    step = None
    if entry.path:
        found = tree.xpath(entry.path)
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            step = _step_of(found[0])
    return Problem(source, entry.line or None, step, message)


def _step_of(element: etree._Element) -> str | None:
    for el in (element, *element.iterancestors()):
        if el.tag == f"{_NS}step":
            return el.get("id")
    return None


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _text(el: etree._Element) -> str:
    """Element text with runs of white space made one space, as a browser shows it."""
    return _SPACES.sub(" ", el.text or "").strip()


def _bool(value: str | None) -> bool:
    return value in ("true", "1")


def _line(el: etree._Element) -> int:
    return el.sourceline or 0


class _Builder:
    """Turns a schema-valid document into a Script; faults in conditions and templates are collected."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.step: str | None = None

    def fail(self, el: etree._Element, message: str) -> None:
        self.problems.append(Problem(self.source, _line(el), self.step, message))

    def script(self, root: etree._Element) -> tuple[Script | None, list[Problem]]:
        parts = {_local(c): c for c in _children(root) if _local(c) != "step"}
        handoff = None
        if "handoff" in parts:
            el = parts["handoff"]
            action_el = _children(el)[0]
            action = (
                self.callback(action_el) if _local(action_el) == "schedule-callback" else self.task(action_el)
            )
            handoff = Handoff(el.get("label") or "", action, _line(el))
        steps: dict[str, Step] = {}
        for el in _children(root):
            if _local(el) == "step":
                step = self.step_of(el)
                steps[step.id] = step
        self.step = None
        script = Script(
            id=root.get("id") or "",
            version=int(root.get("version") or 0),
            title=_text(parts["title"]),
            description=_text(parts["description"]) if "description" in parts else "",
            start=root.get("start") or "",
            language=root.get("language") or "en",
            currency=root.get("currency") or "EUR",
            web=_bool(root.get("web")),
            complete_before_wrapup=_bool(root.get("complete-before-wrapup")),
            handoff=handoff,
            steps=steps,
            source=self.source,
            line=_line(root),
        )
        return (None if self.problems else script), self.problems

    def step_of(self, el: etree._Element) -> Step:
        self.step = el.get("id") or ""
        texts: list[Text] = []
        question: Question | None = None
        actions: list[ActionSpec] = []
        branches: list[Branch] = []
        target: str | None = None
        exit_line = _line(el)
        for child in _children(el):
            name = _local(child)
            if name in ("say", "note"):
                texts.append(Text(self.template(child, _text(child)), name == "note", _line(child)))
            elif name.startswith("ask-"):
                question = self.question(child)
            elif name == "branch":
                branches.append(
                    Branch(self.when(child, child.get("when")), child.get("to") or "", _line(child))
                )
            elif name in ("next", "end"):
                target, exit_line = child.get("to"), _line(child)
            else:
                actions.append(self.action(child))
        return Step(
            id=self.step,
            line=_line(el),
            title=el.get("title"),
            audience=Audience(el.get("audience") or "all"),
            texts=tuple(texts),
            question=question,
            actions=tuple(actions),
            branches=tuple(branches),
            next=target,
            exit_line=exit_line,
        )

    # ---- pieces ----

    def template(self, el: etree._Element, text: str) -> Template:
        try:
            return Template(text, parse_template(text))
        except ValueError as err:
            self.fail(el, f"in text '{_short(text)}': {err}")
            return Template(text, (text,))

    def optional_template(self, el: etree._Element, text: str | None) -> Template | None:
        return None if text is None else self.template(el, text)

    def when(self, el: etree._Element, text: str | None) -> When:
        source = text or ""
        try:
            return When(source, parse_condition(source))
        except ValueError as err:
            self.fail(el, f"condition '{_short(source)}': {err}")
            return When(source, parse_condition("call.self_service"))  # never run: the script is refused

    def optional_when(self, el: etree._Element) -> When | None:
        text = el.get("when")
        return None if text is None else self.when(el, text)

    def child_template(self, el: etree._Element, name: str) -> Template | None:
        for child in _children(el):
            if _local(child) == name:
                return self.template(child, _text(child))
        return None

    # ---- questions ----

    def question(self, el: etree._Element) -> Question:
        kind = _local(el).removeprefix("ask-")
        label = self.child_template(el, "label") or Template("", ())
        hint = self.child_template(el, "hint")
        name, required, line = el.get("name") or "", _bool(el.get("required")), _line(el)
        if kind == "choice":
            options = tuple(
                Option(o.get("value") or "", self.template(o, _text(o)), _line(o))
                for o in _children(el)
                if _local(o) == "option"
            )
            return AskChoice(name, label, hint, required, line, options)
        if kind == "yes-no":
            return AskYesNo(name, label, hint, required, line)
        if kind == "text":
            pattern = el.get("pattern")
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as err:
                    self.fail(el, f"pattern '{pattern}' is not a regular expression: {err}")
            low, high = int(el.get("min-length") or 0), int(el.get("max-length") or 0)
            if low > high:
                self.fail(el, f"min-length {low} is greater than max-length {high}")
            return AskText(name, label, hint, required, line, low, high, pattern, _bool(el.get("multiline")))
        if kind in ("number", "amount"):
            low_d, high_d = _decimal(el.get("min")), _decimal(el.get("max"))
            if low_d is not None and high_d is not None and low_d > high_d:
                self.fail(el, f"min {low_d} is greater than max {high_d}")
            if kind == "amount":
                return AskAmount(name, label, hint, required, line, low_d, high_d)
            return AskNumber(name, label, hint, required, line, low_d, high_d, int(el.get("decimals") or 0))
        low_b, high_b = self.bound(el, "min"), self.bound(el, "max")
        comparable = low_b is not None and high_b is not None and (low_b.day is None) == (high_b.day is None)
        # two fixed days, or two offsets from today, can be compared now
        if comparable and low_b and high_b and low_b.resolve(_SOME_DAY) > high_b.resolve(_SOME_DAY):
            self.fail(el, f"min {low_b} is after max {high_b}")
        return AskDate(name, label, hint, required, line, low_b, high_b)

    def bound(self, el: etree._Element, attr: str) -> DateBound | None:
        text = el.get(attr)
        if text is None:
            return None
        if text.startswith("today"):
            return DateBound(None, int(text[5:] or 0))
        try:
            return DateBound(date.fromisoformat(text))
        except ValueError:
            self.fail(el, f"{attr} '{text}' is not a real day")
            return None

    # ---- actions ----

    def action(self, el: etree._Element) -> ActionSpec:
        name, when, line = _local(el), self.optional_when(el), _line(el)
        if name == "set-field":
            return SetFieldSpec(el.get("field") or "", self.template(el, el.get("value") or ""), when, line)
        if name == "set-outcome":
            return SetOutcomeSpec(el.get("code") or "", when, line)
        if name == "schedule-callback":
            return self.callback(el)
        if name == "transfer-to-queue":
            return QueueTransferSpec(el.get("queue") or "", when, line)
        if name == "transfer-to-agent":
            return AgentTransferSpec(el.get("agent") or "", when, line)
        return self.task(el)

    def callback(self, el: etree._Element) -> CallbackSpec:
        return CallbackSpec(
            queue=el.get("queue"),
            agent=el.get("agent"),
            date=el.get("date"),
            after=_delay(el.get("after")),
            number=self.optional_template(el, el.get("number")),
            note=self.child_template(el, "note"),
            when=self.optional_when(el),
            line=_line(el),
        )

    def task(self, el: etree._Element) -> TaskSpec:
        return TaskSpec(
            title=self.template(el, el.get("title") or ""),
            queue=el.get("queue"),
            require=el.get("require"),
            note=self.child_template(el, "note"),
            when=self.optional_when(el),
            line=_line(el),
        )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _delay(text: str | None) -> timedelta | None:
    """`P1DT2H30M` as a timedelta; the schema has already refused anything else."""
    if text is None:
        return None
    match = _DELAY.fullmatch(text)
    if match is None:  # pragma: no cover - the schema's pattern is stricter
        raise ValueError(f"'{text}' is not a delay")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
