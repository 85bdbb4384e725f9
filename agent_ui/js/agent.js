// The agent desktop: my status (available / paused with a reason / logged out), my state and
// counters, the screen-pop, call control while on a call, and the wrap-up form after it.
// A voicemail task (call id `vm-<id>`) shows the voicemail card instead of call control; a
// callback request or task from a script (`sc-<id>`) its card (script.js), as does the script panel.
// Everything shown is driven by live-channel messages; buttons call the REST API.

import { get, post } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { PopCard } from "./pop.js";
import { CustomerSearch } from "./customers.js";
import { VoicemailDesk, voicemailIdOf } from "./voicemail.js";
import { CallbackCard, MyCallbacks, ScriptPanel, callbackIdOf } from "./script.js";
import { label, serverNow, sinceSpan } from "./time.js";
import { WrapupForm } from "./wrapup.js";

const FALLBACK_OUTCOMES = [["resolved", "Resolved"], ["follow_up", "Follow-up needed"], ["other", "Other"]];
const TRANSFER_TEXT = {
  waiting: "waiting: the caller hears music until they are free",
  ringing: "ringing",
  answered: "answered",
  gone: "gone (hung up or not reachable)",
  returned: "not taken in time: sent back",
  abandoned: "the caller hung up",
  completed: "completed",
  cancelled: "cancelled",
};

export class AgentDesktop {
  constructor(root, me) {
    this.root = root;
    this.id = me.agent_id;
    this.me = me.agent;
    this.reasons = me.pause_reasons || [];
    this.since = serverNow();
    this.call = null; // {call_id, queue, answered_at, held, consulting}
    this.wrapup = null; // call id whose wrap-up form is open
    this.closedWith = null; // {callId, outcome}: a voicemail closed with an outcome, for its wrap-up
    this.outcomes = FALLBACK_OUTCOMES;
    this.directory = null; // GET /api/directory, loaded when a call is connected
    this.transfer = null; // the latest call.transfer about me: {call_id, mode, kind, target, state, agent_id}
    this.build();
    this.loadOutcomes();
    this.renderMe();
  }

  async loadOutcomes() {
    try {
      const data = await get("/api/outcomes");
      const list = Array.isArray(data) ? data : data && (data.codes || data.outcomes);
      if (Array.isArray(list) && list.length) {
        this.outcomes = list.map((o) =>
          typeof o === "string" ? [o, label(o)] : [o.code ?? o.id ?? o.name, o.label ?? o.name ?? o.code],
        );
      }
    } catch {
      // older servers have no outcome list: the fallback codes keep the form usable
    }
  }

  build() {
    this.statusBox = h("div", { class: "status-box" });
    this.stateBox = h("div", { class: "state-box" });
    this.counters = h("dl", { class: "counters" });
    this.controls = h("section", { class: "card controls", id: "call-controls" });
    this.popRoot = h("section", { class: "card pop", id: "pop" });
    this.wrapRoot = h("section", { class: "card wrapup", id: "wrapup", hidden: true });
    this.form = new WrapupForm(this.wrapRoot, { agentId: this.id, onDone: () => this.renderControls() });
    this.pop = new PopCard(this.popRoot);
    this.vmRoot = h("section", { class: "card voicemail", id: "voicemail" });
    this.vmListRoot = h("section", { class: "card", id: "my-voicemails" });
    this.searchRoot = h("section", { class: "card customers", id: "customers" });
    this.search = new CustomerSearch(this.searchRoot);
    this.vm = new VoicemailDesk(this.vmRoot, this.vmListRoot, {
      outcomes: () => this.outcomes,
      onClosed: (callId, outcome) => this.voicemailClosed(callId, outcome),
    });
    this.scriptRoot = h("section", { class: "card script", id: "script", hidden: true });
    this.script = new ScriptPanel(this.scriptRoot, this.id);
    this.cbRoot = h("section", { class: "card callback", id: "callback", hidden: true });
    this.callback = new CallbackCard(this.cbRoot, { outcomes: () => this.outcomes, onClosed: (callId, outcome) => this.voicemailClosed(callId, outcome) });
    this.myCallbacksRoot = h("section", { class: "card", id: "my-callbacks" });
    this.myCallbacks = new MyCallbacks(this.myCallbacksRoot);
    fill(
      this.root,
      h(
        "div",
        { class: "desk" },
        h(
          "aside",
          { class: "side" },
          h("section", { class: "card" }, h("h2", {}, "My status"), this.statusBox),
          h("section", { class: "card" }, h("h2", {}, "State"), this.stateBox, this.counters),
          this.vmListRoot,
          this.myCallbacksRoot,
          this.searchRoot,
        ),
        h("div", { class: "main" }, this.controls, this.vmRoot, this.cbRoot, this.wrapRoot, this.scriptRoot, this.popRoot),
      ),
    );
  }

