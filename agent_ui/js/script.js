// The agent's dialogue-script panel, the callback card and the script part of the contact history.
//
// ScriptPanel: the run of the call's script opens when the call is answered (`script.started`),
// shows the step to read and its question, goes forward and back (and back to any step on the way
// through the breadcrumb), says what is still required before wrap-up, and lists what each move
// did for real (field saved, outcome set, callback scheduled, transfer made).
// CallbackCard: a callback request or task the ACD gives the agent (call id `sc-<id>`): the answers
// that came with it, Call back, and Close with an outcome. MyCallbacks: requests kept for me.
// Every move goes to the server (POST /api/script-runs/{run}/move), which checks everything.

import { get, post } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { questionField, stepTexts } from "./scriptform.js";
import { label, when } from "./time.js";

/** The callback id of a task call id (`sc-12` -> 12), else null. */
export function callbackIdOf(callId) {
  const m = /^sc-(\d+)$/.exec(callId || "");
  return m ? Number(m[1]) : null;
}

export class ScriptPanel {
  constructor(root, agentId) {
    this.root = root;
    this.agentId = agentId;
    this.view = null;
    this.notices = [];
    this.error = "";
    this.busy = false;
    this.closedWith = new Map(); // call id -> outcome of a closed callback (for its wrap-up)
    this.render();
  }

  /** Live messages; returns nothing (the desktop goes on with its own handling). */
  apply(type, d) {
    if (type === "snapshot") this.load();
    else if (type === "script.started" && d.agent_id === this.agentId) this.load();
    else if (this.view && d.run_id === this.view.run_id && !this.busy) {
      // moved or ended elsewhere (the wrap-up timer, another tab): what the panel shows is stale
      const stale = type === "script.ended" ? this.view.status === "active" : type === "script.step" && (d.position !== this.view.position || d.step !== this.view.step);
      if (stale) this.load(false);
    }
  }

  /** The outcome the script set for `callId`, to preset the wrap-up form. */
  outcomeFor(callId) {
    if (this.closedWith.has(callId)) return this.closedWith.get(callId);
    return this.view && this.view.call_id === callId ? this.view.outcome || "" : "";
  }

  async load(clearNotices = true) {
    try {
      const data = await get("/api/script-runs/mine");
      if (clearNotices && (!data.run || !this.view || data.run.run_id !== this.view.run_id)) this.notices = [];
      this.view = data.run;
      this.error = "";
    } catch (err) {
      this.error = err.message;
    }
    this.render();
  }

  async move(body) {
    if (!this.view || this.busy) return;
    this.busy = true;
    this.render();
    try {
      const data = await post(`/api/script-runs/${encodeURIComponent(this.view.run_id)}/move`, { position: this.view.position, ...body });
      this.view = data.view;
      this.notices = data.notices || [];
      this.error = "";
      for (const n of this.notices) if (!n.ok) toast(n.message);
      if (this.notices.some((n) => n.kind === "callback")) document.dispatchEvent(new CustomEvent("callbacks-changed"));
    } catch (err) {
      this.error = err.message;
      if (err.body && err.body.view) this.view = err.body.view;
    }
    this.busy = false;
    this.render();
  }

  render() {
    const v = this.view;
    if (!v) {
      this.root.hidden = true;
      this.root.replaceChildren();
      return;
    }
    this.root.hidden = false;
    this.root.dataset.step = v.step;
    this.root.dataset.status = v.status;
    const head = h(
      "div",
      { class: "card-head" },
      h("h2", {}, "Script: ", h("span", { id: "script-title" }, v.script_title)),
      h("span", { class: "muted small-text" }, `v${v.version}`),
    );
    const crumbs = h(
      "ol",
      { class: "script-path", "aria-label": "The way so far" },
      v.path.map((p) =>
        h(
          "li",
          {},
          p.position === v.position || v.status !== "active"
            ? h("span", { "aria-current": p.position === v.position ? "step" : null }, p.title)
            : h("button", { type: "button", class: "link-button", onclick: () => this.move({ op: "jump", target: p.step }) }, p.title),
        ),
      ),
    );
    const notices = this.notices.length
      ? h("ul", { class: "script-notices", id: "script-notices" }, this.notices.map((n) => h("li", { class: n.ok ? "ok" : "failed" }, n.message)))
      : null;
    const error = this.error ? h("p", { class: "form-error", role: "alert", id: "script-error" }, this.error) : null;
    if (v.status !== "active") {
      const ended = { finished: "Script finished", abandoned: "Script left before its end", handed_off: "Handed over" }[v.status] || label(v.status);
      fill(
        this.root,
        head,
        crumbs,
        h("p", { class: "script-ended", id: "script-ended" }, ended, v.outcome ? ` · outcome ${v.outcome}` : ""),
        notices,
        error,
      );
      return;
    }
    const field = v.question ? questionField(v.question) : null;
    const pending = v.pending.length
      ? h("div", { class: "script-pending", id: "script-pending" },
        h("strong", {}, v.complete_before_wrapup ? "Required before wrap-up: " : "Still to do: "),
        v.pending.map((p) => p.message).join("; "))
      : null;
    const form = h(
      "form",
      {
        class: "script-step",
        onsubmit: (e) => {
          e.preventDefault();
          this.move(field ? { op: "forward", value: field.value() } : { op: "forward" });
        },
      },
      h("h3", { id: "script-step-title" }, v.title || v.step),
      stepTexts(v.texts),
      field ? field.node : null,
      h(
        "div",
        { class: "button-row" },
        h("button", { type: "button", id: "script-back", disabled: !v.can_back || this.busy, onclick: () => this.move({ op: "back" }) }, "Back"),
        h("button", { type: "submit", class: "primary", id: "script-next", disabled: this.busy }, v.ends ? "Finish" : "Next"),
      ),
    );
    fill(this.root, head, crumbs, form, error, pending, notices);
  }
}

