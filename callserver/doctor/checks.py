"""The checks of `callserver doctor`, in the order an administrator fixes things: reach AMI, log in,
read the right event classes, have callserver's dialplan loaded with a FastAGI address that
answers, have every prompt and the recordings folder in place, know the agents' phones.

Each check adds findings to one report; a failure early on (no AMI) skips what depends on it and
nothing else. Read-only towards Asterisk: only listing actions, Getvar and two CLI `show` commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from callserver.ami.protocol import AmiActionError, AmiConnection, AmiError
from callserver.ami.wire import Frame
from callserver.config import AgentConfig, Settings
from callserver.doctor.findings import Report
from callserver.ivr.prompt_build import prompt_synth
from callserver.ivr.prompts import fixed_texts
from callserver.ivr.section import flows_of
from callserver.pbx.dialplan import AGI_GLOBAL, Context
from callserver.sounds.check import FIX, unknown_sound_names, unknown_sound_problem
from callserver.sounds.folder import configured_languages, sound_folder
from callserver.sounds.names import OWN_PROMPTS
from callserver.speech.model import SpeechError
from callserver.voicemail.recordings import recordings_dir, recordings_problem

# the read classes callserver needs and why (asterisk/manager.conf explains each)
NEEDED_CLASSES = {
    "call": "channel events: calls, bridges, hang-ups, agents' phones' device state",
    "dtmf": "remote agents accept with a key",
    "system": "FullyBooted / Shutdown: Asterisk restarts; ContactStatus: phones that go away",
}
MANAGER_RELOAD = 'then `asterisk -rx "manager reload"`'
PJSIP_RELOAD = '`asterisk -rx "pjsip reload"`'
DIALPLAN_FIX = (
    "copy asterisk/extensions_callserver.conf to /etc/asterisk, `#include extensions_callserver.conf` "
    'in extensions.conf, then `asterisk -rx "dialplan reload"`'
)


async def run_doctor(settings: Settings, *, shipped_dialplan: Path | None = None) -> Report:
    """Check the deployment `settings` describes; `shipped_dialplan` is the dialplan file to compare
    Asterisk's with (default: the first of `simulator.dialplan`, i.e. asterisk/extensions_callserver.conf)."""
    report = Report()
    shipped = shipped_dialplan or (settings.simulator.dialplan[0] if settings.simulator.dialplan else None)
    await _pbx(settings, report, shipped)
    await _prompts(settings, report)
    _recordings(settings, report)
    return report


async def _pbx(settings: Settings, report: Report, shipped: Path | None) -> None:
    cfg = settings.ami
    where = f"{cfg.host}:{cfg.port}"
    events: list[Frame] = []
    try:
        conn = await AmiConnection.open(cfg.host, cfg.port, cfg.action_timeout, events.append)
    except (OSError, TimeoutError, AmiError) as err:
        report.fail(
            "ami",
            f"cannot reach AMI at {where} ({err or type(err).__name__})",
            "enable AMI in /etc/asterisk/manager.conf ([general] enabled = yes, port, bindaddr) and point "
            f"ami.host / ami.port at it, {MANAGER_RELOAD}",
        )
        return
    try:
        report.ok("ami", f"{where} answers ({conn.banner})")
        try:
            await conn.action(
                "Login", [("Username", cfg.username), ("Secret", cfg.secret)], timeout=cfg.action_timeout
            )
        except AmiError as err:
            report.fail(
                "login",
                f"user {cfg.username!r} refused ({err})",
                f"the secret of [{cfg.username}] in manager.conf and ami.secret (or CALLSERVER_AMI_SECRET) "
                f"must be the same, and its permit= must include this host; {MANAGER_RELOAD}",
            )
            return
        report.ok("login", f"user {cfg.username!r} logged in")
        await _read_classes(conn, settings, report)
        await _contexts(conn, settings, report, shipped)
        await _fastagi(conn, settings, report)
        await _endpoints(conn, settings, report)
        with contextlib.suppress(AmiError):
            await conn.action("Logoff", timeout=cfg.action_timeout)
    finally:
        await conn.aclose()