  // -- live messages ----------------------------------------------------------------------

  apply(type, d) {
    this.script.apply(type, d);
    this.followCallback(type, d);
    switch (type) {
      case "snapshot":
        this.me = d.me;
        this.since = serverNow();
        this.call = null;
        if (d.me && d.me.call_id && ["ringing", "on_call"].includes(d.me.state)) {
          this.call = { call_id: d.me.call_id, queue: d.pop ? d.pop.queue : "", answered_at: null, held: false };
        }
        this.vm.work(this.call ? this.call.call_id : null);
        this.vm.refresh();
        if (d.pop) this.pop.show(d.pop);
        else this.pop.clear();
        if (d.me && d.me.state === "wrapup") this.openWrapup(d.me.call_id, d.me.wrapup_until, d.me.wrapup_limit);
        else this.closeWrapup();
        break;
      case "agent.wrapup_extended":
        if (d.agent_id !== this.id) return;
        this.form.extended(d.until);
        return;
      case "call.transfer":
        this.transfer = d;
        if (this.call && this.call.call_id === d.call_id && d.mode === "consult") {
          this.call.consulting = !["gone", "completed", "cancelled"].includes(d.state);
          this.call.consultState = d.state;
        }
        break;
      case "agent.status":
        if (d.agent_id !== this.id || !this.me) return;
        Object.assign(this.me, { status: d.status, reason: d.reason });
        break;
      case "agent.state":
        if (d.agent_id !== this.id || !this.me) return;
        this.me.state = d.new;
        this.me.call_id = d.call_id;
        this.since = d.at;
        if (d.new === "wrapup") this.openWrapup(d.call_id, d.until);
        else if (d.old === "wrapup") this.form.ended(null);
        else if (d.new === "ringing" && this.form.until !== null) this.closeWrapup();
        if (d.new === "idle" && d.old === "ringing") {
          this.call = null; // offer not taken
          this.pop.clear();
          this.vm.work(null);
        }
        break;
      case "call.offered":
        if (d.agent_id !== this.id) return;
        this.call = { call_id: d.call_id, queue: d.queue, answered_at: null, held: false };
        this.closeWrapup();
        this.vm.work(d.call_id);
        break;
      case "pop":
        if (d.agent_id !== this.id) return;
        this.pop.show(d);
        break;
      case "offer.ended":
        if (d.agent_id !== this.id) return;
        if (this.call && this.call.call_id === d.call_id) this.call = null;
        if (this.pop.pop && this.pop.pop.call_id === d.call_id) this.pop.clear();
        if (voicemailIdOf(d.call_id) === this.vm.current) this.vm.work(null);
        break;
      case "call.answered":
        if (d.agent_id !== this.id) return;
        this.call = { call_id: d.call_id, queue: d.queue, answered_at: d.at, held: false };
        if (this.me) this.me.calls_today += 1;
        this.vm.work(d.call_id);
        this.loadDirectory();
        break;
      case "call.ended":
        if (d.agent_id !== this.id) return;
        if (this.call && this.call.call_id === d.call_id) this.call = null;
        if (voicemailIdOf(d.call_id) !== null && voicemailIdOf(d.call_id) === this.vm.current) this.vm.work(null);
        if (d.outcome === "answered") this.openWrapup(d.call_id);
        break;
      case "voicemail.waiting":
        if (d.box !== `agent:${this.id}`) return;
        this.vm.onWaiting(d);
        return;
      default:
        return;
    }
    this.renderMe();
  }

  /** The callback card follows the task the ACD gives me (`sc-<id>`), like the voicemail card. */
  followCallback(type, d) {
    const mine = d && d.agent_id === this.id;
    if (type === "snapshot") this.callback.work(d.me && ["ringing", "on_call"].includes(d.me.state) ? d.me.call_id : null);
    else if ((type === "call.offered" || type === "call.answered") && mine) this.callback.work(d.call_id);
    else if ((type === "offer.ended" || type === "call.ended") && mine && callbackIdOf(d.call_id) === this.callback.current) this.callback.work(null);
  }

  // -- rendering --------------------------------------------------------------------------

