// The agent's outbound desk, beside the inbound one: my persistent line, the campaigns I work, the
// preview card (dial or skip with a reason), the lead of the campaign call I am connected to, the
// campaign's outcome codes with a callback at the lead's local time or a do-not-call entry, and a
// number to dial by hand (also from any customer record: elements with data-dial). Live messages
// drive it; after a reconnect it reloads GET /api/campaign-desk.

import { get, post } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { label, sinceSpan } from "./time.js";

export class CampaignDesk {
  constructor(root, me) {
    this.id = me.agent_id;
    this.state = null; // GET /api/campaign-desk
    this.preview = null; // {campaign, lead, auto_dial_at}
    this.call = null; // {campaign, attempt_id, lead, outcomes, at, ended}
    this.draft = {}; // what the agent typed, by input id, for the card on screen (see keep)
    this.draftKey = "";
    this.changes = 0; // live messages applied to this desk, to tell a stale reload (see reload)
    this.root = h("section", { class: "card outbound", id: "outbound" });
    const main = root.querySelector(".main") || root;
    main.prepend(this.root);
    document.addEventListener("click", (e) => this.clickToCall(e));
    this.reload();
  }

  /** The desk as the server has it now. A live message that comes while the answer is on its way may
   * be newer than the answer (a skip's next lead): then the answer is stale and is asked for again. */
  async reload() {
    let state = null;
    for (let tries = 0; ; tries++) {
      const seen = this.changes;
      try {
        state = await get("/api/campaign-desk");
      } catch (err) {
        if (err.status !== 404 && err.status !== 403) toast(err.message);
        state = null;
      }
      if (this.changes === seen || tries >= 3) break;
    }
    this.state = state;
    const s = this.state;
    if (s && s.preview) this.preview = { campaign: s.campaign, lead: s.preview, auto_dial_at: null };
    if (s && s.attempt && ["on_call", "wrapup"].includes(s.slot)) {
      this.call = { campaign: s.campaign, attempt_id: s.attempt.attempt_id, lead: s.attempt.lead, outcomes: s.outcomes || [], at: s.attempt.connected_at, ended: s.slot === "wrapup" };
    }
    this.render();
  }

  apply(type, d) {
    switch (type) {
      case "snapshot":
        this.reload();
        return;
      case "campaign.preview":
        if (d.agent_id !== this.id) return;
        this.preview = d.lead ? { campaign: d.campaign, lead: d.lead, auto_dial_at: d.auto_dial_at } : null;
        break;
      case "campaign.pop":
        if (d.agent_id !== this.id) return;
        this.preview = null;
        if (this.state) this.state.line = "up"; // bridged into it
        this.call = { campaign: d.campaign, attempt_id: d.attempt_id, lead: d.lead, outcomes: d.outcomes, at: d.at, ended: false };
        break;
      case "campaign.attempt_ended":
        if (d.agent_id !== this.id || !this.call || this.call.attempt_id !== d.attempt_id) return;
        this.call.ended = true;
        break;
      case "campaign.attempt_coded":
        if (d.agent_id !== this.id) return;
        if (this.call && this.call.attempt_id === d.attempt_id) this.call = null;
        break;
      case "campaign.agent_slot":
        if (d.agent_id !== this.id) return;
        if (this.state) Object.assign(this.state, { slot: d.new, campaign: d.new === "off" ? null : d.campaign });
        if (d.new === "ready") this.preview = null;
        if (d.new === "ready" && this.call && this.call.ended) this.call = null;
        if (d.old === "off" || d.new === "off") this.soon(); // the line and campaign may have changed
        break;
      case "agent.status":
        if (d.agent_id === this.id) this.soon(); // the line follows the login
        return;
      default:
        return;
    }
    this.changes += 1;
    this.render();
  }

