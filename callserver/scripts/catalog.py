"""The scripts of a centre: every file of the configured folder, read, checked and attached.

`load_catalog` is what `callserver check-config` and start-up both call: each `<id>.xml` is read
(`read.py`) and checked (`validate.py`) against a `ScriptContext` built from the settings, and the
attachments of the `scripts` section (queues, dialled numbers, IVR exits, campaigns) are checked
against the configuration and the scripts found. Problems name file, line and step; attachment
problems name the configuration path. The catalog then says which script a call gets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callserver.config import ConfigError, Settings
from callserver.ivr.model import CollectNode
from callserver.ivr.section import flows_of
from callserver.scripts.model import Script, ScriptContext
from callserver.scripts.problems import Problem, errors, unknown
from callserver.scripts.read import read_script
from callserver.scripts.validate import check_script

log = logging.getLogger(__name__)

# the customer record's own fields as scripts read them, with the type each is read as
RECORD_FIELDS: dict[str, str] = {
    "id": "number",
    "name": "text",
    "account": "text",
    "email": "text",
    "language": "text",
    "vip": "yes-no",
    "notes": "text",
    "phone": "text",  # the first of the customer's numbers
}
# record fields a script may set: contact details and notes, never who the customer is
RECORD_WRITABLE = frozenset({"email", "language", "notes"})
# call data every call has (`call.<name>`), beside the IVR's variables and the numbers' data
CALL_FIELDS = frozenset({"caller", "caller_name", "dnis", "queue", "language", "ivr_exit", "campaign"})
VERSIONS_DIR = "versions"  # <dir>/versions/<id>/<id>.v<N>.xml: what the editor replaced


def customer_field_types(settings: Settings) -> dict[str, str]:
    """Every customer field a script may read, with its type (text, number, amount, date, yes-no)."""
    types = dict(RECORD_FIELDS)
    for name, extra in settings.customers.fields.items():
        types[name] = extra.type
    return types


def writable_fields(settings: Settings) -> frozenset[str]:
    extra = {name for name, f in settings.customers.fields.items() if f.writable}
    return RECORD_WRITABLE | extra


def ivr_variables(settings: Settings) -> set[str]:
    """Names the IVR flows pass on as call data: `set` values and collected digits (not private)."""
    names: set[str] = set()
    config, _ = flows_of(settings)
    flows = config.flows if config is not None else {}
    for flow in flows.values():
        for node in flow.nodes.values():
            values = getattr(node, "values", None)
            if isinstance(values, dict):
                names |= set(values)
            if isinstance(node, CollectNode) and not node.private:
                names.add(node.variable)
    return names


def script_context(settings: Settings) -> ScriptContext:
    """What a script may name, from the configuration: fields, queues, agents, skills, outcome codes."""
    call_fields = set(CALL_FIELDS) | ivr_variables(settings)
    for queue in settings.queues:
        for data in queue.dnis_data.values():
            call_fields |= set(data)
    return ScriptContext(
        customer_fields=frozenset(customer_field_types(settings)),
        writable_fields=writable_fields(settings),
        call_fields=frozenset(call_fields),
        queues=frozenset(q.name for q in settings.queues),
        agents=frozenset(a.id for a in settings.agents),
        skills=frozenset(settings.skills),
        outcome_codes=frozenset(settings.web.outcome_codes),
    )


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What is known of a call when a script is chosen for it."""

    queue: str
    dnis: str = ""
    ivr_exit: str = ""  # "flow.node" where the caller left the IVR for a queue
    campaign: str = ""


@dataclass
class ScriptCatalog:
    """The scripts in use, by id, and what they are attached to. The editor replaces a script in
    place when it saves a new version; runs already going keep the version they started with."""

    scripts: dict[str, Script] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    queues: Mapping[str, str] = field(default_factory=dict)
    dnis: Mapping[str, str] = field(default_factory=dict)
    ivr: Mapping[str, str] = field(default_factory=dict)
    campaigns: Mapping[str, str] = field(default_factory=dict)
    folder: Path | None = None

    def get(self, script_id: str) -> Script | None:
        return self.scripts.get(script_id)

    def for_call(self, call: CallFacts) -> Script | None:
        """The most specific attachment wins: campaign, IVR exit, dialled number, queue."""
        for table, key in (
            (self.campaigns, call.campaign),
            (self.ivr, call.ivr_exit),
            (self.dnis, call.dnis),
            (self.queues, call.queue),
        ):
            if key and key in table:
                return self.scripts.get(table[key])
        return None

    def for_campaign(self, campaign: str) -> Script | None:
        """The script a campaign's calls follow (`scripts.campaigns` in the configuration)."""
        script_id = self.campaigns.get(campaign)
        return None if script_id is None else self.scripts.get(script_id)

    def web_scripts(self) -> list[Script]:
        return [s for s in self.scripts.values() if s.web]

    def replace(self, script: Script, path: Path) -> None:
        self.scripts[script.id] = script
        self.files[script.id] = path