  renderMe() {
    const me = this.me;
    if (!me) {
      fill(this.statusBox, h("p", { class: "muted" }, "No agent record for this login."));
      return;
    }
    const options = [["available", "Available"]];
    for (const r of this.reasons) options.push([`paused:${r}`, `Paused: ${r}`]);
    options.push(["logged_out", "Logged out"]);
    const current = me.status === "paused" ? `paused:${me.reason}` : me.status;
    const chooser = select({ id: "status-select", "aria-label": "My status" }, options, current);
    chooser.addEventListener("change", () => this.setStatus(chooser.value));
    fill(
      this.statusBox,
      h("div", { class: `status-pill ${me.status}`, id: "my-status" }, label(me.status), me.status === "paused" && me.reason ? ` · ${me.reason}` : ""),
      chooser,
    );
    fill(
      this.stateBox,
      h("div", { class: `state-pill ${me.state}`, id: "my-state" }, label(me.state)),
      h("div", { class: "muted" }, "for ", sinceSpan(this.since)),
    );
    fill(
      this.counters,
      h("dt", {}, "Calls today"), h("dd", { id: "calls-today" }, String(me.calls_today)),
      h("dt", {}, "Queues"), h("dd", {}, me.queues.join(", ") || "—"),
    );
    this.renderControls();
  }

  renderControls() {
    const call = this.call;
    const onCall = call && this.me && this.me.state === "on_call";
    const head = h("div", { class: "controls-head" }, h("h2", {}, "Call"));
    if (!call) {
      fill(this.controls, head, h("p", { class: "muted" }, this.me && this.me.state === "wrapup" ? "Call ended: complete the wrap-up." : "No call in progress."), this.transferBanner());
      return;
    }
    if (voicemailIdOf(call.call_id) !== null || callbackIdOf(call.call_id) !== null) {
      // a voicemail or callback task: no line to control; its card below has the actions
      const voicemail = voicemailIdOf(call.call_id) !== null;
      head.appendChild(h("span", { class: "muted" }, voicemail ? "voicemail task " : "callback task ", call.answered_at ? sinceSpan(call.answered_at) : null));
      fill(this.controls, head, h("p", { class: "muted" }, voicemail ? "Listen to the message, call the customer back, then close it with an outcome." : "Read the answers, call the customer back, then close it with an outcome."));
      return;
    }
    head.appendChild(h("span", { class: "muted" }, call.answered_at ? "connected " : "ringing ", call.answered_at ? sinceSpan(call.answered_at) : null));
    if (call.held) head.appendChild(h("span", { class: "badge hold" }, "On hold"));
    const act = (text, fn, attrs = {}) =>
      h("button", { type: "button", disabled: !onCall, onclick: fn, ...attrs }, text);
    const consultState = call.consulting && call.consultState ? call.consultState : null;
    const canComplete = call.consulting && consultState === "answered";
    const buttons = h(
      "div",
      { class: "button-row" },
      act("Hang up", () => this.command("hangup"), { class: "danger", id: "btn-hangup" }),
      call.held
        ? act("Resume", () => this.command("resume", undefined, () => (call.held = false)), { id: "btn-resume" })
        : act("Hold", () => this.command("hold", undefined, () => (call.held = true)), { id: "btn-hold" }),
      call.consulting
        ? [
            h("span", { class: `badge consult ${consultState || "ringing"}`, id: "consult-state" }, `Consulted: ${TRANSFER_TEXT[consultState || "ringing"]}`),
            act("Complete transfer", () => this.command("consult/complete", undefined, () => (call.consulting = false)), { class: "primary", id: "btn-consult-complete", disabled: !onCall || !canComplete, title: canComplete ? "" : "possible once the consulted party has answered" }),
            act("Cancel consultation", () => this.command("consult/cancel", undefined, () => (call.consulting = false)), { id: "btn-consult-cancel" }),
          ]
        : null,
    );
    fill(this.controls, head, buttons, this.transferBanner(), onCall && !call.consulting ? this.transferForm() : null);
  }

  /** A blind transfer to or from me, as it goes (both agents see it). */
  transferBanner() {
    const t = this.transfer;
    if (!t || t.mode !== "transfer") return null;
    const mine = t.agent_id === this.id;
    const who = mine ? `Your transfer to ${this.agentName(t.target)}` : `${this.agentName(t.agent_id)} transfers a call to you`;
    return h("p", { class: `transfer-state ${t.state}`, id: "transfer-state", dataset: { state: t.state } }, `${who}: ${TRANSFER_TEXT[t.state] || t.state}`);
  }

  agentName(id) {
    const found = this.directory && this.directory.agents.find((a) => a.id === id);
    return found ? found.name : id;
  }

  async loadDirectory() {
    try {
      this.directory = await get("/api/directory");
      this.renderControls();
    } catch (err) {
      toast(err.message);
    }
  }

