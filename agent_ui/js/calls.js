// The supervisors' call search: filters (days, caller number, customer, agent, queue, outcome) sent
// to GET /api/calls, results a page at a time (the server's cursor), and a call's timeline from
// GET /api/calls/{id}/timeline: IVR path, queueing, offers and rings with no answer, answer, holds,
// transfers, wrap-up with its code and note, script steps, voicemail with its recording.
// Everything the server sends is set as text, never as markup.

import { ApiError, get } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { duration, label } from "./time.js";

const root = document.getElementById("calls");
const PAGE = 25;
const OUTCOMES = ["answered", "abandoned", "timed_out", "overflowed", "transferred", "failed", "callback_failed", "unknown"];

/** "2026-12-01T09:03:07+01:00" -> "09:03:07" (the centre's time, as the server wrote it). */
function clock(iso) {
  return iso ? iso.slice(11, 19) : "—";
}

/** "2026-12-01T09:03:07+01:00" -> "2026-12-01 09:03". */
function stamp(iso) {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : "—";
}

function secs(value) {
  return value === null || value === undefined ? "—" : duration(value);
}

/** Today in the browser's calendar, as a date input wants it. */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** What one timeline entry says, as a line a supervisor reads. */
function describe(e) {
  const d = e.detail || {};
  const who = e.agent_name || e.agent_id || "";
  switch (e.kind) {
    case "ivr": {
      const keys = (d.choices || []).map((c) => `${c.menu}: ${c.key === null ? "no key" : c.key}`).join(", ");
      return [`IVR ${d.flow || ""}: ${(d.path || []).join(" › ")}`, keys ? ` (${keys})` : "", d.outcome ? `, ${label(d.outcome)}` : ""].join("");
    }
    case "queued":
      return d.task === "voicemail" ? `Voicemail task queued in ${d.queue}` : `Queued in ${d.queue} (from ${d.caller_num || "withheld"} to ${d.dnis || "—"})`;
    case "requeued":
      return `Moved from ${d.from_queue} to ${d.to_queue}`;
    case "offered":
      return `Offered to ${who} (attempt ${d.attempt})`;
    case "ring_no_answer":
      return `${who} did not answer (rang ${secs(d.rang)})`;
    case "offer_ended":
      return `Offer to ${who} ended: ${label(d.result)}${d.rang !== null && d.rang !== undefined ? ` after ${secs(d.rang)}` : ""}`;
    case "answered":
      return `Answered by ${who} after waiting ${secs(d.wait)}`;
    case "held":
      return `Put on hold by ${who}`;
    case "resumed":
      return `Taken off hold by ${who} (held ${secs(d.held)})`;
    case "transferred":
      return `Transferred by ${who} to ${d.to_kind} ${d.target}`;
    case "transfer":
      return `Transfer to ${d.to_kind} ${d.target}: ${label(d.state)}`;
    case "consultation":
      return `Consultation with ${d.to_kind} ${d.target}: ${label(d.state)}`;
    case "callback_requested":
      return `Callback requested to ${d.number}`;
    case "ended":
      return [`Ended: ${label(d.outcome)}`, d.talk !== null && d.talk !== undefined ? `, talked ${secs(d.talk)}` : "", d.ended_by ? `, the ${d.ended_by} hung up first` : "", d.reason ? ` (${d.reason}${d.estimated ? ", time estimated" : ""})` : ""].join("");
    case "rejected":
      return `Not taken: ${d.reason}`;
    case "wrapup_started":
      return `${who} in wrap-up`;
    case "wrapup_extended":
      return `${who} took more wrap-up time`;
    case "wrapped_up":
      return `Wrap-up: ${d.code ? label(d.code) : "no code"}${d.note ? ` · “${d.note}”` : ""}${d.timed_out ? " (saved when the time ran out)" : ""}`;
    case "wrapup_ended":
      return `${who} finished wrap-up${d.lasted !== null && d.lasted !== undefined ? ` (${secs(d.lasted)})` : ""}`;
    case "customer_linked":
      return d.customer_id === null ? `Customer unlinked by ${d.by}` : `Linked to customer ${d.customer_id} by ${d.by}`;
    case "customer_field_set":
      return `Customer ${d.field} set to “${d.value}”`;
    case "script_started":
      return `Script ${d.script_id} started`;
    case "script_step":
      return `Script step: ${d.title || d.step}`;
    case "script_answer":
      return `Script: ${d.question} → ${d.answer}`;
    case "script_ended":
      return `Script ${label(d.ended_as)}${d.outcome ? `: ${label(d.outcome)}` : ""}`;
    case "voicemail":
      return `Voicemail in ${d.box}${d.duration ? ` (${secs(d.duration)})` : ""}, ${label(d.status)}`;
    default:
      return label(e.kind);
  }
}