def load_catalog(settings: Settings, source: str = "configuration") -> tuple[ScriptCatalog, list[Problem]]:
    """Read and check every script and attachment; problems (warnings included) in file order.

    The catalog holds only the scripts without errors, so a server can still start the others
    when the caller chooses to (`checked_catalog` refuses any error)."""
    config = settings.scripts
    context = script_context(settings)
    problems: list[Problem] = []
    catalog = ScriptCatalog(
        queues=dict(config.queues),
        dnis=dict(config.dnis),
        ivr=dict(config.ivr),
        campaigns=dict(config.campaigns),
        folder=config.dir,
    )
    if config.dir is not None:
        if not config.dir.is_dir():
            problems.append(Problem(source, None, None, f"scripts.dir: {config.dir} is not a folder"))
        else:
            for path in sorted(config.dir.glob("*.xml")):
                script, found = read_checked(path.read_bytes(), str(path), context)
                problems += found
                if script is None:
                    continue
                if script.id != path.stem:
                    problems.append(
                        Problem(
                            str(path),
                            script.line,
                            None,
                            f"the file of script '{script.id}' must be {script.id}.xml",
                        )
                    )
                elif script.id in catalog.scripts:
                    problems.append(
                        Problem(str(path), script.line, None, f"script '{script.id}' is defined twice")
                    )
                else:
                    catalog.replace(script, path)
    problems += [Problem(source, None, None, m) for m in attachment_problems(settings, catalog.scripts)]
    return catalog, problems


def read_checked(data: bytes, source: str, context: ScriptContext) -> tuple[Script | None, list[Problem]]:
    """Read and check one script's text; the script only when it has no errors (the editor too)."""
    script, problems = read_script(data, source)
    if script is None:
        return None, problems
    problems = check_script(script, context)
    return (None if errors(problems) else script), problems


def attachment_problems(settings: Settings, scripts: Mapping[str, Script]) -> list[str]:
    """The `scripts` section against the configuration: every name it uses must exist."""
    config = settings.scripts
    problems: list[str] = []
    queues = {q.name for q in settings.queues}
    numbers = {n for q in settings.queues for n in q.dnis}
    ivr, _ = flows_of(settings)
    flows = ivr.flows if ivr is not None else {}
    numbers |= {n for flow in flows.values() for n in flow.dnis}

    def script(path: str, script_id: str) -> None:
        if script_id not in scripts:
            problems.append(f"{path}: " + unknown("script", script_id, scripts))

    for name, script_id in config.queues.items():
        if name not in queues:
            problems.append(f"scripts.queues.{name}: " + unknown("queue", name, queues))
        script(f"scripts.queues.{name}", script_id)
    for number, script_id in config.dnis.items():
        if number not in numbers:
            problems.append(f"scripts.dnis.{number}: no queue or IVR flow answers this number")
        script(f"scripts.dnis.{number}", script_id)
    for exit_, script_id in config.ivr.items():
        problems += _ivr_exit_problems(exit_, flows)
        script(f"scripts.ivr.{exit_}", script_id)
    for campaign, script_id in config.campaigns.items():
        # campaigns are checked by their own capability; the script must exist here
        script(f"scripts.campaigns.{campaign}", script_id)
    web = config.web
    for script_id in web.identify:
        script(f"scripts.web.identify.{script_id}", script_id)
    if web.factor is not None and web.factor not in customer_field_types(settings):
        problems.append(
            "scripts.web.factor: " + unknown("customer field", web.factor, customer_field_types(settings))
        )
    if config.task_queue is not None and config.task_queue not in queues:
        problems.append("scripts.task_queue: " + unknown("queue", config.task_queue, queues))
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"scripts.timezone: unknown time zone '{config.timezone}'")
    for script_id, mode in web.identify.items():
        if mode == "required" and web.factor is None:
            problems.append(f"scripts.web.identify.{script_id}: 'required' needs scripts.web.factor")
    return problems


def _ivr_exit_problems(exit_: str, flows: Mapping[str, object]) -> list[str]:
    path = f"scripts.ivr.{exit_}"
    flow_name, _, node_name = exit_.partition(".")
    flow = flows.get(flow_name)
    if flow is None:
        return [f"{path}: " + unknown("IVR flow", flow_name, flows)]
    nodes: Mapping[str, object] = getattr(flow, "nodes", {})
    node = nodes.get(node_name)
    if node is None:
        return [f"{path}: " + unknown(f"node of flow '{flow_name}'", node_name, nodes)]
    if getattr(node, "type", "") != "queue":
        return [f"{path}: node '{node_name}' does not lead to a queue (attach scripts to queue nodes)"]
    return []


def checked_catalog(settings: Settings, source: str = "configuration") -> ScriptCatalog:
    """The catalog for a server to start with: ConfigError naming every error; warnings logged."""
    catalog, problems = load_catalog(settings, source)
    for problem in problems:
        if problem.warning:
            log.warning("%s", problem)
    found = errors(problems)
    if found:
        raise ConfigError(source, [str(p) for p in found])
    return catalog
