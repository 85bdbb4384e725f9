// The supervisor monitor: per-queue tiles, the agents table and the waiting calls, all kept from
// live-channel messages (a `snapshot`, then events); timers count from the server's start times.
// Callers are shown by number and customer name, never by call id. An agent whose phone the PBX
// cannot reach is marked "phone unreachable" (`agent.phone`) until it can again.
// Actions: force an agent's status; listen / whisper / barge on an agent's call from my phone (my
// profile's, editable here): one monitoring call that changes agent or mode, with a stop button.
// Also: callers in the IVR (from `ivr.progress`) and the voicemail backlog (`GET /api/voicemails`,
// reloaded when a `voicemail.waiting` message says a mailbox changed: pushed, never polled).

import { get, post, put } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { duration, label, serverNow, sinceSpan } from "./time.js";
import { recordedAt } from "./voicemail.js";
import { ScriptSteps } from "./scriptmonitor.js";
import { CustomerSearch } from "./customers.js";

const MODES = [["listen", "Listen"], ["whisper", "Whisper"], ["barge", "Barge"]];

export class SupervisorMonitor {
  constructor(root, me) {
    this.root = root;
    this.reasons = me.pause_reasons || [];
    this.login = me.login;
    this.myPhone = me.phone || "";
    this.spying = null; // my monitoring call: {agent_id, mode, state, leg_id} (GET /api/spy, monitor.spy)
    this.agents = new Map(); // id -> agent row + since
    this.waiting = new Map(); // call id -> {call_id, queue, caller_num, caller_name, arrived_at, state}
    this.queues = new Map(); // name -> queue.stats data
    this.callers = new Map(); // call id -> {num, name, customer}: agents' calls shown by caller, never by id
    this.ivr = new Map(); // call id -> {call_id, flow, node, at (node reached), since (entered the flow)}
    this.backlog = null; // open voicemails (GET /api/voicemails), null until loaded
    this.boxes = new Map(); // mailbox -> messages nobody has taken (voicemail.waiting)
    this.loadingBacklog = null;
    this.reloadBacklog = false;
    this.pending = false;
    this.scriptSteps = new ScriptSteps(() => this.schedule());
    this.build();
    this.loadBacklog();
    this.loadSpy();
  }

  build() {
    this.phone = h("input", { id: "spy-phone", placeholder: "e.g. 2001", value: this.myPhone, "aria-label": "My phone for listening" });
    this.phone.addEventListener("change", () => this.savePhone());
    this.spyBar = h("div", { class: "spy-bar", id: "spy-bar", hidden: true });
    this.tiles = h("div", { class: "tiles", id: "queue-tiles" });
    this.agentBody = h("tbody", { id: "agents-body" });
    this.waitBody = h("tbody", { id: "waiting-body" });
    this.ivrCount = h("span", { class: "badge count", id: "ivr-count" }, "0");
    this.ivrBody = h("tbody", { id: "ivr-body" });
    this.backlogSummary = h("div", { class: "backlog-summary", id: "vm-backlog-summary" });
    this.backlogBody = h("tbody", { id: "vm-backlog-body" });
    fill(
      this.root,
      h(
        "div",
        { class: "monitor" },
        this.tiles,
        h(
          "div",
          { class: "monitor-grid" },
          h(
            "section",
            { class: "card" },
            h("div", { class: "card-head" }, h("h2", {}, "Agents"), h("label", { class: "phone-field" }, "My phone ", this.phone)),
            this.spyBar,
            h("table", { class: "grid", id: "agents-table" },
              h("thead", {}, h("tr", {}, ["Agent", "Status", "State", "Caller", "Script", "For", "Calls", "Actions"].map((t) => h("th", { class: t === "For" || t === "Calls" ? "num" : "" }, t)))),
              this.agentBody),
          ),
          h(
            "section",
            { class: "card" },
            h("h2", {}, "Waiting calls"),
            h("table", { class: "grid", id: "waiting-table" },
              h("thead", {}, h("tr", {}, ["#", "Queue", "Caller", "Waiting", ""].map((t) => h("th", { class: t === "#" || t === "Waiting" ? "num" : "" }, t)))),
              this.waitBody),
          ),
          h(
            "section",
            { class: "card", id: "ivr-panel" },
            h("div", { class: "card-head" }, h("h2", {}, "Callers in the IVR"), this.ivrCount),
            h("table", { class: "grid", id: "ivr-table" },
              h("thead", {}, h("tr", {}, ["Caller", "Flow", "Node", "At node", "In IVR"].map((t) => h("th", { class: t.startsWith("At") || t.startsWith("In") ? "num" : "" }, t)))),
              this.ivrBody),
          ),
          h("section", { class: "card customers", id: "customers" }),
          h(
            "section",
            { class: "card", id: "vm-backlog" },
            h("div", { class: "card-head" }, h("h2", {}, "Voicemail backlog"), this.backlogSummary),
            h("table", { class: "grid", id: "vm-backlog-table" },
              h("thead", {}, h("tr", {}, ["Caller", "Mailbox", "Status", "Agent", "Age"].map((t) => h("th", { class: t === "Age" ? "num" : "" }, t)))),
              this.backlogBody),
          ),
        ),
      ),
    );
    this.search = new CustomerSearch(this.root.querySelector("#customers"));
  }

