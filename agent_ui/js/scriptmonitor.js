// Which step of which script each agent is on, for the supervisor's agents table: kept from the
// live channel's `script.step` / `script.ended`, and loaded from GET /api/script-runs/active when
// the monitor (re)connects (a snapshot does not carry it).

import { get } from "./api.js";
import { h } from "./dom.js";

export class ScriptSteps {
  constructor(onChange) {
    this.onChange = onChange;
    this.byAgent = new Map(); // agent id -> {run_id, script_id, step, title}
  }

  /** Returns true for the messages it handles. */
  apply(type, d) {
    if (type === "snapshot") {
      this.load();
      return false;
    }
    if (!d || !d.agent_id) return false; // a customer's run on the web: no agent to show it on
    if (type === "script.started") return true; // its first step follows as script.step
    if (type === "script.step") {
      this.byAgent.set(d.agent_id, { run_id: d.run_id, script_id: d.script_id, step: d.step, title: d.title || d.step });
      return true;
    }
    if (type === "script.ended") {
      const current = this.byAgent.get(d.agent_id);
      if (current && current.run_id === d.run_id) this.byAgent.delete(d.agent_id);
      return true;
    }
    return false;
  }

  async load() {
    try {
      const data = await get("/api/script-runs/active");
      this.byAgent.clear();
      for (const r of data.runs) this.byAgent.set(r.agent_id, { run_id: r.run_id, script_id: r.script_id, step: r.step, title: r.title });
    } catch {
      return; // an older server without scripts: the column stays empty
    }
    this.onChange();
  }

  /** The table cell's content for an agent. */
  cell(agentId) {
    const s = this.byAgent.get(agentId);
    if (!s) return "—";
    return h("span", { class: "script-at", dataset: { step: s.step }, title: `${s.script_id}: ${s.step}` },
      h("span", { class: "muted small-text" }, `${s.script_id} · `), s.title);
  }
}