  /** Reload the desk once, shortly (several messages often come together). */
  soon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.reload(), 150);
  }

  render() {
    const s = this.state;
    if (!s) {
      fill(this.root, h("h2", {}, "Outbound"), h("p", { class: "muted" }, "No outbound campaigns."));
      return;
    }
    const line = h("label", { class: "line-toggle" },
      h("input", { type: "checkbox", id: "keep-line", checked: s.persistent_line, onchange: (e) => this.setLine(e.target.checked) }),
      " Keep my phone connected between calls");
    const head = h("div", { class: "card-head" },
      h("h2", {}, "Outbound"),
      h("span", { class: `badge line-${s.line}`, id: "line-state" }, `line ${s.line}`),
      h("span", { class: "chip", id: "campaign-slot" }, s.campaign ? `${s.campaign}: ${label(s.slot)}` : "not in a campaign"));
    const key = this.call ? `call:${this.call.attempt_id}` : this.preview ? `lead:${this.preview.lead.id}` : "";
    if (key !== this.draftKey) {
      const manual = this.draft["manual-number"];
      this.draft = manual ? { "manual-number": manual } : {};
      this.draftKey = key;
    }
    const active = document.activeElement;
    const focused = active && active.id && this.root.contains(active) ? active.id : null;
    fill(this.root, head, line, this.callCard() || this.previewCard() || null, this.dialForm());
    const again = focused && document.getElementById(focused);
    if (again) again.focus();
  }

  /** Live messages redraw the desk; what the agent was typing (a skip reason, an outcome, a
   * callback time, a number) is kept across redraws until the card changes. */
  keep(el) {
    const saved = this.draft[el.id];
    if (saved !== undefined) {
      if (el.type === "checkbox") el.checked = saved;
      else el.value = saved;
    }
    const record = () => { this.draft[el.id] = el.type === "checkbox" ? el.checked : el.value; };
    el.addEventListener("input", record);
    el.addEventListener("change", record);
    return el;
  }

  leadFields(lead) {
    const rows = [h("dt", {}, "Number"), h("dd", { class: "lead-number" }, lead.number)];
    for (const [k, v] of Object.entries(lead.fields || {})) rows.push(h("dt", {}, label(k)), h("dd", { dataset: { field: k } }, v));
    rows.push(h("dt", {}, "Time zone"), h("dd", {}, (lead.time_zones || []).join(", ") || "—"));
    rows.push(h("dt", {}, "Attempts"), h("dd", {}, String(lead.attempts ?? 0)));
    return h("dl", { class: "fields lead-fields" }, rows);
  }

  previewCard() {
    const p = this.preview;
    if (!p) return null;
    const reason = this.keep(h("input", { id: "skip-reason", placeholder: "why skip (e.g. asked for e-mail)", maxlength: 200 }));
    const never = this.keep(h("input", { type: "checkbox", id: "skip-final" }));
    return h("div", { class: "preview-card", id: "preview-card", dataset: { lead: p.lead.id } },
      h("h3", {}, `Preview · ${p.campaign}`),
      this.leadFields(p.lead),
      p.auto_dial_at ? h("p", { class: "muted" }, "Dials by itself if you do nothing.") : null,
      h("div", { class: "button-row" },
        h("button", { type: "button", class: "primary", id: "preview-dial", onclick: () => this.act("/api/campaign-desk/preview/dial") }, "Dial"),
        reason,
        h("label", {}, never, " never call"),
        h("button", { type: "button", id: "preview-skip", onclick: () => {
          if (!reason.value.trim()) return toast("Say why you skip this lead");
          this.act("/api/campaign-desk/preview/skip", { reason: reason.value.trim(), final: never.checked });
        } }, "Skip")));
  }

  callCard() {
    const c = this.call;
    if (!c) return null;
    const zone = (c.lead.time_zones || [])[0] || "UTC";
    const outcome = this.keep(select({ id: "campaign-outcome", "aria-label": "Outcome" }, [["", "Choose an outcome…"], ...c.outcomes.map((o) => [o.code, o.label])], ""));
    const cbDate = this.keep(h("input", { type: "datetime-local", id: "callback-at", step: 1 }));
    const cbMine = this.keep(h("input", { type: "checkbox", id: "callback-mine", checked: true }));
    const dnc = this.keep(h("input", { type: "checkbox", id: "wrap-dnc" }));
    const form = h("form", { class: "campaign-wrapup", id: "campaign-wrapup", onsubmit: (e) => {
      e.preventDefault();
      if (!outcome.value) return toast("Choose an outcome");
      const body = { attempt_id: c.attempt_id, outcome: outcome.value, dnc: dnc.checked };
      if (cbDate.value) Object.assign(body, { callback_at: cbDate.value, callback_mine: cbMine.checked });
      this.act("/api/campaign-desk/wrapup", body, () => { this.call = null; toast("Call coded", "ok"); });
    } },
      h("div", { class: "form-grid" },
        h("label", { for: "campaign-outcome" }, "Outcome"), outcome,
        h("label", { for: "callback-at" }, "Call back at"), h("span", {}, cbDate, h("span", { class: "muted small-text" }, ` the lead's time: ${zone}`)),
        h("label", { for: "callback-mine" }, "Callback for me"), cbMine,
        h("label", { for: "wrap-dnc" }, "Do not call again"), dnc),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "campaign-wrapup-submit" }, "Save outcome")));
    return h("div", { class: "campaign-call", id: "campaign-call", dataset: { attempt: c.attempt_id, lead: c.lead.id } },
      h("h3", {}, `${c.campaign} · `, c.ended ? "call ended: code it" : h("span", {}, "connected ", c.at ? sinceSpan(c.at) : null)),
      this.leadFields(c.lead),
      c.ended ? null : h("div", { class: "button-row" },
        h("button", { type: "button", class: "danger", id: "campaign-hangup", onclick: () => this.act("/api/campaign-desk/hangup") }, "Hang up"),
        h("button", { type: "button", id: "campaign-dnc", onclick: () => this.act("/api/campaign-desk/dnc", {}, () => toast("Number added to the do-not-call list", "ok")) }, "Do not call this number")),
      form);
  }

  dialForm() {
    const s = this.state;
    if (!s.campaigns.length) return null;
    const number = this.keep(h("input", { id: "manual-number", placeholder: "number to dial", autocomplete: "off" }));
    const which = select({ id: "manual-campaign", "aria-label": "Through campaign" }, s.campaigns, s.campaign || s.campaigns[0]);
    return h("form", { class: "transfer", onsubmit: (e) => { e.preventDefault(); this.dial(number.value, which.value); } },
      h("span", { class: "muted" }, "Dial by hand"), number, which,
      h("button", { type: "submit", id: "manual-dial" }, "Dial"));
  }

  async dial(number, campaign) {
    if (!number.trim()) return toast("Give a number");
    await this.act("/api/campaign-desk/dial", { number: number.trim(), campaign }, () => {
      delete this.draft["manual-number"];
      toast(`Dialling ${number}`, "ok");
    });
  }

  clickToCall(event) {
    const target = event.target.closest && event.target.closest("[data-dial]");
    if (!target || !this.state || !this.state.campaigns.length) return;
    event.preventDefault();
    this.dial(target.dataset.dial, this.state.campaign || this.state.campaigns[0]);
  }

  async setLine(on) {
    try {
      this.state = await post("/api/campaign-desk/line", { enabled: on });
    } catch (err) {
      toast(err.message);
    }
    this.render();
  }

  async act(path, body = {}, done) {
    try {
      await post(path, body);
      if (done) done();
    } catch (err) {
      toast(err.message);
    }
    this.render();
  }
}