  /** Who is on a call, as a person reads it; null when the monitor does not know yet. */
  callerOf(callId) {
    return this.callers.get(callId) || null;
  }

  callerCell(callId) {
    const c = this.callerOf(callId);
    if (!c) return h("span", { class: "muted" }, callId && callId.startsWith("vm-") ? "voicemail" : "…");
    return [h("strong", { class: "caller-num" }, c.num || "withheld"), c.customer ? h("span", { class: "caller-customer" }, ` ${c.customer}`) : c.name ? h("span", { class: "muted" }, ` ${c.name}`) : null];
  }

  apply(type, d) {
    const now = serverNow();
    if (this.scriptSteps.apply(type, d)) {
      this.schedule();
      return;
    }
    switch (type) {
      case "snapshot":
        this.agents.clear();
        for (const a of d.agents) {
          this.agents.set(a.id, { ...a, since: typeof a.state_since === "number" ? a.state_since : now });
          if (a.call_id && a.caller) this.callers.set(a.call_id, a.caller);
        }
        this.waiting.clear();
        for (const w of d.waiting) this.waiting.set(w.call_id, { ...w });
        for (const w of d.waiting) this.callers.set(w.call_id, { num: w.caller_num, name: w.caller_name, customer: w.customer_name || null });
        this.queues.clear();
        for (const q of d.queues) this.queues.set(q.name, q);
        this.loadBacklog(); // (re)connected: whatever changed meanwhile
        break;
      case "ivr.progress":
        if (d.ended) {
          this.ivr.delete(d.call_id);
        } else {
          const was = this.ivr.get(d.call_id);
          this.ivr.set(d.call_id, { call_id: d.call_id, flow: d.flow, node: d.node, at: d.at, since: was ? was.since : d.at, caller_num: d.caller_num || (was && was.caller_num) || "" });
        }
        break;
      case "voicemail.waiting":
        this.boxes.set(d.box, d.new);
        this.loadBacklog();
        break;
      case "agent.status": {
        const a = this.agents.get(d.agent_id);
        if (a) Object.assign(a, { status: d.status, reason: d.reason });
        break;
      }
      case "agent.state": {
        const a = this.agents.get(d.agent_id);
        if (a) Object.assign(a, { state: d.new, call_id: d.call_id, since: d.at });
        break;
      }
      case "agent.phone": {
        // the PBX cannot (or can again) reach the agent's phone: no call is offered meanwhile
        const a = this.agents.get(d.agent_id);
        if (a) a.phone = d.reachable ? "reachable" : "unreachable";
        break;
      }
      case "call.queued":
        this.callers.set(d.call_id, { num: d.caller_num, name: d.caller_name, customer: d.customer_name || null });
        this.waiting.set(d.call_id, { call_id: d.call_id, queue: d.queue, caller_num: d.caller_num, caller_name: d.caller_name, customer_name: d.customer_name || null, arrived_at: d.at, state: "waiting" });
        break;
      case "call.requeued": {
        const w = this.waiting.get(d.call_id);
        if (w) w.queue = d.to_queue;
        break;
      }
      case "call.offered": {
        const w = this.waiting.get(d.call_id);
        if (w) Object.assign(w, { state: "offering", agent_id: d.agent_id });
        break;
      }
      case "offer.ended": {
        const w = this.waiting.get(d.call_id);
        if (w) Object.assign(w, { state: "waiting", agent_id: null });
        break;
      }
      case "call.answered": {
        this.waiting.delete(d.call_id);
        const a = this.agents.get(d.agent_id);
        if (a) a.calls_today += 1;
        break;
      }
      case "call.ended":
        this.waiting.delete(d.call_id);
        this.callers.delete(d.call_id);
        this.ivr.delete(d.call_id); // the caller hung up: the IVR's own `ended` may come later
        break;
      case "queue.stats":
        this.queues.set(d.name, d);
        break;
      case "monitor.spy":
        if (d.supervisor !== this.login) return;
        this.spying = d.state === "ended" ? null : d;
        break;
      default:
        return;
    }
    this.schedule();
  }