async def _read_classes(conn: AmiConnection, settings: Settings, report: Report) -> None:
    user = settings.ami.username
    how = f"read = call,dtmf,system in [{user}] of manager.conf, {MANAGER_RELOAD}"
    try:
        reply = await conn.action(
            "Command", [("Command", f"manager show user {user}")], timeout=settings.ami.action_timeout
        )
    except AmiError as err:
        report.warn(
            "read classes",
            f"cannot list them ({err})",
            f"add `command` to write= of [{user}], or check `asterisk -rx 'manager show user {user}'`",
        )
        return
    output = reply.response.headers.get("Output", "")
    line = next((ln for ln in output.splitlines() if ln.strip().startswith("read perm:")), None)
    if line is None:
        report.warn("read classes", f"`manager show user {user}` said: {output.strip()[:120]!r}", how)
        return
    shown = line.split(":", 1)[1].strip()
    classes = {c.strip() for c in shown.split(",")}
    missing = [c for c in NEEDED_CLASSES if c not in classes]
    if missing:
        why = "; ".join(f"{c}: {NEEDED_CLASSES[c]}" for c in missing)
        report.fail("read classes", f"user {user} reads {shown}: missing {', '.join(missing)} ({why})", how)
        return
    report.ok("read classes", f"user {user} reads {shown}")
    if "dialplan" in classes:
        report.warn(
            "read classes",
            "the dialplan class (VarSet/Newexten) is three quarters of AMI traffic and unused",
            how,
        )


async def _contexts(conn: AmiConnection, settings: Settings, report: Report, shipped: Path | None) -> None:
    expected = _shipped_steps(shipped)
    missing: list[str] = []
    differ: list[str] = []
    for context in Context:
        try:
            reply = await conn.action(
                "ShowDialPlan",
                [("Context", context.value)],
                timeout=settings.ami.action_timeout,
                complete_event="ShowDialPlanComplete",
            )
        except AmiActionError:
            missing.append(context.value)
            continue
        loaded = [
            (i.headers.get("Extension", ""), i.headers.get("Priority", ""), i.headers.get("Application", ""))
            for i in reply.items
            if "Priority" in i.headers
        ]
        want = expected.get(context.value)
        if want is not None and sorted(loaded) != sorted(want):
            differ.append(context.value)
    if missing:
        report.fail("dialplan", f"contexts not loaded: {', '.join(missing)}", DIALPLAN_FIX)
    if differ:
        report.fail(
            "dialplan",
            f"contexts differ from {shipped}: {', '.join(differ)} (an older copy?)",
            DIALPLAN_FIX,
        )
    if not missing and not differ:
        report.ok("dialplan", f"all {len(Context)} callserver-* contexts loaded")


def _shipped_steps(path: Path | None) -> dict[str, list[tuple[str, str, str]]]:
    """(extension, priority, application) per callserver context of the dialplan file we ship."""
    if path is None or not path.is_file():
        return {}
    from callserver.sim import dialplan as dp  # the same parser the simulator runs the file with

    plan = dp.load([path])
    return {
        name: [(e.pattern, str(p), s.app) for e in ctx.extensions.values() for p, s in e.steps.items()]
        for name, ctx in plan.contexts.items()
        if name.startswith("callserver-")
    }