  transferForm() {
    // what the agent picked survives a re-render (the directory arriving, a state change)
    const kept = this.xfer && this.call && this.xfer.callId === this.call.call_id ? this.xfer : { kind: "queue", target: "" };
    this.xfer = { ...kept, callId: this.call.call_id };
    const kind = select({ name: "kind", id: "xfer-kind", "aria-label": "Transfer to" }, [["queue", "Queue"], ["agent", "Agent"], ["number", "Number"]], kept.kind);
    const target = h("input", { name: "target", id: "xfer-target", placeholder: "pick below, or type a number", list: "xfer-options", required: true, autocomplete: "off", value: kept.target });
    kind.addEventListener("change", () => (this.xfer.kind = kind.value));
    target.addEventListener("input", () => (this.xfer.target = target.value));
    const options = h("datalist", { id: "xfer-options" });
    const dir = this.directory || { queues: (this.me.queues || []).map((name) => ({ name })), agents: [], numbers: [] };
    const fillOptions = () => {
      const items = kind.value === "queue" ? dir.queues.map((q) => [q.name, q.name]) : kind.value === "agent" ? dir.agents.map((a) => [a.id, `${a.name} · ${label(a.status)}, ${label(a.state)}`]) : dir.numbers.map((n) => [n, n]);
      fill(options, items.map(([value, text]) => h("option", { value }, text)));
    };
    kind.addEventListener("change", fillOptions);
    fillOptions();
    const pick = (k, value) => {
      kind.value = k;
      fillOptions();
      target.value = value;
      Object.assign(this.xfer, { kind: k, target: value });
    };
    const entry = (k, value, text, extra = {}) => h("button", { type: "button", class: "dir-entry", dataset: { kind: k, target: value }, onclick: () => pick(k, value), ...extra }, text);
    const picker = h(
      "div",
      { class: "directory", id: "xfer-directory" },
      h("div", { class: "dir-group" }, h("span", { class: "muted" }, "Queues"), dir.queues.map((q) => entry("queue", q.name, q.waiting !== undefined ? `${q.name} (${q.waiting} waiting, ${q.agents_available} free)` : q.name))),
      h("div", { class: "dir-group" }, h("span", { class: "muted" }, "Agents"), dir.agents.map((a) => entry("agent", a.id, [a.name, " ", h("span", { class: `state-pill ${a.status === "available" ? a.state : a.status}` }, a.status === "available" ? label(a.state) : label(a.status))], { disabled: !a.can_take }))),
      dir.numbers.length ? h("div", { class: "dir-group" }, h("span", { class: "muted" }, "Recent numbers"), dir.numbers.map((n) => entry("number", n, n))) : null,
    );
    const go = (mode) => {
      if (!target.value.trim()) return toast("Pick a transfer target");
      if (mode === "consult" && kind.value === "queue") return toast("Consult an agent or a number, not a queue");
      const body = { kind: kind.value, target: target.value.trim() };
      if (mode === "blind") this.command("transfer", body, (res) => toast(kind.value === "agent" ? `Transferring to ${this.agentName(body.target)}…` : `Call transferred to ${res.target}`, "ok"));
      else {
        // the consulted party's state may arrive (call.transfer) before this request's reply
        Object.assign(this.call, { consulting: true, consultState: null });
        this.command("consult", body, () => {
          if (this.call) this.call.consultState = this.call.consultState || "ringing";
        }, () => (this.call.consulting = false));
      }
    };
    return h(
      "form",
      { class: "transfer", onsubmit: (e) => (e.preventDefault(), go("blind")) },
      h("span", { class: "muted" }, "Transfer"),
      kind,
      target,
      options,
      h("button", { type: "submit", id: "btn-transfer" }, "Blind transfer"),
      h("button", { type: "button", id: "btn-consult", onclick: () => go("consult") }, "Consult first"),
      picker,
    );
  }

  async command(action, body, done, failed) {
    if (!this.call) return;
    try {
      const res = await post(`/api/calls/${encodeURIComponent(this.call.call_id)}/${action}`, body);
      if (done) done(res || {});
    } catch (err) {
      if (failed) failed(err);
      toast(err.message);
    }
    this.renderControls();
  }

  async setStatus(value) {
    const [status, reason] = value.split(":");
    try {
      this.me = await post(`/api/agents/${encodeURIComponent(this.id)}/status`, reason ? { status, reason } : { status });
      this.renderMe();
    } catch (err) {
      toast(err.message);
      this.renderMe();
    }
  }

  // -- wrap-up ----------------------------------------------------------------------------

  openWrapup(callId, until = null, limit = null) {
    if (!callId) return;
    const preset = this.closedWith && this.closedWith.callId === callId ? this.closedWith.outcome : this.script.outcomeFor(callId);
    this.wrapup = callId;
    this.form.open(callId, { until: until ?? null, limit: limit ?? null, preset });
  }

  /** A voicemail was closed: its wrap-up (the task ends like a call) starts with the same outcome. */
  voicemailClosed(callId, outcome) {
    this.closedWith = { callId, outcome };
    const open = this.wrapup === callId && this.wrapRoot.querySelector("#wrapup-outcome");
    if (open && !open.value) this.form.preselect(outcome);
    this.renderControls();
  }

  closeWrapup() {
    this.wrapup = null;
    this.form.close();
  }
}