/** The card of a callback request or task given to the agent (call id `sc-<id>`). */
export class CallbackCard {
  constructor(root, { outcomes, onClosed }) {
    this.root = root;
    this.outcomes = outcomes;
    this.onClosed = onClosed;
    this.current = null; // callback id
    this.item = null;
    this.root.hidden = true;
  }

  async work(callId) {
    const id = callbackIdOf(callId);
    if (id === this.current) return;
    this.current = id;
    this.item = null;
    if (id === null) {
      this.root.hidden = true;
      this.root.replaceChildren();
      return;
    }
    try {
      this.item = await get(`/api/callbacks/${id}`);
    } catch (err) {
      toast(err.message);
    }
    this.render();
  }

  render() {
    const c = this.item;
    if (!c) {
      this.root.hidden = true;
      return;
    }
    this.root.hidden = false;
    this.root.dataset.callback = String(c.id);
    const lines = c.lines.length
      ? h(
        "table",
        { class: "grid compact", id: "callback-answers" },
        h("caption", {}, "Answers given"),
        h("thead", {}, h("tr", {}, h("th", {}, "Question"), h("th", {}, "Answer"))),
        h("tbody", {}, c.lines.map((l) => h("tr", {}, h("td", {}, l.question), h("td", { class: "answer" }, l.answer)))),
      )
      : h("p", { class: "muted" }, "No answers came with it.");
    const outcome = select({ id: "callback-outcome", "aria-label": "Outcome" }, [["", "Outcome…"], ...this.outcomes()], "");
    fill(
      this.root,
      h("div", { class: "card-head" }, h("h2", {}, c.kind === "task" ? "Task" : "Callback request"), h("span", { class: "badge", id: "callback-status" }, label(c.status))),
      h("p", { id: "callback-title" }, h("strong", {}, c.title)),
      h("dl", { class: "fields" },
        h("dt", {}, "Number"), h("dd", { id: "callback-number" }, c.number || "—"),
        h("dt", {}, "Due"), h("dd", {}, when(c.due_at)),
        h("dt", {}, "Note"), h("dd", { id: "callback-note", class: "notes" }, c.note || "—")),
      lines,
      h(
        "div",
        { class: "button-row" },
        c.kind === "callback"
          ? h("button", { type: "button", class: "primary", id: "callback-call", disabled: c.status !== "assigned" || !c.number, onclick: () => this.callBack() }, "Call back")
          : null,
        outcome,
        h("button", { type: "button", id: "callback-close", onclick: () => this.close(outcome.value) }, "Close"),
      ),
    );
  }

  async callBack() {
    try {
      this.item = await post(`/api/callbacks/${this.item.id}/call`);
      toast("Your phone rings, then the customer is dialled", "ok");
    } catch (err) {
      toast(err.message);
    }
    this.render();
  }

  async close(outcome) {
    if (!outcome) return toast("Choose an outcome");
    try {
      const item = await post(`/api/callbacks/${this.item.id}/close`, { outcome });
      const callId = item.task_id;
      this.current = null;
      this.item = null;
      this.root.hidden = true;
      this.onClosed(callId, outcome);
      document.dispatchEvent(new CustomEvent("callbacks-changed"));
    } catch (err) {
      toast(err.message);
    }
  }
}

/** Callback requests kept for me (a script's "agent=self"), soonest first. */
export class MyCallbacks {
  constructor(root) {
    this.root = root;
    document.addEventListener("callbacks-changed", () => this.refresh());
    this.refresh();
  }

  async refresh() {
    let items = [];
    try {
      items = (await get("/api/callbacks")).callbacks || [];
    } catch {
      return; // an older server without callbacks: the list stays empty
    }
    const list = h(
      "ul",
      { class: "callback-list", id: "my-callbacks-list" },
      items.map((c) =>
        h("li", { dataset: { callback: String(c.id), status: c.status } },
          h("strong", {}, when(c.due_at)), " ", c.title, h("div", { class: "muted small-text" }, `${label(c.status)} · ${c.number || "no number"}`)),
      ),
    );
    fill(this.root, h("h2", {}, "My callbacks"), items.length ? list : h("p", { class: "muted" }, "None scheduled."));
  }
}

/** The customer's script runs in the pop's contact history: each with its answers. */
export function scriptHistory(runs) {
  if (!runs || !runs.length) return null;
  return h(
    "section",
    { class: "history script-history" },
    h("h3", {}, "Scripts and self-service"),
    runs.map((r) =>
      h(
        "details",
        { class: "script-run", dataset: { run: r.run_id, channel: r.channel } },
        h("summary", {}, when(r.started_at), " · ", r.script_id, " · ", r.channel === "web" ? "customer on the web" : r.agent_id || "agent", " · ", label(r.status), r.outcome ? ` · ${r.outcome}` : ""),
        r.answers.length
          ? h("dl", { class: "fields" }, r.answers.map((a) => [h("dt", {}, a.label), h("dd", {}, a.shown)]))
          : h("p", { class: "muted" }, "No answers."),
      ),
    ),
  );
}