async def _fastagi(conn: AmiConnection, settings: Settings, report: Report) -> None:
    try:
        reply = await conn.action("Getvar", [("Variable", AGI_GLOBAL)], timeout=settings.ami.action_timeout)
    except AmiError as err:
        report.fail(
            "fastagi", f"cannot read {AGI_GLOBAL} ({err})", f"add `call` to write= ({MANAGER_RELOAD})"
        )
        return
    url = reply.response.headers.get("Value", "")
    ours = f"agi://<callserver host>:{settings.agi.port}"
    if not url:
        report.fail("fastagi", f"{AGI_GLOBAL} is not set in [globals]", DIALPLAN_FIX)
        return
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 4573
    if parts.scheme != "agi" or not host:
        report.fail("fastagi", f"{AGI_GLOBAL}={url} is not an agi://host:port address", f"set it to {ours}")
        return
    if port != settings.agi.port:
        report.fail(
            "fastagi",
            f"{AGI_GLOBAL}={url} but callserver listens on port {settings.agi.port} (agi.port)",
            f"set {AGI_GLOBAL}={ours} in [globals] of extensions.conf, or change agi.port",
        )
        return
    if _loopback(host) and not _loopback(settings.ami.host):
        report.fail(
            "fastagi",
            f"{AGI_GLOBAL}={url} is loopback but Asterisk is on {settings.ami.host}: it would call itself",
            f"set {AGI_GLOBAL}={ours} in [globals] of extensions.conf",
        )
        return
    try:
        async with asyncio.timeout(settings.ami.action_timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as err:
        report.fail(
            "fastagi",
            f"nothing answers at {url} ({err or 'timeout'}): every caller would hear 'no service'",
            "start callserver (`callserver run`), and let Asterisk reach that port",
        )
        return
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    report.ok("fastagi", f"{AGI_GLOBAL}={url} answers")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint_of(agent: AgentConfig, settings: Settings) -> str | None:
    """The PJSIP endpoint an agent is rung through: `1001` for PJSIP/1001, the trunk for a number."""
    dial = agent.interface or settings.dialplan.remote_dial.format(number=agent.number)
    tech, _, rest = dial.partition("/")
    if tech != "PJSIP" or not rest:
        return None
    return rest.rpartition("@")[2] if "@" in rest else rest


async def _endpoints(conn: AmiConnection, settings: Settings, report: Report) -> None:
    try:
        reply = await conn.action(
            "PJSIPShowEndpoints", timeout=settings.ami.action_timeout, complete_event="EndpointListComplete"
        )
    except AmiError as err:
        report.fail("pjsip", f"cannot list PJSIP endpoints ({err})", "load chan_pjsip (modules.conf)")
        return
    known = {i.headers.get("ObjectName", ""): i.headers for i in reply.items}
    seen: set[str] = set()
    for agent in settings.agents:
        endpoint = _endpoint_of(agent, settings)
        if endpoint is None:
            report.warn("pjsip", f"agent {agent.id}: {agent.interface} is not a PJSIP channel: not checked")
            continue
        if endpoint in seen:
            continue
        seen.add(endpoint)
        who = f"agent {agent.id}" if agent.interface else "remote agents' trunk"
        fields = known.get(endpoint)
        if fields is None:
            report.fail(
                "pjsip",
                f"{who}: PJSIP has no endpoint {endpoint!r}",
                f"add [{endpoint}] to pjsip.conf (see asterisk/pjsip.conf), then {PJSIP_RELOAD}",
            )
        elif not fields.get("Contacts", "").strip(", "):
            report.warn("pjsip", f"{who}: endpoint {endpoint} has no contact: not registered, cannot ring")
        elif fields.get("DeviceState") == "Unavailable":
            report.warn("pjsip", f"{who}: endpoint {endpoint} is unreachable (qualify failed)")
        else:
            report.ok("pjsip", f"{who}: endpoint {endpoint} {fields.get('DeviceState', '').lower()}")


async def _prompts(settings: Settings, report: Report) -> None:
    folder = sound_folder(settings)
    build = f"run `callserver prompts build`; Asterisk must read {folder.dir} (as {folder.prefix}/...)"
    if not folder.dir.is_dir():
        report.fail("prompts", f"sounds folder {folder.dir} does not exist", build)
    languages = configured_languages(settings)
    missing = [
        folder.name(prompt, language)
        for prompt in OWN_PROMPTS
        for language in folder.languages_of(prompt, languages)
        if not folder.path(prompt, language).is_file()
    ]
    flows, _ = flows_of(settings)
    texts = list(fixed_texts(flows)) if flows is not None else []
    if not folder.dir.is_dir():
        texts = []  # none can be there; starting the synthesiser would create the folder
    missing_texts = 0
    if texts:
        try:
            async with prompt_synth(settings) as synth:
                for text, language, voice in texts:
                    if not (await synth.cached_path(text, language=language, voice=voice)).is_file():
                        missing_texts += 1
        except (SpeechError, ValueError) as err:
            report.warn("prompts", f"cannot check the IVR's text prompts ({err})")
    if missing:
        report.fail("prompts", f"callserver prompts missing: {', '.join(missing)}", build)
    if missing_texts:
        report.fail("prompts", f"{missing_texts} of {len(texts)} IVR text prompts not built", build)
    for path, name in unknown_sound_names(settings):
        report.fail("prompts", f"{path}: {unknown_sound_problem(settings, name)}", FIX)
    if not missing and not missing_texts:
        report.ok("prompts", f"every callserver prompt and IVR text prompt is in {folder.dir}")


def _recordings(settings: Settings, report: Report) -> None:
    path = recordings_dir(settings)
    problem = recordings_problem(path)
    if problem is not None:
        report.fail(
            "recordings", problem, f"mkdir -p {path}, owned by a group both Asterisk and callserver are in"
        )
    else:
        report.ok("recordings", f"{path} exists and callserver can write to it (Asterisk must too)")