  schedule() {
    // several messages often arrive together: render once for the batch
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    this.renderTiles();
    this.renderAgents();
    this.renderWaiting();
    this.renderIvr();
    this.renderBacklog();
  }

  renderIvr() {
    const rows = [...this.ivr.values()].sort((x, y) => x.since - y.since).map((c) =>
      h(
        "tr",
        { dataset: { call: c.call_id, node: c.node } },
        h("td", {}, c.caller_num ? h("strong", { class: "caller-num" }, c.caller_num) : this.callerCell(c.call_id)),
        h("td", { class: "ivr-flow" }, c.flow),
        h("td", { class: "ivr-node" }, h("span", { class: "chip" }, c.node)),
        h("td", { class: "num" }, sinceSpan(c.at)),
        h("td", { class: "num" }, sinceSpan(c.since)),
      ),
    );
    this.ivrCount.textContent = String(rows.length);
    fill(this.ivrBody, rows.length ? rows : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Nobody is in the IVR.")));
  }

  /** Reload the open voicemails; a request made while one runs becomes one more reload after it. */
  async loadBacklog() {
    if (this.loadingBacklog) {
      this.reloadBacklog = true;
      return;
    }
    this.loadingBacklog = get("/api/voicemails").then(
      (data) => (this.backlog = (data && data.voicemails) || []),
      (err) => {
        if (err.status !== 404) toast(err.message);
      },
    );
    await this.loadingBacklog;
    this.loadingBacklog = null;
    if (this.reloadBacklog) {
      this.reloadBacklog = false;
      this.loadBacklog();
      return;
    }
    this.schedule();
  }

  renderBacklog() {
    const items = (this.backlog || []).slice().sort((a, b) => recordedAt(a) - recordedAt(b));
    const untaken = items.filter((v) => v.status === "new").length;
    const stat = (name, value, attrs = {}) => h("div", { class: "stat", ...attrs }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, name));
    fill(
      this.backlogSummary,
      h("div", { class: "stats backlog-stats" },
        stat("open", h("span", { id: "vm-open" }, this.backlog === null ? "…" : String(items.length)), { class: `stat${items.length ? " hot" : ""}` }),
        stat("not taken", h("span", { id: "vm-untaken" }, String(untaken))),
        stat("oldest", h("span", { id: "vm-oldest" }, items.length ? sinceSpan(recordedAt(items[0])) : "—")),
      ),
    );
    const rows = items.map((v) =>
      h(
        "tr",
        { dataset: { voicemail: String(v.id), status: v.status } },
        h("td", {}, h("strong", {}, v.caller_num || "withheld"), v.caller_name ? h("span", { class: "muted" }, ` ${v.caller_name}`) : null),
        h("td", {}, v.box),
        h("td", {}, h("span", { class: `badge vm-status ${v.status}` }, label(v.status))),
        h("td", {}, v.agent_id ? (this.agents.get(v.agent_id) || {}).name || v.agent_id : "—"),
        h("td", { class: "num" }, sinceSpan(recordedAt(v))),
      ),
    );
    fill(this.backlogBody, rows.length ? rows : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No voicemail waiting.")));
  }

  renderTiles() {
    const tiles = [];
    for (const q of [...this.queues.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const oldest = this.oldestWaiting(q.name);
      const sl = q.service_level_today;
      const slClass = sl === null ? "" : sl >= 0.8 ? "good" : sl >= 0.6 ? "warn" : "bad";
      const stat = (name, value, cls = "") => h("div", { class: `stat ${cls}` }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, name));
      tiles.push(
        h(
          "section",
          { class: `tile${q.waiting ? " busy" : ""}`, dataset: { queue: q.name } },
          h("h3", {}, q.name),
          h("div", { class: "stats" },
            stat("waiting", h("span", { class: "q-waiting" }, String(q.waiting)), q.waiting ? "hot" : ""),
            stat("longest wait", oldest !== null ? sinceSpan(oldest) : duration(q.longest_wait)),
            stat("available", `${q.agents_available} / ${q.agents_logged_in}`),
            stat("answered", String(q.answered_today)),
            stat("abandoned", String(q.abandoned_today + q.timed_out_today)),
            stat(`SL ${Math.round(q.service_target)} s`, h("span", { class: "q-sl" }, sl === null ? "—" : `${Math.round(sl * 100)}%`), levelOf(q, "service_level", slClass)),
            stat("abandon rate", h("span", { class: "q-abandon" }, pct(q.abandon_rate_today)), levelOf(q, "abandon_rate", "")),
            stat("AHT", h("span", { class: "q-aht" }, q.aht_today === null || q.aht_today === undefined ? "—" : duration(q.aht_today)), levelOf(q, "aht", "")),
          ),
        ),
      );
    }
    fill(this.tiles, tiles.length ? tiles : h("p", { class: "muted" }, "No queues."));
  }

  oldestWaiting(queue) {
    let oldest = null;
    for (const w of this.waiting.values()) {
      if (w.queue === queue && (oldest === null || w.arrived_at < oldest)) oldest = w.arrived_at;
    }
    return oldest;
  }

  renderAgents() {
    const rows = [];
    for (const a of [...this.agents.values()].sort((x, y) => x.name.localeCompare(y.name))) {
      const options = [["available", "Available"], ...this.reasons.map((r) => [`paused:${r}`, `Paused: ${r}`]), ["logged_out", "Logged out"]];
      const current = a.status === "paused" ? `paused:${a.reason}` : a.status;
      const force = select({ "aria-label": `Force status of ${a.name}`, class: "force" }, options, current);
      force.addEventListener("change", () => this.forceStatus(a, force.value));
      const onCall = a.state === "on_call";
      const mine = this.spying && this.spying.agent_id === a.id ? this.spying.mode : null;
      const spy = (mode, text) =>
        h("button", { type: "button", class: `small spy-${mode}${mine === mode ? " active" : ""}`, "aria-pressed": mine === mode ? "true" : "false", disabled: !onCall, onclick: () => this.spy(a, mode) }, text);
      rows.push(
        h(
          "tr",
          { dataset: { agent: a.id, state: a.state, status: a.status, phone: a.phone || "reachable" } },
          h("td", {}, h("strong", {}, a.name), h("div", { class: "muted small-text" }, a.id)),
          h(
            "td",
            {},
            h("span", { class: `status-pill ${a.status}` }, label(a.status), a.status === "paused" && a.reason ? ` · ${a.reason}` : ""),
            a.phone === "unreachable" ? h("span", { class: "badge unreachable", title: "The PBX cannot reach this agent's phone: no call is offered until it can" }, "phone unreachable") : null,
          ),
          h("td", {}, h("span", { class: `state-pill ${a.state}` }, label(a.state))),
          h("td", { class: "agent-call" }, a.call_id ? this.callerCell(a.call_id) : "—"),
          h("td", { class: "agent-script" }, this.scriptSteps.cell(a.id)),
          h("td", { class: "num" }, sinceSpan(a.since)),
          h("td", { class: "num calls-today" }, String(a.calls_today)),
          h("td", {}, h("div", { class: "row-actions" }, force, MODES.map(([mode, text]) => spy(mode, text)))),
        ),
      );
    }
    fill(this.agentBody, rows);
    this.renderSpy();
  }

  renderSpy() {
    const s = this.spying;
    this.spyBar.hidden = !s;
    if (!s) return fill(this.spyBar);
    const agent = this.agents.get(s.agent_id);
    fill(
      this.spyBar,
      h("span", { class: "spy-state" }, s.state === "ringing" ? "Your phone rings to monitor " : "Monitoring ", h("strong", { id: "spy-agent" }, agent ? agent.name : s.agent_id), " · ", h("span", { id: "spy-mode" }, label(s.mode))),
      MODES.map(([mode, text]) => h("button", { type: "button", class: `small${s.mode === mode ? " active" : ""}`, disabled: s.state !== "active" || s.mode === mode, onclick: () => agent && this.spy(agent, mode) }, text)),
      h("button", { type: "button", class: "small danger", id: "spy-stop", onclick: () => this.stopSpy() }, "Stop"),
    );
  }

  renderWaiting() {
    const calls = [...this.waiting.values()].sort((x, y) => x.arrived_at - y.arrived_at);
    const positions = new Map();
    const rows = calls.map((w) => {
      const pos = (positions.get(w.queue) || 0) + 1;
      positions.set(w.queue, pos);
      return h(
        "tr",
        { dataset: { call: w.call_id } },
        h("td", { class: "num" }, String(pos)),
        h("td", {}, w.queue),
        h("td", {}, h("strong", {}, w.caller_num || "withheld"), w.customer_name ? h("span", { class: "caller-customer" }, ` ${w.customer_name}`) : w.caller_name ? h("span", { class: "muted" }, ` ${w.caller_name}`) : null),
        h("td", { class: "num" }, sinceSpan(w.arrived_at)),
        h("td", {}, w.state === "offering" ? h("span", { class: "state-pill ringing" }, "ringing") : ""),
      );
    });
    fill(this.waitBody, rows.length ? rows : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Nobody is waiting.")));
  }

  async forceStatus(agent, value) {
    const [status, reason] = value.split(":");
    try {
      const row = await post(`/api/agents/${encodeURIComponent(agent.id)}/status`, reason ? { status, reason } : { status });
      Object.assign(agent, { status: row.status, reason: row.reason });
      toast(`${agent.name}: ${label(row.status)}`, "ok");
    } catch (err) {
      toast(err.message);
    }
    this.schedule();
  }

  async spy(agent, mode) {
    if (!this.phone.value.trim()) {
      toast("Enter your phone (where the supervisor call rings) first");
      this.phone.focus();
      return;
    }
    if (this.spyBusy) return; // a double click sends one request; the server keeps one call anyway
    this.spyBusy = true;
    try {
      const reply = await post(`/api/agents/${encodeURIComponent(agent.id)}/spy`, { mode });
      this.spying = reply.spy;
      toast(`${label(mode)} on ${agent.name}${reply.spy && reply.spy.state === "ringing" ? ": your phone rings" : ""}`, "ok");
    } catch (err) {
      toast(err.message);
    } finally {
      this.spyBusy = false;
    }
    this.schedule();
  }

  async stopSpy() {
    try {
      await post("/api/spy/stop");
    } catch (err) {
      if (err.status !== 404) toast(err.message);
    }
    this.spying = null;
    this.schedule();
  }

  async loadSpy() {
    try {
      const data = await get("/api/spy");
      this.spying = data.spy;
      if (data.phone && !this.phone.value) this.phone.value = data.phone;
      this.schedule();
    } catch {
      // older servers: no monitoring state to show
    }
  }

  async savePhone() {
    try {
      const saved = await put("/api/me/phone", { phone: this.phone.value.trim() || null });
      this.phone.value = saved.phone || "";
      toast("Phone saved", "ok");
    } catch (err) {
      toast(err.message);
    }
  }
}

function pct(x) {
  return x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`;
}

/** The CSS class of a tile figure: the server's level against the queue's thresholds. */
function levelOf(queue, figure, fallback) {
  const level = queue.levels && queue.levels[figure];
  return level || fallback;
}
