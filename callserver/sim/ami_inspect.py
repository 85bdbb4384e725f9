"""The AMI actions an administrator's tools use to inspect a PBX, answered as Asterisk 22 does:
`ShowDialPlan` (pbx.c), `PJSIPShowEndpoints` (res_pjsip), and the CLI commands `manager show user`
and `dialplan show globals` through `Command`.

No transcript records ShowDialPlan; its shapes follow Asterisk 22's manager_show_dialplan: a
`DialPlan list will follow` ack, one `ListDialplan` per priority, `ShowDialPlanComplete` with the
counts, and `Did not find context X` for an unknown context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callserver.sim import messages as m
from callserver.sim.ami_server import AmiSession, Handler
from callserver.sim.apps import Runtime
from callserver.sim.manager_user import ManagerUser

Action = dict[str, str | list[str]]
REGISTRAR = "pbx_config"


def _get(action: Action, key: str) -> str:
    value = action.get(key, "")
    return value.strip() if isinstance(value, str) else ",".join(value)


@dataclass
class Endpoint:
    """A PJSIP endpoint as `pjsip show endpoints` knows it; `contact` empty when nothing registered."""

    name: str
    contact: str = ""
    reachable: bool = True


@dataclass
class Endpoints:
    """The simulated pjsip.conf: endpoint name -> state; tests remove or unregister phones."""

    by_name: dict[str, Endpoint] = field(default_factory=dict)

    def add(self, name: str, port: int) -> None:
        self.by_name[name] = Endpoint(name, f"{name}/sip:{name}@127.0.0.1:{port}")


class Inspect:
    """Handlers bound to one runtime; `table()` is merged into the AMI server's action table."""

    def __init__(self, rt: Runtime, endpoints: Endpoints, user: ManagerUser, username: str) -> None:
        self.rt, self.endpoints, self.user, self.username = rt, endpoints, user, username

    def table(self) -> dict[str, Handler]:
        return {"showdialplan": self.show_dialplan, "pjsipshowendpoints": self.pjsip_show_endpoints}

    async def show_dialplan(self, s: AmiSession, action: Action, aid: str | None) -> None:
        wanted = _get(action, "Context")
        contexts = [c for name, c in self.rt.dialplan.contexts.items() if not wanted or name == wanted]
        if wanted and not contexts:
            s.send(m.response(aid, "Error", [("Message", f"Did not find context {wanted}")]))
            return
        s.send(m.response(aid, "Success", [("EventList", "start"), ("Message", "DialPlan list will follow")]))
        items = extensions = priorities = 0
        for context in contexts:
            for extension in context.extensions.values():
                extensions += 1
                for priority, step in sorted(extension.steps.items()):
                    items += 1
                    priorities += 1
                    event: m.Message = [("Event", "ListDialplan")]
                    if aid is not None:
                        event.append(("ActionID", aid))
                    event += [("Context", context.name), ("Extension", extension.pattern)]
                    if step.label:
                        event.append(("ExtensionLabel", step.label))
                    event += [("Priority", str(priority)), ("Application", step.app), ("AppData", step.data)]
                    s.send([*event, ("Registrar", REGISTRAR)])
            for include in context.includes:
                items += 1
                event = [("Event", "ListDialplan")]
                if aid is not None:
                    event.append(("ActionID", aid))
                s.send(
                    [*event, ("Context", context.name), ("IncludeContext", include), ("Registrar", REGISTRAR)]
                )
        done = m.list_complete("ShowDialPlanComplete", aid, items)
        counts = [("ListExtensions", str(extensions)), ("ListPriorities", str(priorities))]
        s.send([*done, *counts, ("ListContexts", str(len(contexts)))])

    async def pjsip_show_endpoints(self, s: AmiSession, action: Action, aid: str | None) -> None:
        message = "A listing of Endpoints follows, presented as EndpointList events"
        s.send(m.response(aid, "Success", [("EventList", "start"), ("Message", message)]))
        endpoints = sorted(self.endpoints.by_name.values(), key=lambda e: e.name)
        for ep in endpoints:
            active = sum(1 for ch in self.rt.pbx.channels.values() if ch.name.startswith(f"PJSIP/{ep.name}-"))
            if not ep.contact or not ep.reachable:
                state = "Unavailable"
            else:
                state = "In use" if active else "Not in use"
            event: m.Message = [("Event", "EndpointList")]
            if aid is not None:
                event.append(("ActionID", aid))
            event += [
                ("ObjectType", "endpoint"),
                ("ObjectName", ep.name),
                ("Transport", "transport-udp"),
                ("Aor", ep.name),
                ("Auths", ""),
                ("OutboundAuths", ""),
                ("Contacts", f"{ep.contact}," if ep.contact else ""),
                ("DeviceState", state),
                ("ActiveChannels", str(active)),
            ]
            s.send(event)
        s.send(m.list_complete("EndpointListComplete", aid, len(endpoints)))

    def command_output(self, text: str) -> list[str] | None:
        """The output lines of the CLI commands answered here, None for any other command."""
        words = text.split()
        if words[:3] == ["manager", "show", "user"] and len(words) == 4:
            if words[3] != self.username:
                return [f"There is no manager called {words[3]}"]
            return self.user.show(self.username)
        if words == ["dialplan", "show", "globals"]:
            lines = [f"   {k}={v}" for k, v in self.rt.globals.items()]
            return [*lines, "", f"    -- {len(lines)} variable(s)"]
        return None
