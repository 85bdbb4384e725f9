// The agent desktop: my status (available / paused with a reason / logged out), my state and
// counters, the screen-pop, call control while on a call, and the wrap-up form after it.
// A voicemail task (call id `vm-<id>`) shows the voicemail card instead of call control.
// Everything shown is driven by live-channel messages; buttons call the REST API.

import { get, post } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { PopCard } from "./pop.js";
import { CustomerSearch } from "./customers.js";
import { VoicemailDesk, voicemailIdOf } from "./voicemail.js";
import { label, serverNow, sinceSpan } from "./time.js";

const FALLBACK_OUTCOMES = [["resolved", "Resolved"], ["follow_up", "Follow-up needed"], ["other", "Other"]];

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
    this.build();
    this.loadOutcomes();
    this.renderMe();
  }

  async loadOutcomes() {
    try {
      const data = await get("/api/outcomes");
      const list = Array.isArray(data) ? data : data && (data.outcomes || data.codes);
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
    this.pop = new PopCard(this.popRoot);
    this.vmRoot = h("section", { class: "card voicemail", id: "voicemail" });
    this.vmListRoot = h("section", { class: "card", id: "my-voicemails" });
    this.searchRoot = h("section", { class: "card customers", id: "customers" });
    this.search = new CustomerSearch(this.searchRoot);
    this.vm = new VoicemailDesk(this.vmRoot, this.vmListRoot, {
      outcomes: () => this.outcomes,
      onClosed: (callId, outcome) => this.voicemailClosed(callId, outcome),
    });
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
          this.searchRoot,
        ),
        h("div", { class: "main" }, this.controls, this.vmRoot, this.wrapRoot, this.popRoot),
      ),
    );
  }

  // -- live messages ----------------------------------------------------------------------

  apply(type, d) {
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
        if (d.me && d.me.state === "wrapup") this.openWrapup(d.me.call_id);
        else this.closeWrapup();
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
        if (d.new === "wrapup") this.openWrapup(d.call_id);
        else if (d.old === "wrapup" || d.new === "ringing") this.closeWrapup();
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
      fill(this.controls, head, h("p", { class: "muted" }, this.me && this.me.state === "wrapup" ? "Call ended: complete the wrap-up." : "No call in progress."));
      return;
    }
    if (voicemailIdOf(call.call_id) !== null) {
      // a voicemail task: no line to control; the voicemail card below has the actions
      head.appendChild(h("span", { class: "muted" }, "voicemail task ", call.answered_at ? sinceSpan(call.answered_at) : null));
      fill(this.controls, head, h("p", { class: "muted" }, "Listen to the message, call the customer back, then close it with an outcome."));
      return;
    }
    head.appendChild(h("span", { class: "muted" }, call.answered_at ? "connected " : "ringing ", call.answered_at ? sinceSpan(call.answered_at) : null));
    if (call.held) head.appendChild(h("span", { class: "badge hold" }, "On hold"));
    const act = (text, fn, attrs = {}) =>
      h("button", { type: "button", disabled: !onCall, onclick: fn, ...attrs }, text);
    const buttons = h(
      "div",
      { class: "button-row" },
      act("Hang up", () => this.command("hangup"), { class: "danger", id: "btn-hangup" }),
      call.held
        ? act("Resume", () => this.command("resume", undefined, () => (call.held = false)), { id: "btn-resume" })
        : act("Hold", () => this.command("hold", undefined, () => (call.held = true)), { id: "btn-hold" }),
      call.consulting
        ? [
            act("Complete transfer", () => this.command("consult/complete", undefined, () => (call.consulting = false)), { class: "primary", id: "btn-consult-complete" }),
            act("Cancel consultation", () => this.command("consult/cancel", undefined, () => (call.consulting = false)), { id: "btn-consult-cancel" }),
          ]
        : null,
    );
    fill(this.controls, head, buttons, onCall && !call.consulting ? this.transferForm() : null);
  }

  transferForm() {
    const kind = select({ name: "kind", id: "xfer-kind", "aria-label": "Transfer to" }, [["queue", "Queue"], ["agent", "Agent"], ["number", "Number"]], "queue");
    const target = h("input", { name: "target", id: "xfer-target", placeholder: "queue, agent id or number", list: "xfer-queues", required: true });
    const queues = h("datalist", { id: "xfer-queues" }, (this.me.queues || []).map((q) => h("option", { value: q })));
    const go = (mode) => {
      if (!target.value.trim()) return toast("Give a transfer target");
      if (mode === "consult" && kind.value === "queue") return toast("Consult an agent or a number, not a queue");
      const body = { kind: kind.value, target: target.value.trim() };
      if (mode === "blind") this.command("transfer", body, () => toast("Call transferred", "ok"));
      else this.command("consult", body, () => (this.call.consulting = true));
    };
    return h(
      "form",
      { class: "transfer", onsubmit: (e) => (e.preventDefault(), go("blind")) },
      h("span", { class: "muted" }, "Transfer"),
      kind,
      target,
      queues,
      h("button", { type: "submit", id: "btn-transfer" }, "Blind transfer"),
      h("button", { type: "button", id: "btn-consult", onclick: () => go("consult") }, "Consult first"),
    );
  }

  async command(action, body, done) {
    if (!this.call) return;
    try {
      await post(`/api/calls/${encodeURIComponent(this.call.call_id)}/${action}`, body);
      if (done) done();
      this.renderControls();
    } catch (err) {
      toast(err.message);
    }
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

  openWrapup(callId) {
    if (!callId || this.wrapup === callId) return;
    this.wrapup = callId;
    const preset = this.closedWith && this.closedWith.callId === callId ? this.closedWith.outcome : "";
    const outcome = select({ name: "outcome", id: "wrapup-outcome", required: true }, [["", "Choose an outcome…"], ...this.outcomes], preset);
    const note = h("textarea", { name: "note", id: "wrapup-note", rows: 3, maxlength: 2000, placeholder: "What was agreed, what to follow up" });
    const form = h(
      "form",
      { onsubmit: (e) => this.submitWrapup(e, callId, outcome, note) },
      h("h2", {}, "Wrap-up"),
      h("div", { class: "form-grid" }, h("label", { for: "wrapup-outcome" }, "Outcome"), outcome, h("label", { for: "wrapup-note" }, "Note"), note),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "wrapup-submit" }, "Save wrap-up")),
    );
    fill(this.wrapRoot, form);
    this.wrapRoot.hidden = false;
  }

  /** A voicemail was closed: its wrap-up (the task ends like a call) starts with the same outcome. */
  voicemailClosed(callId, outcome) {
    this.closedWith = { callId, outcome };
    const open = this.wrapup === callId && this.wrapRoot.querySelector("#wrapup-outcome");
    if (open && !open.value) open.value = outcome;
    this.renderControls();
  }

  closeWrapup() {
    this.wrapup = null;
    this.wrapRoot.hidden = true;
    this.wrapRoot.replaceChildren();
  }

  async submitWrapup(event, callId, outcome, note) {
    event.preventDefault();
    if (!outcome.value) return toast("Choose an outcome");
    try {
      await post(`/api/calls/${encodeURIComponent(callId)}/wrapup`, { outcome: outcome.value, note: note.value });
      toast("Wrap-up saved", "ok");
      this.closeWrapup();
      this.renderControls();
    } catch (err) {
      toast(err.message);
    }
  }
}