class CallSearch {
  constructor() {
    this.calls = [];
    this.next = null;
    this.params = null;
    this.chosen = null;
    this.build();
  }

  async load() {
    let me;
    try {
      me = await get("/api/me");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        fill(root, h("p", {}, "Log in first: ", h("a", { href: "/" }, "the login page")));
        return;
      }
      throw err;
    }
    if (me.role === "agent") {
      fill(root, h("p", { class: "muted" }, "The call search is for supervisors."));
      return;
    }
    const [agents, queues] = await Promise.all([get("/api/agents"), get("/api/queues")]);
    for (const a of agents) this.agent.appendChild(h("option", { value: a.id }, a.name));
    for (const q of queues) this.queue.appendChild(h("option", { value: q.name }, q.name));
    this.search();
  }

  build() {
    this.from = h("input", { id: "calls-from", type: "date", value: today(), "aria-label": "From" });
    this.to = h("input", { id: "calls-to", type: "date", value: today(), "aria-label": "To" });
    this.number = h("input", { id: "calls-number", type: "search", placeholder: "+33 1 40 00 00 01", "aria-label": "Caller number" });
    this.customer = h("input", { id: "calls-customer", type: "search", placeholder: "name, account or id", "aria-label": "Customer" });
    this.agent = select({ id: "calls-agent", "aria-label": "Agent" }, [["", "any agent"]], "");
    this.queue = select({ id: "calls-queue", "aria-label": "Queue" }, [["", "any queue"]], "");
    this.outcome = h("input", { id: "calls-outcome", list: "calls-outcomes", placeholder: "any outcome or code", "aria-label": "Outcome or wrap-up code" });
    const outcomes = h("datalist", { id: "calls-outcomes" }, OUTCOMES.map((o) => h("option", { value: o }, label(o))));
    const form = h(
      "form",
      { id: "call-search", class: "filters card" },
      field("From", this.from),
      field("To", this.to),
      field("Number", this.number),
      field("Customer", this.customer),
      field("Agent", this.agent),
      field("Queue", this.queue),
      field("Outcome", this.outcome, outcomes),
      h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "primary", id: "calls-submit" }, "Search")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.search();
    });
    this.count = h("p", { class: "muted", id: "calls-count" });
    this.body = h("tbody", { id: "calls-body" });
    this.more = h("button", { type: "button", class: "ghost", id: "calls-more", hidden: true, onclick: () => this.page() }, "More");
    this.timeline = h("section", { class: "card timeline-card", id: "timeline", hidden: true });
    fill(
      root,
      form,
      h(
        "div",
        { class: "history-grid" },
        h(
          "section",
          { class: "card results" },
          h("h2", {}, "Calls"),
          this.count,
          h("div", { class: "table-scroll" },
            h("table", { class: "grid compact", id: "calls-table" },
              h("thead", {}, h("tr", {}, ["Arrived", "Caller", "Queue", "Agent", "Outcome", "Wait", "Talk"].map((t) => h("th", { class: t === "Wait" || t === "Talk" ? "num" : "" }, t)))),
              this.body)),
          this.more,
        ),
        this.timeline,
      ),
    );
  }

  query() {
    const params = new URLSearchParams();
    const put = (name, value) => value && params.set(name, value.trim());
    put("from", this.from.value);
    put("to", this.to.value);
    put("number", this.number.value);
    put("customer", this.customer.value);
    put("agent", this.agent.value);
    put("queue", this.queue.value);
    put("outcome", this.outcome.value);
    params.set("limit", String(PAGE));
    return params;
  }

  async search() {
    this.params = this.query();
    this.calls = [];
    this.next = null;
    await this.page(true);
  }

  async page(first = false) {
    const params = new URLSearchParams(this.params);
    if (!first && this.next) params.set("cursor", this.next);
    try {
      const page = await get(`/api/calls?${params}`);
      this.calls = [...this.calls, ...page.calls];
      this.next = page.next_cursor;
      this.render();
    } catch (err) {
      toast(err.message);
    }
  }

  render() {
    const n = this.calls.length;
    fill(this.count, n ? `${n}${this.next ? "+" : ""} call${n === 1 && !this.next ? "" : "s"}` : "No call matches.");
    this.more.hidden = !this.next;
    fill(
      this.body,
      this.calls.map((c) =>
        h(
          "tr",
          { dataset: { call: c.id }, class: this.chosen === c.id ? "chosen" : "" },
          h("td", {}, h("button", { type: "button", class: "link-button call-open", onclick: () => this.open(c.id) }, stamp(c.arrived_at))),
          h("td", {}, h("strong", { class: "caller-num" }, c.caller_e164 || c.caller_num || "withheld"), c.customer_name ? h("span", { class: "caller-customer" }, ` ${c.customer_name}`) : null),
          h("td", {}, c.queue || "—"),
          h("td", {}, c.agent_name || "—"),
          h("td", {}, h("span", { class: `outcome ${c.outcome || "open"}` }, label(c.outcome || "in progress")), c.wrapup_outcome ? h("span", { class: "wrap-code" }, label(c.wrapup_outcome)) : null),
          h("td", { class: "num" }, secs(c.wait)),
          h("td", { class: "num" }, secs(c.talk)),
        ),
      ),
    );
  }

  async open(callId) {
    this.chosen = callId;
    this.render();
    let data;
    try {
      data = await get(`/api/calls/${encodeURIComponent(callId)}/timeline`);
    } catch (err) {
      toast(err.message);
      return;
    }
    const c = data.call;
    const items = data.entries.map((e) =>
      h(
        "li",
        { class: `tl-entry tl-${e.kind}`, dataset: { kind: e.kind } },
        h("time", { class: "tl-time", datetime: e.at }, clock(e.at)),
        h("span", { class: "tl-text" }, describe(e)),
        e.kind === "voicemail" && e.detail.audio ? h("audio", { controls: true, preload: "none", src: e.detail.audio }) : null,
      ),
    );
    this.timeline.hidden = false;
    fill(
      this.timeline,
      h("div", { class: "card-head" }, h("h2", {}, "Timeline"), h("button", { type: "button", class: "ghost small", onclick: () => this.close() }, "Close")),
      h("dl", { class: "fields", id: "timeline-call", dataset: { call: c.id } },
        h("dt", {}, "Caller"), h("dd", {}, c.caller_e164 || c.caller_num || "withheld", c.customer_name ? ` · ${c.customer_name}` : ""),
        h("dt", {}, "Arrived"), h("dd", {}, stamp(c.arrived_at)),
        h("dt", {}, "Outcome"), h("dd", {}, label(c.outcome || "in progress"), c.wrapup_outcome ? ` · ${label(c.wrapup_outcome)}` : ""),
        c.wrapup_note ? [h("dt", {}, "Note"), h("dd", { class: "notes" }, c.wrapup_note)] : null,
        h("dt", {}, "Call id"), h("dd", { class: "mono" }, c.id),
      ),
      h("ol", { class: "timeline", id: "timeline-entries" }, items),
    );
  }

  close() {
    this.chosen = null;
    this.timeline.hidden = true;
    this.render();
  }
}

function field(text, input, ...extra) {
  return h("label", { class: "filter" }, h("span", { class: "filter-label" }, text), input, ...extra);
}

const page = new CallSearch();
page.load().catch((err) => toast(err.message));
window.callSearch = page; // for the browser tests and the developer console
